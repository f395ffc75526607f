"""The visualisation page: its data decodes back to the traces within the stated rounding, a text of
100,000 characters stays under 20 MB, nothing is fetched from the network, and it is written whole."""

import base64
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from kerasrnn import fileio
from kerasrnn.analysis.text_features import text_features
from kerasrnn.analysis.unit_traces import Trace, UnitTraces
from kerasrnn.analysis.visualize_page import MAX_CHARACTERS, cut_text, quantise, write_page


def synthetic_traces(text, units, kinds=("hidden", "update gate", "reset gate"), seed=0):
    """Random traces of a GRU-like model; hidden unit 5 follows the bracket depth exactly."""
    rng = np.random.default_rng(seed)
    size = len(text)
    traces = [Trace(kind, 1, rng.uniform(-1 if kind == "hidden" else 0, 1, (size, units)).astype(np.float32))
              for kind in kinds]
    traces[0].values[:, 5] = np.tanh(text_features(text)["bracket_depth"] - 1)
    tokens = ["[UNK]", "[BOS]", *sorted(set(text))]
    top_ids = rng.integers(0, len(tokens), (size, 5)).astype(np.int32)
    top_p = np.sort(rng.dirichlet(np.ones(8), size)[:, :5], axis=1)[:, ::-1].astype(np.float32)
    return UnitTraces(text, "gru", traces, rng.uniform(0, 6, size).astype(np.float32), top_ids, top_p, tokens)


def page_payload(path):
    html = path.read_text("utf-8")
    match = re.search(r'<script id="data" type="application/json">(.*?)</script>', html, re.S)
    return html, json.loads(match.group(1))


def decoded(encoded, lo, hi):
    return lo + np.frombuffer(base64.b64decode(encoded), np.uint8) * (hi - lo) / 255


def shading(series):
    """The backgrounds the page gives the characters for `series` (one of the page's data), as it
    writes them: red above 0, blue below, the opacity |value| / the series' largest |value|."""
    values = decoded(series["q"], series["lo"], series["hi"])
    scale = max(-series["lo"], series["hi"]) if series["lo"] < 0 else max(series["hi"], 1e-12)
    return [(f"rgba(220,40,40,{v / scale:.3f})" if v >= 0 else f"rgba(40,90,220,{-v / scale:.3f})").replace(
        "-0.000", "0.000") for v in values]


def run_page_script(path, hovered, address=""):
    """What the page's script draws, run by node against a DOM stand-in (`page_dom_stub.js`)."""
    drawn = json.loads(subprocess.run(["node", str(Path(__file__).with_name("page_dom_stub.js")), str(path),
                                       str(hovered), address],
                                      capture_output=True, text=True, check=True, timeout=60).stdout)
    drawn["background"] = [b.replace("-0.000", "0.000") for b in drawn["background"]]
    return drawn


def test_every_value_comes_back_within_its_rounding(tmp_path):
    text = "def f(a, (b)):\n    return [a, {b: 'c'}]\n" * 5
    traces = synthetic_traces(text, units=8)
    summary = write_page(tmp_path / "page.html", traces, text_features(text))
    html, data = page_payload(tmp_path / "page.html")
    assert summary.series == summary.all_series == 24 and data["notes"] == [] and summary.note == ""
    assert summary.size == len(html.encode()) and data["text"] == text and data["tokens"] == traces.tokens
    for series in data["series"]:
        original = next(t for t in traces.traces if t.kind == series["kind"]).values[:, series["unit"]]
        values = decoded(series["q"], series["lo"], series["hi"])
        np.testing.assert_allclose(values, original, atol=(original.max() - original.min()) / 510 + 1e-5)
    surprise = decoded(data["surprise"]["q"], data["surprise"]["lo"], data["surprise"]["hi"])
    np.testing.assert_allclose(surprise, traces.surprise, atol=6 / 510 + 1e-5)
    top_ids = np.frombuffer(base64.b64decode(data["top_ids"]), "<u2").reshape(-1, 5)
    np.testing.assert_array_equal(top_ids, traces.top_ids)
    top_p = np.frombuffer(base64.b64decode(data["top_p"]), np.uint8).reshape(-1, 5) / 255
    np.testing.assert_allclose(top_p, traces.top_probabilities, atol=1 / 510 + 1e-7)
    first = data["ranking"][0]
    assert (first["feature"], first["kind"], first["unit"]) == ("bracket_depth", "hidden", 5)
    assert first["r"] == pytest.approx(np.corrcoef(traces.traces[0].values[:, 5],
                                                   text_features(text)["bracket_depth"])[0, 1], abs=1e-3)


def test_the_page_needs_no_network_and_a_text_cannot_end_its_script(tmp_path):
    text = "</script><script>alert(1)</script>\n"
    write_page(tmp_path / "page.html", synthetic_traces(text, units=6), text_features(text))
    html, data = page_payload(tmp_path / "page.html")
    assert not re.search(r"https?:|<link|\bsrc=|@import|url\(", html)
    assert html.count("</script>") == 2 and data["text"] == text


