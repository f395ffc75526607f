"""The per-band report shared by classify and translate: spelled_numbers data carry their numbers,
and an evaluation's summary shows exact counts per magnitude band."""

import dataclasses

from kerasrnn.data.sentence_pairs import Pairs
from kerasrnn.data.spelled_numbers import band_lines, split_bands
from kerasrnn.tasks.translate.evaluation import Evaluation


def test_translate_evaluation_reports_exact_match_per_band():
    pairs = Pairs("numbers", {"test": (["one", "two", "five hundred"], ["un", "deux", "cinq cents"])},
                  {"test": [1, 2, 500]})
    bands = split_bands(pairs, "test", [True, False, True])
    assert [(b.band, b.right, b.total) for b in bands] == [("0–99", 1, 2), ("100–999", 1, 1), ("10³–10⁶", 0, 0),
                                                           ("≥ 10⁶", 0, 0)]
    evaluation = Evaluation(split="test", examples=3, beam_size=1, exact_match=2 / 3, character_error_rate=0.1,
                            chrf=90.0, bleu=50.0, loss=0.1, baseline_loss=2.0, mistakes=(), bands=bands)
    lines = evaluation.summary().splitlines()
    assert lines[-8:] == ["Test exact match by the size of the number:", "| numbers | accuracy | pairs |",
                          "| --- | ---: | ---: |", "| 0–99 | 50.00% | 2 |", "| 100–999 | 100.00% | 1 |",
                          "| 10³–10⁶ | — | 0 |", "| ≥ 10⁶ | — | 0 |", "| all | 66.67% | 3 |"]
    assert dataclasses.asdict(evaluation)["bands"][0] == {"band": "0–99", "right": 1, "total": 2}


def test_data_without_numbers_has_no_bands():
    pairs = Pairs("fra.txt", {"test": (["Go."], ["Va !"])})
    assert split_bands(pairs, "test", [True]) == () and band_lines((), "test") == []
