"""Export a run as a TensorFlow SavedModel that serves strings in and strings or numbers out.

`kerasrnn export RUN_DIR OUT_DIR` writes a SavedModel through `keras.export.ExportArchive`.
Its signatures take and return plain tensors; the preprocessing (the run's vocabulary lookups) and
the decoding are inside the graph, so loading it needs TensorFlow only, not kerasrnn (and, for a
translate run with subword tokens, TensorFlow Text's ops: `import tensorflow_text` first):

```python
import tensorflow as tf

exported = tf.saved_model.load("exports/charlm")
exported.signatures["generate"](prompt=tf.constant(["The "]), length=tf.constant(200),
                                temperature=tf.constant(0.8), seed=tf.constant(0))["text"]
```

A task that exports names a module as its `Task.exporter`, providing
`add_endpoints(task, run_dir, archive) -> dict[str, str]`: it loads the run, adds its endpoints to
the `ExportArchive` (the first one added is also `serving_default`) and returns each signature's
name with a one-line description.

The exporter loads the run through `task.load_model`, and gets a task whose `load_model` turns cuDNN
off in the model's recurrent layers (`TextbookLSTM`, `keras.layers.LSTM`, `keras.layers.GRU`:
`use_cudnn = False`): on a machine with a GPU those layers would otherwise trace `CudnnRNNV3`, an op
with no CPU kernel, into the SavedModel. The variables are the same on both paths, so the export
computes what the model computes, wherever it is loaded.

The command line finds the run's task (`kerasrnn.tasks.task_of_run`) and passes it in: the engine
never looks a task up. The export is written next to OUT_DIR under a temporary name, then renamed
into place (`kerasrnn.fileio.replace_folder_atomically`): a failed export leaves nothing behind,
and with `force` the previous export stays until the new one is complete.
"""

from __future__ import annotations

import copy
import dataclasses
import importlib
import os
from pathlib import Path

from kerasrnn.engine.run_dir import check_run_dir
from kerasrnn.errors import UserInputError
from kerasrnn.fileio import os_error_cause, replace_folder_atomically

SAVED_MODEL_FILE = "saved_model.pb"


@dataclasses.dataclass(frozen=True)
class ExportResult:
    """What `export_run` wrote: from which run, where, and its signatures (name → description)."""

    run_dir: Path
    out_dir: Path
    task: str
    signatures: dict[str, str]

    def summary(self) -> str:
        names = list(self.signatures)
        lines = [f"Exported the {self.task} run {self.run_dir} as a SavedModel in {self.out_dir}",
                 f"Signatures ({names[0]} is also serving_default):"]
        lines += [f"  {description}" for description in self.signatures.values()]
        return "\n".join(lines)


def export_run(task, run_dir: Path, out_dir: Path, *, force: bool = False) -> ExportResult:
    """Exports the best model of a run, with its preprocessing, as a SavedModel in `out_dir`.

    Args:
      task: the run's `kerasrnn.tasks.base.Task`, one with an `exporter`.
      run_dir: a run directory of `task`.
      out_dir: the SavedModel folder to write; new, empty, or (with `force`) an earlier export.
      force: replace the export in `out_dir`.

    Returns:
      An `ExportResult`.

    Raises:
      ValueError: `task` has no exporter (the command line says so to the user before calling).
      UserInputError: not a run directory; `out_dir` not empty without `force`, or with `force` not
        an export; `out_dir` holding the run.
    """
    if task.exporter is None:
        raise ValueError(f"the {task.name} task has no exporter")
    run_dir = check_run_dir(run_dir)
    out_dir = check_out_dir(out_dir, run_dir, force=force)
    import keras  # only now: the checks above answer at once

    exporter = importlib.import_module(task.exporter)
    archive = keras.export.ExportArchive()
    signatures = exporter.add_endpoints(tracing_without_cudnn(task), run_dir, archive)
    try:
        replace_folder_atomically(out_dir, lambda folder: archive.write_out(os.fspath(folder), verbose=False))
    except OSError as error:
        raise UserInputError(_write_failure(error, out_dir)) from None
    except Exception as error:  # TensorFlow reports a failed write as its own error types
        import tensorflow as tf

        if not isinstance(error, tf.errors.OpError):
            raise
        raise UserInputError(_write_failure(OSError(error.message), out_dir)) from None
    return ExportResult(run_dir, out_dir, task.name, signatures)


def tracing_without_cudnn(task):
    """A copy of `task` whose `load_model` returns the model with cuDNN off in every layer that has it
    (see the module docstring); the task's own methods that load the model use it too."""
    portable = copy.copy(task)
    portable.load_model = lambda run_dir: without_cudnn(task.load_model(run_dir))
    return portable


def without_cudnn(model):
    """`model`, with `use_cudnn = False` in each of its layers, at any depth, that may take cuDNN."""
    import keras

    from kerasrnn.layers import TextbookLSTM

    # `_flatten_layers` is how Keras itself walks nested layers (wrappers, models in models); there
    # is no public equivalent. `layers` would miss the LSTM inside `Bidirectional` and `CarriedState`.
    for layer in model._flatten_layers(include_self=True, recursive=True):
        if isinstance(layer, (TextbookLSTM, keras.layers.LSTM, keras.layers.GRU)):
            layer.use_cudnn = False
    return model


def _write_failure(error: OSError, out_dir: Path) -> str:
    cause = os_error_cause(error)
    before = "the export that was there is unchanged" if out_dir.exists() else "nothing was written"
    return f"{cause} while writing the export {out_dir}; {before}"


def check_out_dir(out_dir: Path, run_dir: Path, *, force: bool) -> Path:
    """Checks that an export may be written to `out_dir`; returns it.

    Raises:
      UserInputError: `out_dir` is a file; it is a non-empty folder and not `force`; with `force`
        it is a non-empty folder without `saved_model.pb` (never delete what is not an export);
        it is `run_dir` or a folder above it.
    """
    out_dir = Path(out_dir).expanduser()
    if out_dir.exists() and not out_dir.is_dir():
        raise UserInputError(f"{out_dir} is a file, not a folder: choose another export folder")
    existing = next(folder for folder in (out_dir.parent, *out_dir.parent.parents) if folder.exists())
    if not existing.is_dir():
        raise UserInputError(f"cannot write the export {out_dir}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise UserInputError(f"cannot write the export {out_dir}: the folder {existing} is not writable")
    if out_dir.resolve() in (run_dir.resolve(), *run_dir.resolve().parents):
        raise UserInputError(f"{out_dir} holds the run {run_dir}: choose another export folder")
    if out_dir.is_dir() and any(out_dir.iterdir()):
        if not force:
            raise UserInputError(
                f"{out_dir} exists and is not empty: add --force to replace the export in it, or "
                f"choose another folder"
            )
        if not (out_dir / SAVED_MODEL_FILE).is_file():
            raise UserInputError(
                f"{out_dir} is not a SavedModel (no {SAVED_MODEL_FILE}); --force replaces only an "
                f"earlier export: choose another folder"
            )
    return out_dir
