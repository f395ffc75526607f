"""The embedded `spelled_numbers` data: numbers in words in five languages, for classify and translate.

The tensorflow-datasets builder is `datasets/spelled_numbers/` (numbers 0…19,999 spelled by
`num2words` in en, fr, de, es, it; every number in exactly one of train / validation / test).
`load_spelled_numbers` prepares it on first use (about 20 s, no network) and returns plain Python
lists; the tasks derive their examples from them:

- language identification: `language_examples(rows)` → (text, language) pairs, five per number;
- translation: `translation_pairs(rows, "digits", "fr")` → (source, target) pairs, one per number.

Example:

```python
splits = load_spelled_numbers()
splits["train"][0]   # {"number": 0, "digits": "0", "en": "zero", "fr": "zéro", "de": "null", ...}
texts, languages = language_examples(splits["validation"])
```
"""

from __future__ import annotations

import os
from pathlib import Path

from kerasrnn.errors import UserInputError

NAME = "spelled_numbers"
SPLITS = ("train", "validation", "test")
LANGUAGES = ("en", "fr", "de", "es", "it")
FIELDS = ("digits",) + LANGUAGES


def builder(data_dir: str | os.PathLike | None = None):
    """The spelled_numbers tfds builder (not prepared yet); `data_dir` None: tfds's default."""
    from kerasrnn.data.tfds_builders import builder_class

    if data_dir is not None:
        data_dir = os.fspath(Path(data_dir).expanduser())
    return builder_class(NAME)(data_dir=data_dir)


def load_spelled_numbers(data_dir: str | os.PathLike | None = None) -> dict[str, list[dict]]:
    """Every split of spelled_numbers as lists of dicts, numbers in increasing order.

    Each dict has `number` (int), `digits` and one key per language of `LANGUAGES` (str). Builds the
    dataset into `data_dir` first if needed.
    """
    import tensorflow_datasets as tfds

    from kerasrnn.data.tfds_builders import prepare

    spelled = builder(data_dir)
    prepare(spelled)
    splits = {}
    for split in SPLITS:
        dataset = spelled.as_dataset(split=split, shuffle_files=False)
        splits[split] = [
            {"number": int(row["number"]), **{key: row[key].decode("utf-8") for key in FIELDS}}
            for row in tfds.as_numpy(dataset)
        ]
    return splits


def language_examples(rows: list[dict], languages=LANGUAGES) -> tuple[list[str], list[str]]:
    """`(texts, labels)`: each row's spelling in each of `languages`, labelled by its code."""
    texts, labels = [], []
    for row in rows:
        for language in languages:
            texts.append(row[language])
            labels.append(language)
    return texts, labels


def translation_pairs(rows: list[dict], source: str, target: str) -> list[tuple[str, str]]:
    """`(source text, target text)` per row; `source`, `target` from `FIELDS` (e.g. `"digits"`, `"fr"`)."""
    for field in (source, target):
        if field not in FIELDS:
            raise UserInputError(f"unknown spelled_numbers field {field!r}: choose one of {', '.join(FIELDS)}")
    return [(row[source], row[target]) for row in rows]
