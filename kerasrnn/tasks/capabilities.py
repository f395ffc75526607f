"""What a task can do besides what every task does (`kerasrnn.tasks.base.Task`), declared by inheriting.

A task that can do one of these things inherits the class that names it next to `Task` and
implements its methods. The CLI and the engine ask `capable(task, Classifies)`, or `require(…)`,
which answers a task that cannot in one line ("RUN holds a copy run, which cannot classify texts");
they never call a method a task does not have.

| capability         | methods                       | declared by          |
| ------------------ | ----------------------------- | -------------------- |
| `Generates`        | `generate`, `generate_stream` | charlm               |
| `Classifies`       | `classify`                    | classify             |
| `Translates`       | `translate`                   | translate            |
| `ScoresWholeFiles` | `whole_data`                  | classify, translate  |
| `Finishes`         | `finish`                      | charlm               |

Example:

```python
class CharLMTask(Task, Generates, Finishes):
    ...

task = task_of_run(run_dir)
print(require(task, Generates, run_dir).generate(run_dir, "The ", 200))
```
"""

from __future__ import annotations

from pathlib import Path

from kerasrnn.errors import UserInputError


class Generates:
    """Samples text after a prompt (a language model)."""

    cannot = "generate text"  # what `require` says a task that lacks it cannot do

    def generate(self, run_dir: Path, prompt: str, length: int, **options):
        """Text sampled after `prompt` by a run's best model."""
        raise NotImplementedError

    def generate_stream(self, run_dir: Path, prompt: str, length: int, **options):
        """The text of `generate` in pieces, as they are drawn."""
        raise NotImplementedError


class Classifies:
    """Labels texts."""

    cannot = "classify texts"

    def classify(self, run_dir: Path, texts, **options) -> list:
        """The label of each text, by a run's best model."""
        raise NotImplementedError


class Translates:
    """Translates texts."""

    cannot = "translate texts"

    def translate(self, run_dir: Path, texts, **options) -> list[str]:
        """The translation of each text, by a run's best model."""
        raise NotImplementedError


class ScoresWholeFiles:
    """Scores a file given to `evaluate --data` whole, every split being all of it, rather than
    cutting it like training data."""

    def whole_data(self, config):
        """The data of `config` (which reads the given file) whole; None where `config.data` names a
        source, which `load_data` cuts as in training. Read before the device is chosen: a bad file
        is one line before anything else."""
        raise NotImplementedError


class Finishes:
    """Does something with the best model once training ends (the character model's sample)."""

    def finish(self, model, config, train_config, prepared, run_dir: Path) -> list[str]:
        """What is done after training; returns lines for the summary."""
        raise NotImplementedError


def capable(task, capability: type) -> bool:
    """Whether `task` declares `capability` (one of the classes above)."""
    return isinstance(task, capability)


def require(task, capability: type, run_dir: Path):
    """`task`, if it declares `capability`; else UserInputError saying that the run in `run_dir`
    cannot do it."""
    if not capable(task, capability):
        raise UserInputError(f"{run_dir} holds a {task.name} run, which cannot {capability.cannot}")
    return task
