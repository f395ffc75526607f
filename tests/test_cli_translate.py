"""The CLI of the translate task: train, translate, evaluate, and a one-line error for each bad input."""

import json
import random
import shutil

import numpy as np
import pytest

from tests.cli_helpers import assert_one_line_error, run

WORDS = {"one": "un", "two": "deux", "three": "trois", "four": "quatre", "five": "cinq", "six": "six"}


def word_pairs(path, count=600):
    """Sequences of 1–4 number words and their word-for-word French: learnable in seconds."""
    rng = random.Random(0)
    lines = []
    for _ in range(count):
        english = [rng.choice(list(WORDS)) for _ in range(rng.randint(1, 4))]
        lines.append(f"{' '.join(english)}\t{' '.join(WORDS[w] for w in english)}\n")
    path.write_text("".join(lines), "utf-8")
    return path


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cli-translate")
    data = word_pairs(folder / "pairs.txt")
    result = run("train", "--task", "translate", "--cell", "gru", "--units", "32", "--embedding-dim", "16",
                 "--tokens", "words", "--data", data, "--epochs", "8", "--steps-per-epoch", "50", "--learning-rate", "0.01",
                 "--run-dir", folder / "run")
    assert result.exit_code == 0, result.output
    assert "Validation (" in result.output and "exact match" in result.output
    return folder / "run"


def test_a_trained_model_translates_unseen_word_sequences(run_dir):
    result = run("translate", run_dir, "six five four three", "one")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["six five four three\tsix cinq quatre trois", "one\tun"]


def test_evaluate_with_a_beam_beats_the_unigram_baseline(run_dir):
    result = run("evaluate", run_dir, "--split", "test", "--beam-size", "3")
    assert result.exit_code == 0, result.output
    saved = json.loads((run_dir / "evaluation_test.json").read_text())
    assert saved["beam_size"] == 3
    assert saved["exact_match"] >= 0.95 and saved["character_error_rate"] <= 0.02
    assert saved["loss"] < 0.1 * saved["baseline_loss"]
    assert f"exact match {saved['exact_match']:.2%}" in result.output


def test_evaluate_data_scores_the_whole_file_it_is_given(run_dir, tmp_path):
    """`evaluate --data FILE` scores every pair of FILE, not a tenth of it cut like training data."""
    data = tmp_path / "three.tsv"
    data.write_text("one two\tun deux\nsix\tsix\nfive four\tcinq quatre\n", "utf-8")
    result = run("evaluate", run_dir, "--data", data, "--split", "test")
    assert result.exit_code == 0, result.output
    saved = json.loads((run_dir / "evaluation_test.json").read_text())
    assert saved["examples"] == 3 and saved["exact_match"] == 1.0, saved
    assert "Test (3 pairs" in result.output


def test_the_shared_english_french_pairs_train_and_translate(shared_data, tmp_path):
    """The real Tatoeba file (Keras's lstm_seq2seq format) trains, translates and evaluates; two
    epochs of a small model, so what it says is not checked, only that every step runs."""
    run_dir = tmp_path / "run"
    result = run("train", "--task", "translate", "--cell", "urnn", "--units", "16", "--data",
                 shared_data / "eng_fra_pairs_1864.txt", "--epochs", "2", "--steps-per-epoch", "3",
                 "--run-dir", run_dir)
    assert result.exit_code == 0, result.output
    assert "Validation (" in result.output
    result = run("translate", run_dir, "Go.", "I am happy.", "--beam-size", "2")
    assert result.exit_code == 0, result.output
    assert [line.split("\t")[0] for line in result.output.splitlines()] == ["Go.", "I am happy."]
    result = run("evaluate", run_dir, "--split", "test")
    assert result.exit_code == 0, result.output
    assert "character error rate" in result.output


@pytest.mark.parametrize("arguments, message, exit_code", [
    (["--pair", "en-xx"], "unknown language pair 'en-xx'", 1),
    (["--pair", "fr-fr"], "unknown language pair 'fr-fr'", 1),
    (["--attention", "dot", "--task", "classify"], "--attention does not apply to the classify task", 2),
    (["--data", "absent.tsv"], "no pairs file 'absent.tsv'", 1),
])
def test_bad_training_settings(tmp_path, arguments, message, exit_code):
    if "--task" not in arguments:
        arguments = ["--task", "translate", *arguments]
    result = run("train", *arguments, "--run-dir", tmp_path / "run")
    assert_one_line_error(result, message, exit_code=exit_code)
    assert not (tmp_path / "run").exists()


