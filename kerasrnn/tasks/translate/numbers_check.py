"""Every number of a range through a translate run: what a user types first.

The test split of spelled_numbers says how well a model translates numbers it never saw, drawn
over 0…19,999; a user types "one", "twenty", "ninety-seven". `check_numbers(task, run, "0-999")`
writes each number of the range in the source field of the run's pair (as the spelled_numbers
builder does: num2words, or digits), translates them all with the run's model (in batches, greedy
or a beam) and scores exact match against the target field, per magnitude band.

Example:

```python
report = check_numbers(TranslateTask(), Path("runs/fr"), "0-999")
print(report.summary())   # exact match per band, the first mistakes
```
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kerasrnn.data import spelled_numbers
from kerasrnn.data.sentence_pairs import parse_pair
from kerasrnn.engine.run_dir import check_run_dir
from kerasrnn.errors import UserInputError
from kerasrnn.fileio import write_json

MISTAKES_SHOWN = 10


@dataclasses.dataclass(frozen=True)
class NumbersCheck(spelled_numbers.RangeCheck):
    """The translations by a run of every number of `first`…`last`: `mistakes` are (number, source,
    reference, translation)."""

    pair: str = ""  # "source→target"
    beam_size: int = 1

    def summary(self) -> str:
        decoding = "greedy" if self.beam_size == 1 else f"beam search of width {self.beam_size}"
        lines = [f"Numbers {self.first}–{self.last}, {self.pair} ({decoding}): {self.right:,} of {self.total:,} "
                 f"translated exactly ({self.right / max(1, self.total):.2%})",
                 *spelled_numbers.band_table(self.bands, "numbers")]
        lines += self.mistake_lines(lambda number, source, reference, translation:
                                    f"{number} {source!r} → {translation!r} (reference {reference!r})")
        return "\n".join(lines)

    def as_metrics(self) -> dict:
        return {"pair": self.pair, "beam_size": self.beam_size} | self.range_metrics("exact_match")


def check_numbers(task, run_dir: Path, numbers: str, *, beam_size: int = 1, device: str = "auto") -> NumbersCheck:
    """Checks the translate run in `run_dir` on every number of the range `numbers` ("FIRST-LAST");
    writes `evaluation_numbers_FIRST-LAST.json` in it.

    Raises:
      UserInputError: a bad range or beam size; not a translate run; a run not trained on
        spelled_numbers.
    """
    first, last = spelled_numbers.parse_range(numbers)
    config, _ = task.load_configs(run_dir)
    check_run_dir(run_dir)
    if config.data != spelled_numbers.NAME:
        raise UserInputError(f"{run_dir} was trained on {config.data}, not spelled_numbers: --numbers checks "
                             f"a run trained on spelled_numbers")
    source_field, target_field = parse_pair(config.pair)
    numbers_checked = range(first, last + 1)
    sources = [spelled_numbers.spell(number, source_field) for number in numbers_checked]
    references = [spelled_numbers.spell(number, target_field) for number in numbers_checked]
    translations = task.translate(run_dir, sources, beam_size=beam_size, device=device)
    correct = [translation == reference for translation, reference in zip(translations, references)]
    mistakes = [(number, source, reference, translation) for number, source, reference, translation, ok
                in zip(numbers_checked, sources, references, translations, correct) if not ok]
    report = NumbersCheck(first, last, spelled_numbers.band_accuracies(numbers_checked, correct),
                          tuple(mistakes[:MISTAKES_SHOWN]), len(mistakes),
                          pair=f"{source_field}→{target_field}", beam_size=beam_size)
    write_json(Path(run_dir) / f"evaluation_numbers_{first}-{last}.json", report.as_metrics())
    return report
