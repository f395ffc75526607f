"""The few checks every setting goes through, each with the one-line message users see.

Config dataclasses call these in `__post_init__`; a failed check raises `UserInputError` naming the
setting and the value given, so the CLI (and any other caller) shows the same words everywhere.
`bool` is refused where an integer is asked for (`True` is an `int` in Python).

Example:

```python
positive_int("units", 128)             # 128
rate("dropout", 1.0)                   # UserInputError: dropout must be in [0, 1), got 1.0
```
"""

from __future__ import annotations

import math

from kerasrnn.errors import UserInputError


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def int_at_least(label: str, value, minimum: int) -> int:
    """`value` if it is an integer ≥ `minimum`."""
    if not _is_int(value) or value < minimum:
        raise UserInputError(f"{label} must be an integer of at least {minimum}, got {value!r}")
    return value


def positive_int(label: str, value) -> int:
    """`value` if it is an integer ≥ 1."""
    if not _is_int(value) or value < 1:
        raise UserInputError(f"{label} must be a positive integer, got {value!r}")
    return value


def int_in_range(label: str, value, low: int, high: int) -> int:
    """`value` if it is an integer in [low, high]."""
    if not _is_int(value) or not low <= value <= high:
        raise UserInputError(f"{label} must be an integer from {low} to {high}, got {value!r}")
    return value


def positive_float(label: str, value, *, optional: bool = False) -> float | None:
    """`value` if it is a finite number > 0 (or None when `optional`)."""
    if value is None and optional:
        return None
    if _is_int(value) or isinstance(value, float):
        if value > 0 and math.isfinite(value):
            return value
    suffix = " or None" if optional else ""
    raise UserInputError(f"{label} must be positive and finite{suffix}, got {value!r}")


def rate(label: str, value) -> float:
    """`value` if it is a number in [0, 1): a dropout rate."""
    if not (_is_int(value) or isinstance(value, float)) or not 0.0 <= value < 1.0:
        raise UserInputError(f"{label} must be in [0, 1), got {value!r}")
    return value


def one_of(label: str, value, choices) -> str:
    """`value` if it is one of `choices`."""
    if value not in choices:
        raise UserInputError(f"unknown {label} {value!r}: choose one of {', '.join(map(str, choices))}")
    return value


def non_empty_text(message: str, value) -> str:
    """`value` if it is a string with something other than spaces; else UserInputError(`message`)."""
    if not isinstance(value, str) or not value.strip():
        raise UserInputError(message)
    return value


def saved_list(path, values: list, *, what: str, first: tuple = (), at_least: int = 1, size: int | None = None) -> list:
    """`values` read from the run file `path` (a vocabulary, class names) if they can be what the run
    saved: they start with `first` (the special tokens), have at least `at_least` entries besides
    them, no entry twice, and, when `size` is given (the model's), exactly `size` entries.
    UserInputError naming the file otherwise: it is damaged, or was copied from another run.

    Args:
      what: what the entries are, for the message ("tokens", "classes").
    """
    problem = None
    if tuple(values[:len(first)]) != tuple(first):
        problem = f"it does not start with {', '.join(map(repr, first))}"
    elif len(values) - len(first) < at_least:
        problem = f"too few {what}{' besides the special ones' if first else ''} ({len(values) - len(first)})"
    else:
        seen = set()
        for value in values:
            if value in seen:
                problem = f"{value!r} appears twice"
                break
            seen.add(value)
    if problem is None and size is not None and len(values) != size:
        problem = f"{len(values):,} {what}, where the model has {size:,}"
    if problem is not None:
        raise UserInputError(f"{path} is damaged or belongs to another run ({problem}): train the run again")
    return values
