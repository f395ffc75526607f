"""Which epoch is the best one: the validation measure a task is judged by (`Task.monitored`).

The best-model checkpoint keeps the best epoch by it, early stopping waits on it, the summary and
`metrics.json` name the kept epoch by it, and a resumed run replays it from `history.csv` (whose
values are written with `repr`, so the replay compares the very numbers the first process saw).

Most tasks are judged by their validation loss (`VAL_LOSS`). A classifier is judged by its
validation accuracy, ties broken by the lower validation loss (`VAL_ACCURACY`): the loss goes on
rising with a few confidently wrong texts while more texts come out right, and keeping the epoch
of the lowest loss keeps an epoch that labels fewer texts right.

Light (no TensorFlow at import): the task classes declare theirs when they are defined.

Example:

```python
history = {"epoch": [1, 2, 3], "val_loss": [0.30, 0.32, 0.31], "val_accuracy": [0.91, 0.93, 0.93]}
VAL_ACCURACY.best_epoch(history)   # 3: as accurate as epoch 2, with a lower loss
VAL_LOSS.best_epoch(history)       # 1
```
"""

from __future__ import annotations

import dataclasses
import math
from typing import Mapping, Sequence

Rank = tuple  # lower is better; compared as tuples


@dataclasses.dataclass(frozen=True)
class Monitored:
    """A validation measure that orders epochs.

    Attributes:
      key: the history column (Keras's log name): `"val_loss"`, `"val_accuracy"`.
      label: the measure in words, for the summary.
      higher_is_better: True for an accuracy, False for a loss.
      tie_break: a column whose lower value wins between epochs equal on `key`; None: the earlier
        epoch stays best.
    """

    key: str
    label: str
    higher_is_better: bool = False
    tie_break: str | None = None

    def rank(self, logs: Mapping[str, float]) -> Rank | None:
        """The ordering key of one epoch's logs, lower is better; None when the measure is missing
        or not finite (such an epoch is never the best, as Keras's comparisons with NaN)."""
        value = float(logs.get(self.key, math.nan))
        if not math.isfinite(value):
            return None
        first = -value if self.higher_is_better else value
        if self.tie_break is None:
            return (first,)
        second = float(logs.get(self.tie_break, math.nan))
        return (first, second if math.isfinite(second) else math.inf)

    @staticmethod
    def improves(rank: Rank | None, best: Rank | None) -> bool:
        """True when an epoch of `rank` is better than the best so far (`best`, None: no epoch yet)."""
        return rank is not None and (best is None or rank < best)

    def ranks(self, history: Mapping[str, Sequence[float]]) -> list[Rank | None]:
        """The rank of every epoch of `history` (columns, as `run_dir.read_history` gives them)."""
        columns = [key for key in (self.key, self.tie_break) if key is not None and key in history]
        return [self.rank({key: history[key][row] for key in columns}) for row in range(len(history.get("epoch", [])))]

    def best_rank(self, history: Mapping[str, Sequence[float]]) -> Rank | None:
        """The best rank of `history`, None if no epoch has a finite measure."""
        best = None
        for rank in self.ranks(history):
            if self.improves(rank, best):
                best = rank
        return best

    def best_epoch(self, history: Mapping[str, Sequence[float]]) -> int:
        """The epoch (from 1) the checkpoint keeps: the first of the best rank; the last epoch if
        no epoch has a finite measure."""
        best, kept = None, None
        for epoch, rank in zip(history["epoch"], self.ranks(history)):
            if self.improves(rank, best):
                best, kept = rank, int(epoch)
        return kept if kept is not None else int(history["epoch"][-1])

    def kept(self, history: Mapping[str, Sequence[float]]) -> str:
        """Which epoch was kept and why, for the run's summary; with another measure than the
        validation loss, also the epoch the loss alone would have kept when it differs."""
        epoch = self.best_epoch(history)
        if self == VAL_LOSS:
            return f"best validation loss at epoch {epoch}"
        ranks = self.ranks(history)
        row = list(history["epoch"]).index(epoch)
        if ranks[row] is None:
            return f"kept epoch {epoch}, the last: no epoch had a finite {self.label}"
        value = history[self.key][row]
        shown = f"{value:.1%}" if self.higher_is_better else f"{value:.4f}"
        text = f"kept epoch {epoch}, of the {'highest' if self.higher_is_better else 'lowest'} {self.label} ({shown}"
        tied = [int(other) for other, rank in zip(history["epoch"], ranks)
                if other != epoch and rank is not None and rank[0] == ranks[row][0]]
        if tied and self.tie_break is not None:
            text += (f", as epoch{'s' if len(tied) > 1 else ''} {_listed(tied)}, kept for its lower "
                     f"{self.tie_break.replace('val_', 'validation ')}")
        text += ")"
        by_loss = VAL_LOSS.best_epoch(history) if "val_loss" in history else epoch
        if by_loss != epoch:
            text += f"; the validation loss alone would have kept epoch {by_loss}"
        return text

    def as_metrics(self, history: Mapping[str, Sequence[float]]) -> dict:
        """What `metrics.json` adds about the choice: nothing for the validation loss; else the
        measure (`kept_by`) and the epoch the loss alone would have kept (`best_loss_epoch`)."""
        if self == VAL_LOSS:
            return {}
        by_loss = VAL_LOSS.best_epoch(history) if "val_loss" in history else None
        return {"kept_by": self.key, "best_loss_epoch": by_loss}


def _listed(numbers: list[int]) -> str:
    return ", ".join(map(str, numbers[:-1])) + (" and " if len(numbers) > 1 else "") + str(numbers[-1])


VAL_LOSS = Monitored("val_loss", "validation loss")
VAL_ACCURACY = Monitored("val_accuracy", "validation accuracy", higher_is_better=True, tie_break="val_loss")
