"""Every number of a range, in every language, through a classify run: what a user types first.

The test split of spelled_numbers says how well a model does on numbers it never saw, drawn over
0…19,999; a user types "one", "twenty", "trois cent deux". `check_numbers(task, run, "0-999")`
spells each number of the range with num2words in each language of the run's classes, labels
every text with the run's model (in batches) and reports the accuracy per magnitude band and per
language. A text that is the same in two languages (Spanish and Italian "uno", English and
Italian "zero") has no single right answer: such texts are reported apart, with the language the
model gave, and left out of the accuracy.

Example:

```python
report = check_numbers(ClassifyTask(), Path("runs/lang"), "0-999")
print(report.summary())   # accuracy per band, per language, the shared texts, the first mistakes
```
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from kerasrnn.data import spelled_numbers
from kerasrnn.engine.run_dir import check_run_dir
from kerasrnn.errors import UserInputError
from kerasrnn.fileio import write_json

MISTAKES_SHOWN = 10


@dataclasses.dataclass(frozen=True)
class NumbersCheck(spelled_numbers.RangeCheck):
    """The answers of a classify run on every number of `first`…`last` in every language: `bands`
    count texts of one language only, `mistakes` are (number, language, text, the language the
    model gave)."""

    languages: tuple = ()  # (language, right, total), texts of one language only
    shared: tuple = ()  # (text, its languages, the language the model gave), one per distinct text

    def summary(self) -> str:
        lines = [
            f"Numbers {self.first}–{self.last} in {len(self.languages)} languages: {self.right:,} of "
            f"{self.total:,} texts right ({self.right / max(1, self.total):.2%}); {len(self.shared)} texts "
            f"that are the same in two languages apart",
            *spelled_numbers.band_table(self.bands),
            "| language | accuracy | texts |",
            "| --- | ---: | ---: |",
        ]
        for language, right, total in self.languages:
            lines.append(f"| {language} | {right / max(1, total):.2%} | {total:,} |")
        if self.shared:
            lines.append("The same in two languages (the model's answer): " + ", ".join(
                f"{text!r} {'/'.join(languages)} → {answer}" for text, languages, answer in self.shared))
        lines += self.mistake_lines(lambda number, language, text, answer: f"{number} {language} {text!r} → {answer}")
        return "\n".join(lines)

    def as_metrics(self) -> dict:
        return self.range_metrics("accuracy") | {
            "languages": [{"language": language, "right": right, "total": total}
                          for language, right, total in self.languages],
            "shared": [{"text": text, "languages": list(languages), "answer": answer}
                       for text, languages, answer in self.shared],
        }


def check_numbers(task, run_dir: Path, numbers: str, *, device: str = "auto") -> NumbersCheck:
    """Checks the classify run in `run_dir` on every number of the range `numbers` ("FIRST-LAST") in
    every language of its classes; writes `evaluation_numbers_FIRST-LAST.json` in it.

    Raises:
      UserInputError: a bad range; not a classify run; a run whose classes are not languages of
        spelled_numbers.
    """
    from kerasrnn.engine.devices import select_device
    from kerasrnn.tasks.classify.model import predict_probabilities

    first, last = spelled_numbers.parse_range(numbers)
    config, _ = task.load_configs(run_dir)
    check_run_dir(run_dir)
    select_device(device)
    model = task.load_model(run_dir)
    vectorizer, class_names = task.load_vectorizer(run_dir, config)
    languages = [name for name in class_names if name in spelled_numbers.LANGUAGES]
    if not languages:
        raise UserInputError(f"{run_dir} labels {', '.join(class_names)}, not languages of spelled_numbers: "
                             f"--numbers checks a run trained on spelled_numbers")
    examples = [(number, language, spelled_numbers.spell(number, language))
                for number in range(first, last + 1) for language in languages]
    languages_of: dict[str, set] = {}
    for _, language, text in examples:
        languages_of.setdefault(text, set()).add(language)
    distinct = list(languages_of)
    probabilities = predict_probabilities(model, vectorizer, distinct, config.max_length)
    answer = {text: class_names[int(row.argmax())] for text, row in zip(distinct, probabilities)}
    single = [(number, language, text) for number, language, text in examples if len(languages_of[text]) == 1]
    correct = [answer[text] == language for _, language, text in single]
    bands = spelled_numbers.band_accuracies([number for number, _, _ in single], correct)
    per_language = tuple(
        (language, sum(ok for (_, lang, _), ok in zip(single, correct) if lang == language),
         sum(lang == language for _, lang, _ in single))
        for language in languages)
    shared = tuple((text, tuple(sorted(languages_of[text])), answer[text])
                   for text in distinct if len(languages_of[text]) > 1)
    mistakes = [(number, language, text, answer[text])
                for (number, language, text), ok in zip(single, correct) if not ok]
    report = NumbersCheck(first, last, bands, tuple(mistakes[:MISTAKES_SHOWN]), len(mistakes),
                          languages=per_language, shared=shared)
    write_json(Path(run_dir) / f"evaluation_numbers_{first}-{last}.json", report.as_metrics())
    return report
