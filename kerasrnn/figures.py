"""The one way kerasrnn draws a figure: matplotlib without a display, saved as a PNG atomically.

`png_figure(path, …)` gives a new figure and its axes; when the block ends without an error the
figure is laid out tightly and written to `path` through `kerasrnn.fileio.replace_atomically` (a
reader never sees half a picture), and it is closed in any case. matplotlib is imported only here,
when a figure is drawn, with the Agg backend, so that no command needs a display.

Example:

```python
with png_figure(run_dir / "learning_curves.png", figsize=(6, 4), dpi=100) as (figure, axis):
    axis.plot(epochs, losses)
```
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from kerasrnn.fileio import replace_atomically


@contextlib.contextmanager
def png_figure(path: Path, **subplots):
    """Yields `(figure, axes)` of `matplotlib.pyplot.subplots(**subplots)`, then saves the figure as
    a PNG at `path` atomically and closes it.

    Raises:
      OSError: the PNG cannot be written (named after `path`); a file already at `path` is left as it was.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(**subplots)
    try:
        yield figure, axes
        figure.tight_layout()
        replace_atomically(Path(path), lambda temporary: figure.savefig(os.fspath(temporary), format="png"))
    finally:
        plt.close(figure)
