"""`NetworkConfig`: the settings of an embedding → stacked recurrent layers network, checked once.

The character model, the classifier and the translator all read tokens through an embedding into
one or more recurrent layers of a named cell; their config classes subclass this one, add their own
fields after these, and may change a default by declaring the field again.

Example:

```python
@dataclasses.dataclass(frozen=True)
class TaggerConfig(NetworkConfig):
    units: int = 64            # another default
    tags: int = 17             # a field of its own

    def __post_init__(self):
        super().__post_init__()
        checks.positive_int("tags", self.tags)
```
"""

from __future__ import annotations

import dataclasses

from kerasrnn import checks
from kerasrnn.recurrent import check_cell_name


@dataclasses.dataclass(frozen=True)
class NetworkConfig:
    """Settings of the recurrent network.

    Attributes:
      cell: recurrent layer, one of `kerasrnn.recurrent.CELL_NAMES`.
      units: units per recurrent layer (complex units for `urnn`).
      layers: number of stacked recurrent layers.
      dropout: dropout rate while training (where it is applied is the task's choice).
      embedding_dim: size of the token embedding.
    """

    cell: str = "lstm"
    units: int = 128
    layers: int = 1
    dropout: float = 0.0
    embedding_dim: int = 64

    def __post_init__(self):
        check_cell_name(self.cell)
        for label, value in (("units", self.units), ("layers", self.layers), ("embedding dim", self.embedding_dim)):
            checks.positive_int(label, value)
        checks.rate("dropout", self.dropout)