def test_a_pairs_file_with_mismatched_columns(tmp_path):
    data = tmp_path / "pairs.txt"
    data.write_text("a\tb\tc\nd\te\n", "utf-8")
    result = run("train", "--task", "translate", "--data", data, "--run-dir", tmp_path / "run")
    assert_one_line_error(result, "line 2 has 2 tab-separated columns, the first line 3")
    assert not (tmp_path / "run").exists()


def test_an_odd_number_of_units_for_the_bidirectional_encoder_of_a_pairs_file(tmp_path):
    data = word_pairs(tmp_path / "pairs.txt", count=20)
    result = run("train", "--task", "translate", "--data", data, "--units", "9", "--run-dir", tmp_path / "run")
    assert_one_line_error(result, "a bidirectional encoder needs an even number of units (half each way), got 9")
    assert not (tmp_path / "run").exists()


def test_bad_translate_requests(run_dir):
    assert_one_line_error(run("translate", run_dir, "one", " "), "text 2 is empty")
    result = run("translate", run_dir, "one", "--beam-size", "0")
    assert result.exit_code == 2 and "0 is not in the range x>=1" in result.output
    result = run("evaluate", run_dir, "--beam-size", "-1")
    assert result.exit_code == 2 and "-1 is not in the range x>=1" in result.output
    assert_one_line_error(run("evaluate", run_dir, "--split", "heldout"), "unknown split 'heldout'")


def test_a_run_of_another_task(tmp_path):
    run_dir = tmp_path / "lm"
    corpus = tmp_path / "text.txt"
    corpus.write_text("abcdefgh " * 400, "utf-8")
    result = run("train", "--data", corpus, "--units", "8", "--epochs", "1", "--steps-per-epoch", "1",
                 "--batch-size", "4", "--seq-len", "10", "--run-dir", run_dir)
    assert result.exit_code == 0, result.output
    assert_one_line_error(run("translate", run_dir, "hello"), "holds a charlm run, which cannot translate texts")
    assert_one_line_error(run("evaluate", run_dir, "--beam-size", "2"), "--beam-size does not apply to a charlm run",
                          exit_code=2)
    assert_one_line_error(run("evaluate", run_dir, "--attention-plots", tmp_path / "plots"),
                          "holds a charlm run: attention plots are drawn for translate runs")
    assert not (tmp_path / "plots").exists()


def test_a_text_of_unknown_words_is_translated_with_a_warning(run_dir, caplog):
    result = run("translate", run_dir, "zzyzx qwxv", "one two")
    assert result.exit_code == 0, result.output
    assert "Warning: 100% of the tokens of text 1 ('zzyzx qwxv') were never seen in training" in caplog.text
    assert "text 2" not in caplog.text


def greedy_by_rerunning_the_network(model, translator, text):
    """Greedy decoding the slow, obvious way: the whole teacher-forced network on each prefix, the most
    likely allowed token appended until `[END]` or the run's longest translation."""
    import numpy as np

    from kerasrnn.tasks.translate import data as translate_data

    source = translator.encode([text]).numpy()
    tokens = []
    while len(tokens) < translator.max_output_length:
        logits = model([source, np.array([[translate_data.START_ID, *tokens]], np.int32)])[0, -1].numpy()
        logits[[translate_data.PAD_ID, translate_data.START_ID]] = -np.inf
        tokens.append(int(logits.argmax()))
        if tokens[-1] == translate_data.END_ID:
            break
    return translator.ids_to_texts([tokens + [0]]).numpy()[0].decode()


TEXTS = ["six five four three", "one", "two two", "four one six"]


def test_a_beam_of_one_is_greedy_decoding(run_dir):
    from kerasrnn.tasks import get_task

    task = get_task("translate")
    model, translator = task.load_model(run_dir), task.load_translator(run_dir)
    greedy = [greedy_by_rerunning_the_network(model, translator, text) for text in TEXTS]
    assert greedy == ["six cinq quatre trois", "un", "deux deux", "quatre un six"]
    result = run("translate", run_dir, *TEXTS, "--beam-size", "1")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [f"{text}\t{translation}" for text, translation in zip(TEXTS, greedy)]


