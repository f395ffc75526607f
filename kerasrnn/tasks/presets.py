"""Defaults chosen by the kind of data: the settings a user leaves out (None) take the values of the
preset that fits the data, once, when the frozen config is made.

A toy source (spelled_numbers) is learned by a small character model in a minute; real text needs
words, a bidirectional network and regularisation. The translate and classify tasks each keep
their presets next to their config (`translate.config`, `classify.task`) and fill them so.

Light: no TensorFlow at import (the CLI reads the presets for `--help`).

Example:

```python
@dataclasses.dataclass(frozen=True)
class TaggerConfig:
    units: int | None = None
    data: str = "toy"

    def __post_init__(self):
        fill_preset(self, {"units": 32} if self.data == "toy" else {"units": 256})
```
"""

from __future__ import annotations

from typing import Any, Mapping


def fill_preset(config, preset: Mapping[str, Any]) -> None:
    """Sets each setting of the frozen dataclass `config` that is still None to `preset`'s value.

    Args:
      config: a frozen dataclass instance, in its `__post_init__` (before its checks).
      preset: setting name → the value it takes when the user left it out.
    """
    for name, value in preset.items():
        if getattr(config, name) is None:
            object.__setattr__(config, name, value)  # frozen: filled once, at construction
