"""Where TensorFlow runs, and how quietly it starts.

`select_device` picks the CPU or a GPU and the dtype policy before any model is built.
`import_tensorflow_quietly` imports TensorFlow with its C++ start-up lines ("All log messages
before absl::InitializeLog() …", "oneDNN custom operations are on …", "Could not find cuda drivers
…") kept off the terminal: C++ writes them to file descriptor 2 before `TF_CPP_MIN_LOG_LEVEL` is
read, at every level, so they can only be kept out by pointing that descriptor elsewhere while
TensorFlow loads. `TF_CPP_MIN_LOG_LEVEL` is read by its value, as TensorFlow reads it: unset or 1
and up hides them (unset becomes 3; a user's 1 or 2 stays, for what TensorFlow logs later), 0 (or
`--verbose`) shows everything.

Example:

```python
import_tensorflow_quietly()
select_device("cpu")
```
"""

from __future__ import annotations

import logging
import os
import re
import sys

from kerasrnn.errors import UserInputError

logger = logging.getLogger(__name__)

DEVICES = ("auto", "cpu", "gpu")
TF_LOG_LEVEL_VARIABLE = "TF_CPP_MIN_LOG_LEVEL"
_announced = None  # the (device, mixed precision) `select_device` said last


def import_tensorflow_quietly(verbose: bool = False) -> None:
    """Imports TensorFlow (and tensorflow-datasets' logging) without the C++ start-up lines.

    With `verbose`, or `TF_CPP_MIN_LOG_LEVEL` at 0, nothing is hidden. Unset, it is set to 3;
    a value the user gave is kept.
    """
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        raise UserInputError(
            "this command needs TensorFlow, which is not installed: pip install -r requirements.txt "
            "(or pip install 'kerasrnn[app]')"
        )
    level = tensorflow_log_level()
    if verbose or (level is not None and level <= 0) or "tensorflow" in sys.modules:
        import tensorflow  # noqa: F401
        return
    if level is None:
        os.environ[TF_LOG_LEVEL_VARIABLE] = "3"
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
            import tensorflow  # noqa: F401
            import tensorflow_datasets  # noqa: F401 - its import prints the same lines again
    finally:
        os.dup2(saved, 2)
        os.close(saved)
    # tfds announces and draws progress bars while it prepares a dataset the first time.
    tensorflow_datasets.disable_progress_bar()
    logging.getLogger("absl").setLevel(logging.WARNING)


def tensorflow_log_level() -> int | None:
    """`TF_CPP_MIN_LOG_LEVEL` as TensorFlow's C++ reads it, so that both hide the same: an integer,
    spaces around it allowed; anything else (empty, `1.5`, a word) is 0 there, which logs
    everything. None when unset."""
    value = os.environ.get(TF_LOG_LEVEL_VARIABLE)
    if value is None:
        return None
    return int(value) if re.fullmatch(r"\s*[+-]?\d+\s*", value) else 0


def select_device(device: str = "auto", *, mixed_precision: bool = False) -> str:
    """Chooses where TensorFlow runs, and the dtype policy; returns `"cpu"` or `"gpu"`.

    Call before building any model. `"cpu"` hides the GPUs (when TensorFlow has not used them yet);
    `"gpu"` needs one; `"auto"` takes a GPU when there is one. Mixed precision (`mixed_float16`) is
    set process-wide for a GPU run and reset to `float32` otherwise.

    Raises:
      UserInputError: unknown device, `"gpu"` without a GPU, mixed precision without a GPU.
    """
    import keras
    import tensorflow as tf

    if device not in DEVICES:
        raise UserInputError(f"unknown device {device!r}: choose one of {', '.join(DEVICES)}")
    gpus = tf.config.list_physical_devices("GPU")
    if device == "gpu" and not gpus:
        raise UserInputError("--device gpu: TensorFlow sees no GPU on this machine; use --device cpu")
    if device == "cpu" and gpus:
        try:
            tf.config.set_visible_devices([], "GPU")
        except RuntimeError:  # The GPUs are initialised already: place ops on the CPU instead.
            logger.warning("GPUs already in use; running on the CPU by device placement only")
            tf.config.set_soft_device_placement(True)
    chosen = "gpu" if gpus and device != "cpu" else "cpu"
    if mixed_precision and chosen != "gpu":
        raise UserInputError("mixed precision needs a GPU (float16 is slow on a CPU): drop --mixed-precision")
    keras.mixed_precision.set_global_policy("mixed_float16" if mixed_precision else "float32")
    global _announced
    if _announced != (chosen, mixed_precision):  # the CLI and the run both select: one line, not two
        _announced = (chosen, mixed_precision)
        logger.info("Running on the %s%s", chosen.upper(), " with mixed precision" if mixed_precision else "")
    return chosen
