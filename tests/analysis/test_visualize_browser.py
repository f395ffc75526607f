"""The visualisation page in a real browser: Debian's headless Chromium opens the page of a tiny
model, runs its script, and the DOM it dumps holds the text, the unit picker, the ranking the Python
side computed, the shading of the chosen unit and the hover data; its screenshot shows the shading.

The page does not care how the weights were found, so the model is a tiny LSTM of random weights
(`test_unit_traces.random_model`), read with `trace_text` as `visualize` reads a run's model. Skips
where no headless Chromium is installed, unless KERASRNN_REQUIRE_BROWSER is set (as CI does): then
it fails.
"""

import json
import os
import shutil
import struct
import subprocess
from html.parser import HTMLParser

import numpy as np
import pytest

from kerasrnn.analysis.text_features import text_features
from kerasrnn.analysis.unit_traces import rank_units, trace_text
from kerasrnn.analysis.visualize_page import write_page
from tests.analysis.test_unit_traces import CHARACTERS, random_model

BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")
TEXT = "def f(x):\n    return (x, 'a') + f(x)\n\nf(f(d))\n" * 2
HOVERED = 17
WINDOW = (800, 1100)
# Runs after the page's own script: what --dump-dom cannot show (the chosen values of the lists, the
# hover text) goes into a <pre id="probe"> as JSON. With ?click, a click on the last ranking row follows.
PROBE = """<script>
"use strict";
(() => {
  const get = id => document.getElementById(id);
  const chosen = () => ({mode: get("mode").value, kind: get("kind").value, layer: get("layer").value,
                         unit: get("unit").value});
  const spans = [...document.querySelectorAll("#text span")];
  const probe = {chosen: chosen(), background: spans.map(s => s.style.background)};
  spans[%d].dispatchEvent(new MouseEvent("mouseover", {bubbles: true, clientX: 20, clientY: 20}));
  probe.tip = get("tip").textContent;
  probe.tip_display = getComputedStyle(get("tip")).display;
  if (location.search === "?click") {
    const rows = document.querySelectorAll("#ranking tr");
    rows[rows.length - 1].click();
    probe.after_click = chosen();
  }
  const out = document.createElement("pre"); out.id = "probe"; out.textContent = JSON.stringify(probe);
  document.body.append(out);
})();
</script>""" % HOVERED


def find_browser():
    return next((path for path in map(shutil.which, BROWSERS) if path), None)


@pytest.fixture(scope="module")
def browser():
    found = find_browser()
    if found is None:
        message = ("no headless Chromium (" + ", ".join(BROWSERS) + ") to open the visualisation page; on Debian: "
                   "apt-get install chromium-headless-shell")
        if os.environ.get("KERASRNN_REQUIRE_BROWSER"):
            pytest.fail(message + " (KERASRNN_REQUIRE_BROWSER is set, so the browser test may not skip)")
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    """The page of a tiny two-layer LSTM over TEXT, its traces, and a copy with the probe script."""
    model, config = random_model("lstm")
    traces = trace_text(model, config, CHARACTERS, TEXT)
    folder = tmp_path_factory.mktemp("browser")
    write_page(folder / "page.html", traces, text_features(TEXT))
    source = (folder / "page.html").read_text("utf-8")
    assert source.count("</body>") == 1
    (folder / "probed.html").write_text(source.replace("</body>", PROBE + "</body>"), "utf-8")
    return folder, traces


def open_page(browser, path, *arguments, address=""):
    """Chromium's stdout after opening `path` (+ `address`, e.g. "#surprise") with `arguments`."""
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={path.parent / 'profile'}",
         *arguments, path.as_uri() + address],
        capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


class Drawn(HTMLParser):
    """What a dumped DOM shows: each character's span (its text, background), the options of each
    list, the cells of each ranking row, and the text of the elements with an id."""

    def __init__(self, dom):
        super().__init__(convert_charrefs=True)
        self.spans, self.options, self.rows, self.texts = [], {}, [], {}
        self.open_ids, self.select, self.cell = [], None, None
        self.feed(dom)

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "span" and "data-i" in attrs:
            style = attrs.get("style", "")
            self.spans.append({"i": int(attrs["data-i"]), "text": "",
                               "background": style.removeprefix("background: ").removesuffix(";")})
        elif tag == "select":
            self.select = attrs["id"]
            self.options[self.select] = []
        elif tag == "option":
            self.options[self.select].append(attrs["value"])
        elif tag == "tr" and "ranking" in self.open_ids:
            self.rows.append([])
        elif tag == "td" and "ranking" in self.open_ids:
            self.cell = ""
        self.open_ids.append(attrs.get("id"))
        if attrs.get("id"):
            self.texts[attrs["id"]] = ""

    def handle_endtag(self, tag):
        if tag == "td" and self.cell is not None:
            self.rows[-1].append(self.cell)
            self.cell = None
        self.open_ids.pop()

    def handle_data(self, data):
        if self.open_ids and self.open_ids[-1] is None and "text" in self.open_ids and self.spans:
            self.spans[-1]["text"] += data
        if self.cell is not None:
            self.cell += data
        for element in filter(None, self.open_ids):
            self.texts[element] += data


def rgba(background):
    """(red, green, blue, opacity) of a colour as Chromium writes it: rgb(r, g, b) or rgba(r, g, b, a)."""
    inside = background[background.index("(") + 1 : background.index(")")]
    values = [float(v) for v in inside.split(",")]
    return tuple(values) if len(values) == 4 else (*values, 1.0)


