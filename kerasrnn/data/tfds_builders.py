"""The tensorflow-datasets builders kept with kerasrnn, loaded by file path.

Each builder lives in `datasets/<name>/<name>_dataset_builder.py` (the `tfds new` layout) of a
checkout, which the wheel carries as package data in `kerasrnn/datasets/`; `builder_dir` finds it in
either. It is imported from that file under a private module name
(`kerasrnn_<name>_dataset_builder`), never as `datasets.<name>`, so importing it neither depends on
the working directory nor collides with Hugging Face's `datasets`, and tfds registers the dataset
name once per process.

Example:

```python
builder = builder_class("spelled_numbers")(data_dir="~/tensorflow_datasets")
builder.download_and_prepare()
```
"""

from __future__ import annotations

import contextlib
import importlib.resources
import io
import logging
import importlib.util
import os
import sys
from pathlib import Path

from kerasrnn.errors import UserInputError

logger = logging.getLogger(__name__)

# The folder of the imported `kerasrnn` package: site-packages/kerasrnn when installed, the
# checkout's kerasrnn/ for `python cli.py` and `pip install -e .`.
PACKAGE_DIR = Path(os.fspath(importlib.resources.files("kerasrnn")))


def _checkout_dir() -> Path | None:
    """The checkout that `kerasrnn` is imported from, or None for an installed package.

    A checkout has pyproject.toml beside kerasrnn/, and no kerasrnn/datasets/ (only a built wheel
    maps the top-level `datasets/` there).
    """
    root = PACKAGE_DIR.parent
    if (root / "pyproject.toml").is_file() and not (PACKAGE_DIR / "datasets").is_dir():
        return root
    return None


def builder_dir(name: str) -> Path:
    """The folder of dataset `name`'s builder, with its README, citation and tags.

    `kerasrnn/datasets/<name>/` of an installed kerasrnn (`pip install .`, a wheel); the top-level
    `datasets/<name>/` of a checkout (`python cli.py`, `pip install -e .`).
    """
    checkout = _checkout_dir()
    return (PACKAGE_DIR if checkout is None else checkout) / "datasets" / name


def prepare(builder) -> None:
    """`builder.download_and_prepare()`, with a folder that cannot be written (read-only, a file
    in the way, a full disk) reported in one line naming it.

    tfds prints "Downloading and preparing dataset Unknown size …" to stdout whatever the log level;
    our builders download nothing, so one line of ours says what happens instead.
    """
    import tensorflow as tf

    # Not `builder.is_prepared()`: it logs a warning about the folder it is about to fill.
    if not tf.io.gfile.exists(os.path.join(builder.data_dir, "dataset_info.json")):
        logger.info("Preparing the %s dataset in %s (once: later runs read it from there)",
                    builder.name, builder.data_dir)
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            builder.download_and_prepare()
    except (OSError, tf.errors.OpError) as error:
        cause = getattr(error, "strerror", None) or getattr(error, "message", None) or str(error)
        raise UserInputError(
            f"cannot prepare the {builder.name} dataset in {builder.data_dir}: "
            f"{cause.strip().splitlines()[0] if cause.strip() else type(error).__name__}; choose "
            f"another --data-dir"
        ) from None


def builder_class(name: str, *, hint: str = "") -> type:
    """Returns the `Builder` class of `builder_dir(name)`, importing its module once per process.

    Args:
      name: the dataset's name (also its folder's and its builder file's prefix).
      hint: added to the error message, e.g. `", or choose another corpus"`.

    Raises:
      UserInputError: the builder file is missing (from the checkout, or from the installed
        package).
    """
    builder_file = builder_dir(name) / f"{name}_dataset_builder.py"
    if not builder_file.is_file():
        checkout = _checkout_dir()
        if checkout is None:
            remedy = f"reinstall kerasrnn, or restore {builder_file.parent}"
        else:
            remedy = f"restore the datasets/ folder of the kerasrnn checkout {checkout}"
        raise UserInputError(
            f"the {name} dataset builder {builder_file} is missing: {remedy}{hint}"
        )
    module_name = f"kerasrnn_{name}_dataset_builder"
    module = sys.modules.get(module_name)
    if module is not None:
        return module.Builder

    import tensorflow_datasets as tfds  # Imported here: TensorFlow is slow to import.

    try:  # Registered already by another import of the same file (e.g. `tfds build`).
        return tfds.builder_cls(name)
    except tfds.core.DatasetNotFoundError:
        pass
    spec = importlib.util.spec_from_file_location(module_name, builder_file)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[module_name]
        raise
    return module.Builder
