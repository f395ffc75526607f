"""Simple features of a text, one value per character, that a unit of a character model may track.

`text_features(text)` gives, for every character `text[t]`, the value of each feature as the model
has it after reading `text[t]` (the state `unit_traces` records at t):

| feature            | value at character t                                                       |
| ------------------ | -------------------------------------------------------------------------- |
| `inside_quotes`    | 1 from an opening `"` or `'` through its closing quote, else 0; an open     |
|                    | quote ends at the end of its line (a Python string does not span lines)     |
| `bracket_depth`    | `(`, `[`, `{` still open after t (a closing bracket is counted closed; the  |
|                    | depth never falls below 0)                                                  |
| `position_in_line` | characters before t on its line (0 for the first; a newline belongs to the  |
|                    | line it ends)                                                               |
| `after_newline`    | 1 if `text[t - 1]` is a newline, else 0                                     |
| `inside_word`      | 1 for a letter, digit or `_`, else 0                                        |
| `indentation`      | the width of the leading spaces of t's line (a tab counts 4); 0 on a blank  |
|                    | line                                                                        |
| `inside_code`      | 1 on a line of code: inside a ``` fence (the fences included), a doctest    |
|                    | line (`>>> `, `... `), or an indented line that is not blank (the code      |
|                    | blocks of python_docs, reST rendered as text, are indented), else 0         |

Pure Python and NumPy: no TensorFlow.

Example:

```python
features = text_features('f(x, "a")\n')
features["bracket_depth"]     # array([0., 1., 1., 1., 1., 1., 1., 1., 0., 0.])
```
"""

from __future__ import annotations

import re

import numpy as np

FEATURES = ("inside_quotes", "bracket_depth", "position_in_line", "after_newline", "inside_word",
            "indentation", "inside_code")
OPENING, CLOSING = "([{", ")]}"
QUOTES = "\"'"
TAB_WIDTH = 4


def text_features(text: str) -> dict[str, np.ndarray]:
    """Every feature of `FEATURES` for `text`: name → float32 array of `len(text)` values.

    Args:
      text: any string (empty gives empty arrays).

    Returns:
      A dict in the order of `FEATURES`.
    """
    size = len(text)
    quotes, depth, column, after = (np.zeros(size, np.float32) for _ in range(4))
    word = np.fromiter((c.isalnum() or c == "_" for c in text), np.float32, size)
    open_quote, open_brackets, position = None, 0, 0
    for t, character in enumerate(text):
        if open_quote is None and character in QUOTES:
            open_quote = character
            quotes[t] = 1
        elif open_quote is not None:
            quotes[t] = 1
            if character == open_quote:
                open_quote = None
        if character == "\n":
            open_quote = None
        if character in OPENING:
            open_brackets += 1
        elif character in CLOSING:
            open_brackets = max(0, open_brackets - 1)
        depth[t] = open_brackets
        column[t] = position
        after[t] = t > 0 and text[t - 1] == "\n"
        position = 0 if character == "\n" else position + 1
    indentation, code = _line_features(text)
    features = {"inside_quotes": quotes, "bracket_depth": depth, "position_in_line": column,
                "after_newline": after, "inside_word": word, "indentation": indentation, "inside_code": code}
    return {name: features[name] for name in FEATURES}


def _line_features(text: str) -> tuple[np.ndarray, np.ndarray]:
    """(indentation, inside_code) per character, from the line each character is on."""
    indentation, code = [], []
    fenced = False
    for line in re.findall(r"[^\n]*\n|[^\n]+$", text):  # lines ended by "\n" only, as position_in_line
        body = line.rstrip("\r\n")
        stripped = body.lstrip(" \t")
        leading = body[: len(body) - len(stripped)]
        width = 0 if not stripped else sum(TAB_WIDTH if c == "\t" else 1 for c in leading)
        fence = stripped.startswith("```")
        inside = fenced or fence or stripped.startswith((">>> ", "... ")) or stripped in (">>>", "...") \
            or (width > 0 and bool(stripped))
        if fence:
            fenced = not fenced
        indentation += [width] * len(line)
        code += [float(inside)] * len(line)
    return np.asarray(indentation, np.float32).reshape(-1), np.asarray(code, np.float32).reshape(-1)