def test_a_huge_beam_is_narrowed_to_what_fits_and_translates_like_that_beam(run_dir, monkeypatch, caplog):
    """A memory ceiling that holds a beam of exactly 40 for these texts: a beam of 100,000 is narrowed
    to 40 with a warning, answers what a beam of 40 answers (not empty), and quickly."""
    import time

    from kerasrnn.tasks import get_task

    translator = get_task("translate").load_translator(run_dir)
    assert translator.widest_useful_beam() == 8 ** 18  # six French words, [UNK] and [END]; 18 tokens at most
    source_length = int(translator.encode(TEXTS).shape[1])
    monkeypatch.setenv("KERASRNN_MEMORY_LIMIT", str(translator.search_bytes(40, source_length)))
    narrow = run("translate", run_dir, *TEXTS, "--beam-size", "40")
    assert narrow.exit_code == 0 and "Warning" not in caplog.text, narrow.output
    started = time.monotonic()
    huge = run("translate", run_dir, *TEXTS, "--beam-size", "100000")
    assert huge.exit_code == 0, huge.output
    assert time.monotonic() - started < 30
    assert ("Warning: a beam of 100,000 would take up to 1,800,000 decoder steps per text (18 tokens at most), "
            "more than the 1,000,000 a search may: searching with a beam of 55,555 instead") in caplog.text
    assert "Warning: a beam of 55,555 hypotheses needs about" in caplog.text
    assert "(KERASRNN_MEMORY_LIMIT): searching with a beam of 40 instead" in caplog.text
    assert huge.output == narrow.output
    assert [line.split("\t")[1] for line in huge.output.splitlines()] == [
        "six cinq quatre trois", "un", "deux deux", "quatre un six"]
    caplog.clear()
    evaluated = run("evaluate", run_dir, "--split", "test", "--beam-size", "100000")
    assert evaluated.exit_code == 0, evaluated.output
    assert "beam search of width" in evaluated.output and "of width 100000" not in evaluated.output
    assert json.loads((run_dir / "evaluation_test.json").read_text())["beam_size"] < 100000
    assert "searching with a beam of" in caplog.text


def test_a_beam_that_cannot_fit_even_once_is_refused(run_dir, monkeypatch):
    monkeypatch.setenv("KERASRNN_MEMORY_LIMIT", "1K")
    assert_one_line_error(run("translate", run_dir, "one", "--beam-size", "3"),
                          "decoding one text needs about", "more than the 1.0 KiB available (KERASRNN_MEMORY_LIMIT)")


def recorded_plots(monkeypatch):
    """The `(alignment, path)` of every attention plot written from now on (they are written too)."""
    from kerasrnn.analysis import attention_plot

    drawn = []
    write_plot = attention_plot.write_plot

    def recording_write_plot(alignment, path):
        drawn.append((alignment, path))
        write_plot(alignment, path)

    monkeypatch.setattr(attention_plot, "write_plot", recording_write_plot)
    return drawn