def test_a_text_of_the_largest_size_stays_under_20_mb_keeping_the_best_units(tmp_path):
    text = ("for x in range(10):\n    print(f(x, [1, 2]), 'done')\n" * 2000)[:MAX_CHARACTERS]
    traces = synthetic_traces(text, units=64)
    summary = write_page(tmp_path / "big.html", traces, text_features(text))
    html, data = page_payload(tmp_path / "big.html")
    assert (tmp_path / "big.html").stat().st_size == summary.size < 20_000_000
    assert summary.size > 15_000_000  # the room is used, not wasted
    assert 0 < summary.series < summary.all_series == 192
    assert data["notes"] == [f"The page holds {summary.series:,} of the 192 series (state, layer, unit): the ones "
                             "most correlated with a feature; the rest would make it larger than 20 MB. A shorter "
                             "text shows more."]
    assert {"kind": "hidden", "unit": 5} in [{"kind": s["kind"], "unit": s["unit"]} for s in data["series"]]


def test_a_long_text_is_cut_with_one_line_saying_so():
    assert cut_text("abc") == ("abc", "")
    text, note = cut_text("x" * (MAX_CHARACTERS + 1))
    assert len(text) == MAX_CHARACTERS
    assert note == "The text has 100,001 characters: only the first 100,000 are shown."


def test_quantisation_keeps_the_range_and_a_constant_series():
    lo, hi, data = quantise(np.array([-0.5, 0.0, 1.5]))
    assert (lo, hi, list(data)) == (-0.5, 1.5, [0, 64, 255])
    lo, hi, data = quantise(np.full(3, 2.0))
    assert (lo, hi, list(data)) == (2.0, 3.0, [0, 0, 0])


def test_a_crash_while_writing_leaves_the_old_page(tmp_path, monkeypatch):
    path = tmp_path / "page.html"
    path.write_text("old page")
    monkeypatch.setenv(fileio.FAULT_ENV, "write:page.html:1")
    monkeypatch.setenv(fileio.MODE_ENV, "raise")
    fileio.reset_write_counts()
    with pytest.raises(fileio.SimulatedCrash):
        write_page(path, synthetic_traces("ab(c)\n" * 3, units=6), text_features("ab(c)\n" * 3))
    fileio.reset_write_counts()
    assert path.read_text() == "old page" and [p.name for p in tmp_path.iterdir()] == ["page.html"]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page's script")
def test_the_page_script_shades_by_the_best_unit_and_by_surprise(tmp_path):
    text = "def f(a, (b)):\n    return [a, {b: 'c'}]\n" * 3
    traces = synthetic_traces(text, units=6)
    write_page(tmp_path / "page.html", traces, text_features(text))
    _, data = page_payload(tmp_path / "page.html")
    drawn = run_page_script(tmp_path / "page.html", 7)
    assert drawn["characters"] == text and drawn["ranking_rows"] == len(data["ranking"])
    assert (drawn["kind"], drawn["layer"], drawn["unit"]) == ("hidden", 1, 5)  # the first-ranked unit
    series = next(s for s in data["series"] if (s["kind"], s["unit"]) == ("hidden", 5))
    values = decoded(series["q"], series["lo"], series["hi"])
    assert drawn["background"] == shading(series) and drawn["notes"] == []
    q = np.frombuffer(base64.b64decode(data["surprise"]["q"]), np.uint8)
    assert drawn["surprise"] == [f"rgba(230,120,0,{v / 255:.3f})" for v in q]
    tip = drawn["tip"].splitlines()
    assert tip[0] == f'#7 "{text[7]}"' and tip[1].startswith("value ")
    assert float(tip[1].split()[1]) == pytest.approx(values[7], rel=5e-3, abs=1e-12)  # 3 significant digits
    shown = {"\n": "\u21b5", " ": "\u2423", "\t": "\u21e5"}
    assert tip[3:] == ["next:"] + [f"  {shown.get(traces.tokens[i], traces.tokens[i])}  {p / 255:.3f}"
                                   for i, p in zip(traces.top_ids[7], np.rint(traces.top_probabilities[7] * 255))]


@pytest.mark.skipif(shutil.which("node") is None, reason="needs node to run the page's script")
def test_the_address_chooses_the_unit_or_the_surprise_and_a_unit_not_on_the_page_gets_a_note(tmp_path):
    text = "def f(a, (b)):\n    return [a, {b: 'c'}]\n" * 3
    write_page(tmp_path / "page.html", synthetic_traces(text, units=6), text_features(text))
    _, data = page_payload(tmp_path / "page.html")
    by_unit = {(s["kind"], s["layer"], s["unit"]): s for s in data["series"]}
    drawn = run_page_script(tmp_path / "page.html", 0, "unit=update%20gate/1/3")
    assert (drawn["kind"], drawn["layer"], drawn["unit"], drawn["notes"]) == ("update gate", 1, 3, [])
    assert drawn["background"] == shading(by_unit["update gate", 1, 3]) != shading(by_unit["hidden", 1, 5])
    drawn = run_page_script(tmp_path / "page.html", 0, "surprise")
    q = np.frombuffer(base64.b64decode(data["surprise"]["q"]), np.uint8)
    assert drawn["background"] == [f"rgba(230,120,0,{v / 255:.3f})" for v in q] and drawn["notes"] == []
    drawn = run_page_script(tmp_path / "page.html", 0, "unit=hidden/1/6")
    assert (drawn["kind"], drawn["unit"]) == ("hidden", 5) and drawn["background"] == shading(by_unit["hidden", 1, 5])
    assert drawn["notes"] == ["The address names hidden of layer 1, unit 6: it is not on this page."]
    drawn = run_page_script(tmp_path / "page.html", 0, "hidden-5")
    assert drawn["notes"] == ["The address ends in #hidden-5: write #unit=STATE/LAYER/UNIT (e.g. #unit=hidden/1/0) "
                              "or #surprise."]
