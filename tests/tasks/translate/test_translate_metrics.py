"""Scores of translations: BLEU with its effective order, and all references of a source."""

import pytest
import sacrebleu

from kerasrnn.data.sentence_pairs import load_pairs
from kerasrnn.tasks.translate import metrics
from kerasrnn.tasks.translate.evaluation import Evaluation, bleu_text

# Tatoeba-style: one source, several correct translations; the system picks a different one each time.
SOURCES = ["I'm tired.", "I'm tired.", "I'm tired.", "Let's go.", "Let's go.", "Tom is here now."]
REFERENCES = ["Ich bin müde.", "Ich bin erschöpft.", "Ich bin schlapp.", "Gehen wir!", "Lass uns gehen!",
              "Tom ist jetzt hier."]
TRANSLATION_OF = {"I'm tired.": "Ich bin erschöpft.", "Let's go.": "Lass uns gehen!",
                  "Tom is here now.": "Tom ist jetzt hier."}


def test_references_are_grouped_by_source_in_order():
    distinct, grouped = metrics.references_by_source(SOURCES + ["Let's go."], REFERENCES + ["Gehen wir!"])
    assert distinct == ["I'm tired.", "Let's go.", "Tom is here now."]
    assert grouped == [REFERENCES[:3], REFERENCES[3:5], REFERENCES[5:]]


def test_several_references_raise_the_scores_of_a_right_translation():
    """Every translation is one of its source's references: against all of them it is perfect (exact
    match 1, chrF and BLEU 100); each pair scored against its one reference gets far less."""
    single = metrics.score_translations([TRANSLATION_OF[s] for s in SOURCES], REFERENCES)
    distinct, grouped = metrics.references_by_source(SOURCES, REFERENCES)
    multiple = metrics.score_against_all_references([TRANSLATION_OF[s] for s in distinct], grouped)
    assert single["exact_match"] == pytest.approx(3 / 6)
    # Plain sacrebleu corpus BLEU (every order present, so the effective order changes nothing): 62.8.
    assert single["bleu"] == pytest.approx(sacrebleu.corpus_bleu(
        [TRANSLATION_OF[s] for s in SOURCES], [REFERENCES]).score) == pytest.approx(62.79, abs=0.01)
    assert single["bleu_order"] == 4 and single["chrf"] < 80
    assert multiple == {"exact_match": 1.0, "chrf": pytest.approx(100.0), "bleu": pytest.approx(100.0),
                        "bleu_order": 4, "most_references": 3}


def test_an_extra_reference_helps_only_where_it_matches():
    """A wrong translation stays wrong against more references; BLEU rises from the one matched."""
    grouped = [["Ich bin müde."], ["Gehen wir!", "Lass uns gehen!"]]
    wrong = metrics.score_against_all_references(["Du bist alt.", "Lass uns gehen!"], grouped)
    one = metrics.score_translations(["Du bist alt.", "Lass uns gehen!"], ["Ich bin müde.", "Gehen wir!"])
    assert wrong["exact_match"] == 0.5 and one["exact_match"] == 0.0
    assert wrong["bleu"] > one["bleu"]


def test_one_word_translations_get_bleu_1_not_0():
    """The de-it case: German and Italian numbers are one word each, so no translation has a 2-gram;
    plain corpus BLEU is 0 for perfect output. With sacrebleu's effective order it is BLEU-1: 100 for
    the references themselves, and the unigram precision for a mistake."""
    pairs = load_pairs("spelled_numbers", "de-it")
    references = pairs.split("validation")[1]
    assert all(len(reference.split()) == 1 for reference in references)
    perfect = metrics.score_translations(references, references)
    assert perfect["bleu"] == pytest.approx(100.0) and perfect["bleu_order"] == 1 and perfect["chrf"] == 100.0
    one_wrong = metrics.score_translations(["sbagliato", *references[1:]], references)
    assert one_wrong["bleu"] == pytest.approx(100 * (len(references) - 1) / len(references))
    assert metrics.score_translations(["", ""], ["uno", "due"])["bleu_order"] == 0


def test_the_summary_says_which_bleu_it_is():
    assert bleu_text(31.24, 4) == "BLEU 31.2"
    assert bleu_text(99.9, 1) == ("BLEU-1 99.9 (no translation has 2 words, so BLEU's 2-grams and above "
                                  "are left out)")
    assert bleu_text(0.0, 0) == "BLEU not meaningful (no translation has a word)"
    evaluation = Evaluation(split="test", examples=6, beam_size=4, exact_match=0.5, character_error_rate=0.1,
                            chrf=70.0, bleu=58.1, loss=1.0, baseline_loss=5.0, mistakes=(), sources=3,
                            all_references={"exact_match": 1.0, "chrf": 100.0, "bleu": 100.0, "bleu_order": 4,
                                            "most_references": 3})
    assert evaluation.summary().splitlines()[:2] == [
        "Test (6 pairs, beam search of width 4): exact match 50.00%, character error rate 10.00%, chrF 70.0, "
        "BLEU 58.1",
        "Against all references (3 distinct sources, up to 3 references each): exact match 100.00%, chrF 100.0, "
        "BLEU 100.0"]