def test_translate_draws_the_attention_of_each_text_it_prints(run_dir, tmp_path, monkeypatch):
    """One text: PLOT.png; several: PLOT-1.png, PLOT-2.png, in order; the lines printed are
    translate's own, and each plot's rows are its translation's tokens then [END]."""
    plain = run("translate", run_dir, *TEXTS[:2], "--beam-size", "2")
    drawn = recorded_plots(monkeypatch)
    several = run("translate", run_dir, *TEXTS[:2], "--beam-size", "2", "--attention-plot", tmp_path / "p.png")
    one = run("translate", run_dir, "two two", "--attention-plot", tmp_path / "one.png")
    assert several.exit_code == 0 and one.exit_code == 0, several.output + one.output
    assert several.stdout == plain.stdout == "six five four three\tsix cinq quatre trois\none\tun\n"
    assert several.stderr.splitlines()[-1] == f"Attention plots: {tmp_path / 'p-1.png'} … {tmp_path / 'p-2.png'} (2 files)"
    assert one.stdout == "two two\tdeux deux\n" and one.stderr.splitlines()[-1] == f"Attention plot: {tmp_path / 'one.png'}"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["one.png", "p-1.png", "p-2.png"]
    assert [(a.source, a.source_tokens, a.target_tokens, path.name) for a, path in drawn] == [
        ("six five four three", ("six", "five", "four", "three"), ("six", "cinq", "quatre", "trois", "[END]"), "p-1.png"),
        ("one", ("one",), ("un", "[END]"), "p-2.png"),
        ("two two", ("two", "two"), ("deux", "deux", "[END]"), "one.png")]
    for alignment, path in drawn:
        np.testing.assert_allclose(alignment.weights.sum(axis=1), 1.0, atol=1e-5)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_evaluate_draws_the_first_sentences_of_the_split(run_dir, tmp_path, monkeypatch):
    from kerasrnn.data.sentence_pairs import load_pairs

    drawn = recorded_plots(monkeypatch)
    folder = tmp_path / "new" / "plots"
    result = run("evaluate", run_dir, "--split", "test", "--attention-plots", folder, "--attention-sentences", "2")
    assert result.exit_code == 0, result.output
    assert "Test (" in result.output and "exact match" in result.output
    assert result.output.splitlines()[-1] == (f"Attention plots of the first 2 test sentences: {folder / 'test-1.png'} … "
                                              f"{folder / 'test-2.png'} (2 files)")
    assert sorted(path.name for path in folder.iterdir()) == ["test-1.png", "test-2.png"]
    pairs = dict(zip(*load_pairs(str(run_dir.parent / "pairs.txt"), None, None).split("test")))
    assert [(a.source, a.reference, path) for a, path in drawn] == [
        (source, pairs[source], folder / f"test-{n}.png") for n, source in enumerate(list(pairs)[:2], start=1)]


def test_attention_plots_refused_in_one_line(run_dir, tmp_path):
    import shutil

    without = tmp_path / "no-attention"
    shutil.copytree(run_dir, without)
    for evaluation in without.glob("evaluation_*.json"):  # left by the tests before: none must appear
        evaluation.unlink()
    config = json.loads((without / "config.json").read_text())
    # As a run trained with --attention none has them: untied (its preset leaves tying off).
    config["task_config"].update(attention="none", tie_embeddings=False)
    (without / "config.json").write_text(json.dumps(config))
    message = "was trained with --attention none: its decoder reads only the encoder's final state, so it has no alignment"
    assert_one_line_error(run("translate", without, "one", "--attention-plot", tmp_path / "p.png"), message)
    assert_one_line_error(run("evaluate", without, "--split", "test", "--attention-plots", tmp_path / "plots"), message)
    assert not (tmp_path / "p.png").exists() and not (tmp_path / "plots").exists()
    assert not (without / "evaluation_test.json").exists()  # refused before evaluating
    assert_one_line_error(run("translate", run_dir, "one", "--attention-plot", tmp_path / "p.jpg"),
                          "an attention plot is a PNG image, so its name must end in .png")
    assert_one_line_error(run("translate", run_dir, "one", "--attention-plot", tmp_path / "absent" / "p.png"),
                          f"cannot write {tmp_path / 'absent' / 'p.png'}: no such folder {tmp_path / 'absent'}")
    (tmp_path / "file").write_text("")
    assert_one_line_error(run("evaluate", run_dir, "--attention-plots", tmp_path / "file"),
                          "is a file: give a folder for the attention plots")
    result = run("evaluate", run_dir, "--numbers", "1-9", "--attention-plots", tmp_path / "plots")
    assert result.exit_code == 2 and "--attention-plots draws sentences of a split" in result.output
    result = run("evaluate", run_dir, "--attention-sentences", "3")
    assert result.exit_code == 2 and "give --attention-plots FOLDER too" in result.output
    assert sorted(path.name for path in tmp_path.iterdir()) == ["file", "no-attention"]


def test_a_run_saved_before_subwords_smoothing_and_tying_still_translates(run_dir, tmp_path):
    """A config.json without the settings added since (label smoothing, tied embeddings) and with
    word tokens loads with the values those runs had, and translates as before."""
    old = tmp_path / "old-run"
    shutil.copytree(run_dir, old)
    saved = json.loads((old / "config.json").read_text("utf-8"))
    for name in ("label_smoothing", "tie_embeddings"):
        assert name in saved["task_config"]
        del saved["task_config"][name]
    (old / "config.json").write_text(json.dumps(saved), "utf-8")
    result = run("translate", old, "six five four three", "one")
    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == ["six five four three\tsix cinq quatre trois", "one\tun"]
