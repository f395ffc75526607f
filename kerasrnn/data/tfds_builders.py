"""The tensorflow-datasets builders kept in `datasets/<name>/`, loaded by file path.

Each builder lives in `datasets/<name>/<name>_dataset_builder.py` (the `tfds new` layout). It is
imported from that file under a private module name (`kerasrnn_<name>_dataset_builder`), never as
`datasets.<name>`, so importing it neither depends on the working directory nor collides with
Hugging Face's `datasets`, and tfds registers the dataset name once per process.

Example:

```python
builder = builder_class("spelled_numbers")(data_dir="~/tensorflow_datasets")
builder.download_and_prepare()
```
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from kerasrnn.errors import UserInputError

DATASETS_DIR = Path(__file__).resolve().parents[2] / "datasets"


def builder_dir(name: str) -> Path:
    """`datasets/<name>/` of the checkout."""
    return DATASETS_DIR / name


def prepare(builder) -> None:
    """`builder.download_and_prepare()`, with a folder that cannot be written (read-only, a file
    in the way, a full disk) reported in one line naming it."""
    import tensorflow as tf

    try:
        builder.download_and_prepare()
    except (OSError, tf.errors.OpError) as error:
        cause = getattr(error, "strerror", None) or getattr(error, "message", None) or str(error)
        raise UserInputError(
            f"cannot prepare the {builder.name} dataset in {builder.data_dir}: "
            f"{cause.strip().splitlines()[0] if cause.strip() else type(error).__name__}; choose "
            f"another --data-dir"
        ) from None


def builder_class(name: str, folder: Path | None = None, *, hint: str = "") -> type:
    """Returns the `Builder` class of `datasets/<name>/`, importing its module once per process.

    Args:
      name: the dataset's name (also its folder's and its builder file's prefix).
      folder: where the builder file is; default `builder_dir(name)`.
      hint: added to the error message, e.g. `", or choose another corpus"`.

    Raises:
      UserInputError: the builder file is missing from the checkout.
    """
    folder = builder_dir(name) if folder is None else Path(folder)
    builder_file = folder / f"{name}_dataset_builder.py"
    if not builder_file.is_file():
        raise UserInputError(
            f"the {name} dataset builder {builder_file} is missing: restore the datasets/ folder of "
            f"the kerasrnn checkout{hint}"
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
