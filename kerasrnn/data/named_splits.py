"""Files and folders named for the split they hold: `train*`, `dev*` / `valid*` / `validation*`, `test*`.

Data often come cut already: GLUE's `train.tsv`, `dev.tsv`, `test.tsv`; aclImdb's `train/` and
`test/`; `train.txt`, `valid.txt` of translation pairs. The loaders (`labelled_texts`,
`sentence_pairs`) use such files as their splits instead of cutting the data again, which would put
test sentences into training; a split without a file of its own is cut from the training data by
`splits.complete_splits`.

`SPLITS` is the one tuple of the three split names, in their order, for every loader;
`check_split` refuses any other name.

Example:

```python
split_named("dev_matched.tsv")   # "validation"
split_entries(Path("glue/SST-2"), suffixes=(".tsv",))
# {"train": [.../train.tsv], "validation": [.../dev.tsv], "test": [.../test.tsv]}
```
"""

from __future__ import annotations

from pathlib import Path

from kerasrnn.errors import UserInputError

SPLITS = ("train", "validation", "test")
# A file or folder whose name starts with one of these (case aside) holds that split.
SPLIT_PREFIXES = (("train", ("train",)), ("validation", ("dev", "valid")), ("test", ("test",)))


def check_split(name: str) -> str:
    """`name` if it is one of `SPLITS`; else UserInputError."""
    if name not in SPLITS:
        raise UserInputError(f"unknown split {name!r}: choose one of {', '.join(SPLITS)}")
    return name


def split_named(name: str) -> str | None:
    """The split a file or folder name stands for (`train.tsv` → train, `dev_matched.tsv` → validation,
    `validation/` → validation, `test.csv` → test), or None."""
    lowered = name.lower()
    for split, prefixes in SPLIT_PREFIXES:
        if lowered.startswith(prefixes):
            return split
    return None


def split_entries(folder: Path, *, suffixes: tuple[str, ...] | None = None,
                  folders: bool = True) -> dict[str, list[Path]]:
    """The files (those ending in one of `suffixes`, case aside, or any) and, with `folders`, the
    folders of `folder` named for a split, by split, sorted; hidden ones left out."""
    named = {}
    for entry in sorted(p for p in folder.iterdir() if not p.name.startswith(".")):
        wanted_file = entry.is_file() and (suffixes is None or entry.suffix.lower() in suffixes)
        if not (wanted_file or (folders and entry.is_dir())):
            continue
        split = split_named(entry.name)
        if split is not None:
            named.setdefault(split, []).append(entry)
    return named