def assert_shaded_by(backgrounds, values):
    """Each character red (positive) or blue (negative), as opaque as |value| / the largest |value|,
    within the page's rounding (a byte per value, then three decimals)."""
    assert all(backgrounds), "a character without a background: the page's script did not shade the text"
    values = np.asarray(values, np.float64)
    signed = values.min() < 0
    scale = max(-values.min(), values.max()) if signed else values.max()
    colours = np.array([rgba(b) for b in backgrounds])
    expected = np.abs(values) / scale
    np.testing.assert_allclose(colours[:, 3], expected, atol=2 / 255 + 1e-3)
    clear = expected > 3 / 255  # near 0 the rounding may flip the sign
    red = np.all(colours[:, :3] == (220, 40, 40), axis=1)
    blue = np.all(colours[:, :3] == (40, 90, 220), axis=1)
    assert np.all(red | blue)
    np.testing.assert_array_equal(red[clear], values[clear] > 0)


def values_of(traces, kind, layer, unit):
    return next(t for t in traces.traces if (t.kind, t.layer) == (kind, layer)).values[:, unit]


def assert_hover_shows(probe, traces, values):
    """The tip of character HOVERED: its value in the chosen unit, surprise and the five guesses."""
    assert probe["tip_display"] == "block"
    tip = probe["tip"].splitlines()
    assert tip[0] == f"#{HOVERED} {json.dumps(TEXT[HOVERED])}"
    value = float(values[HOVERED])  # a byte of its range, then 3 significant digits
    assert tip[1].startswith("value ")
    assert float(tip[1].split()[1]) == pytest.approx(value, abs=float(np.ptp(values)) / 510 + 5e-3 * abs(value) + 1e-6)
    assert tip[2].startswith("surprise ") and tip[2].endswith(" nats")  # a byte of its range, then 2 decimals
    assert float(tip[2].split()[1]) == pytest.approx(traces.surprise[HOVERED],
                                                     abs=float(traces.surprise.max()) / 510 + 5e-3 + 1e-6)
    assert tip[3] == "next:"
    shown = {"\n": "\u21b5", " ": "\u2423"}
    guesses = [line.split() for line in tip[4:]]
    assert [g[0] for g in guesses] == [shown.get(traces.tokens[i], traces.tokens[i])
                                       for i in traces.top_ids[HOVERED]]
    np.testing.assert_allclose([float(g[1]) for g in guesses], traces.top_probabilities[HOVERED], atol=1 / 510 + 6e-4)


def probe_of(drawn):
    return json.loads(drawn.texts["probe"])


def test_the_browser_draws_the_text_picker_ranking_first_ranked_unit_and_hover(browser, page):
    folder, traces = page
    drawn = Drawn(open_page(browser, folder / "probed.html", "--dump-dom"))
    assert [s["i"] for s in drawn.spans] == list(range(len(TEXT)))
    assert "".join(s["text"] for s in drawn.spans) == TEXT
    ranking = rank_units(traces, text_features(TEXT))
    assert drawn.rows == [[r.feature, r.kind, str(r.layer), str(r.unit), f"{r.correlation:.3f}"] for r in ranking]
    assert len(drawn.rows) == 3 * 7
    first = ranking[0]
    assert drawn.options["kind"] == ["hidden", "cell", "input gate", "forget gate", "output gate"]
    assert drawn.options["layer"] == ["1", "2"]
    assert drawn.options["unit"] == [str(u) for u in range(8)]
    probe = probe_of(drawn)
    assert probe["chosen"] == {"mode": "unit", "kind": first.kind, "layer": str(first.layer), "unit": str(first.unit)}
    values = values_of(traces, first.kind, first.layer, first.unit)
    assert_shaded_by([s["background"] for s in drawn.spans], values)
    assert_hover_shows(probe, traces, values)
    assert drawn.texts["notes"] == ""


def test_the_address_and_a_click_on_a_ranking_row_choose_the_unit(browser, page):
    folder, traces = page
    drawn = Drawn(open_page(browser, folder / "probed.html", "--dump-dom", address="?click#unit=forget%20gate/2/3"))
    probe = probe_of(drawn)
    assert probe["chosen"] == {"mode": "unit", "kind": "forget gate", "layer": "2", "unit": "3"}
    chosen = values_of(traces, "forget gate", 2, 3)
    assert_shaded_by(probe["background"], chosen)
    assert_hover_shows(probe, traces, chosen)
    last = rank_units(traces, text_features(TEXT))[-1]
    assert probe["after_click"] == {"mode": "unit", "kind": last.kind, "layer": str(last.layer), "unit": str(last.unit)}
    assert_shaded_by([s["background"] for s in drawn.spans], values_of(traces, last.kind, last.layer, last.unit))


def test_the_screenshot_is_a_png_of_the_window_with_the_text_shaded(browser, page, tmp_path):
    from PIL import Image

    folder, _ = page
    shot = tmp_path / "page.png"
    open_page(browser, folder / "page.html", f"--screenshot={shot}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
              "--hide-scrollbars", address="#unit=hidden/1/0")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    assert struct.unpack(">II", data[16:24]) == WINDOW
    pixels = np.asarray(Image.open(shot).convert("RGB"), np.int32)
    r, g, b = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    red = (r - np.maximum(g, b) > 40).sum()  # the page's only colours are the shading's
    blue = (b - np.maximum(r, g) > 40).sum()
    assert red + blue > 3000, (red, blue)
