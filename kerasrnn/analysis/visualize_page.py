"""One self-contained HTML page that shows a text shaded by what a character model's units do.

`write_page(path, traces, features)` writes the page (atomically): the text, each character shaded
by the value of the chosen series (a state kind, a layer and a unit: `unit_traces.KINDS`) or by the
model's surprise; a table of the units that track the text features best (click a row to show that
unit); and on hover, the character's value, surprise and the five likeliest next characters.
The page first shows the first-ranked unit, or the one its address names after `#`:
`page.html#unit=STATE/LAYER/UNIT` (e.g. `#unit=hidden/1/240`, `#unit=update%20gate/1/7`), or
`page.html#surprise`; a unit that is not on the page leaves the first-ranked one and a note.
Everything is inside the file (inline CSS and JavaScript, no fonts, no network): it opens from disk.

The data is compact JSON inside the page: every series quantised to one byte per character between
its own minimum and maximum (an error of at most 1/510 of its range), base64-encoded; the
probabilities of the guesses to one byte (1/510), the surprise to one byte of its range. A page
holds at most `MAX_PAGE_BYTES` (20 MB); the series that do not fit are left out, the least
correlated with any feature first, and the page and `PageSummary.note` say how many. A text longer
than `MAX_CHARACTERS` is cut to its first `MAX_CHARACTERS` before it is read (`cut_text`).

Example:

```python
text, note = cut_text(Path("notes.txt").read_text())
traces = trace_run(run_dir, text)
summary = write_page(Path("page.html"), traces, text_features(text), note=note)
```
"""

from __future__ import annotations

import base64
import dataclasses
import json
from pathlib import Path

import numpy as np

from kerasrnn.analysis.unit_traces import RankedUnit, UnitTraces, correlation_table, rank_units
from kerasrnn.fileio import write_text

MAX_CHARACTERS = 100_000
MAX_PAGE_BYTES = 20_000_000
# Room kept for the page itself, the table and the numbers of each series besides their bytes.
PAGE_MARGIN_BYTES = 400_000
SERIES_HEADER_BYTES = 100
RANKED_PER_FEATURE = 3


@dataclasses.dataclass(frozen=True)
class PageSummary:
    """What `write_page` wrote: its size, the series it holds out of all, the ranking, a note."""

    path: Path
    size: int
    series: int
    all_series: int
    ranking: list[RankedUnit]
    note: str


def cut_text(text: str, limit: int | None = None) -> tuple[str, str]:
    """`(text, "")`, or its first `limit` (default `MAX_CHARACTERS`) characters and a one-line note
    saying so."""
    limit = MAX_CHARACTERS if limit is None else limit
    if len(text) <= limit:
        return text, ""
    return text[:limit], f"The text has {len(text):,} characters: only the first {limit:,} are shown."


def quantise(values: np.ndarray) -> tuple[float, float, bytes]:
    """`(lo, hi, bytes)`: each value as round(255 (v − lo) / (hi − lo)), lo and hi its range rounded
    to 6 significant digits (the page decodes lo + q (hi − lo) / 255)."""
    values = np.asarray(values, np.float64)
    lo, hi = float(f"{values.min():.6g}"), float(f"{values.max():.6g}")
    if hi <= lo:
        hi = lo + 1.0
    q = np.clip(np.rint((values - lo) / (hi - lo) * 255), 0, 255).astype(np.uint8)
    return lo, hi, q.tobytes()


def _encoded(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def page_data(traces: UnitTraces, features: dict[str, np.ndarray], *, note: str = "",
              max_bytes: int = MAX_PAGE_BYTES) -> tuple[dict, int, int, list[RankedUnit]]:
    """The JSON object the page reads: `(data, series kept, all series, ranking)`."""
    size = len(traces.text)
    table = correlation_table(traces, features)
    ranking = rank_units(traces, features, RANKED_PER_FEATURE, table=table)
    names, tables = table
    # Each series' strength: its largest |r| with any feature; the ranked ones first of all.
    ranked = {(row.kind, row.layer, row.unit) for row in ranking}
    order = []
    for trace, r in zip(traces.traces, tables):
        strength = np.abs(r).max(axis=0) if len(names) else np.zeros(trace.values.shape[1])
        order += [((trace.kind, trace.layer, unit) in ranked, float(strength[unit]), trace, unit)
                  for unit in range(trace.values.shape[1])]
    order.sort(key=lambda item: (not item[0], -item[1]))
    text_json = json.dumps(traces.text)
    fixed = len(text_json) + len(json.dumps(traces.tokens)) + 4 * -(-size * (2 * 5 + 5 + 1) // 3) + PAGE_MARGIN_BYTES
    per_series = 4 * -(-size // 3) + SERIES_HEADER_BYTES
    room = max(0, (max_bytes - fixed) // per_series)
    kept = sorted(order[:room], key=lambda item: (item[2].layer, _kind_index(traces, item[2]), item[3]))
    series = []
    for _, _, trace, unit in kept:
        lo, hi, data = quantise(trace.values[:, unit])
        series.append({"kind": trace.kind, "layer": trace.layer, "unit": unit, "lo": lo, "hi": hi,
                       "q": _encoded(data)})
    notes = [note] if note else []
    if len(kept) < len(order):
        notes.append(f"The page holds {len(kept):,} of the {len(order):,} series (state, layer, unit): the "
                     f"ones most correlated with a feature; the rest would make it larger than "
                     f"{max_bytes / 1e6:g} MB. A shorter text shows more.")
    lo, hi, surprise = quantise(np.concatenate([[0.0], traces.surprise]))
    data = {
        "text": traces.text,
        "cell": traces.cell,
        "tokens": traces.tokens,
        "surprise": {"lo": lo, "hi": hi, "q": _encoded(surprise[1:])},
        "top_ids": _encoded(np.asarray(traces.top_ids, "<u2").tobytes()),
        "top_p": _encoded(np.clip(np.rint(np.asarray(traces.top_probabilities) * 255), 0, 255)
                          .astype(np.uint8).tobytes()),
        "top": int(np.shape(traces.top_ids)[1]) if size else 0,
        "kinds": [{"kind": trace.kind, "layer": trace.layer, "units": int(trace.values.shape[1])}
                  for trace in traces.traces],
        "series": series,
        "ranking": [{"feature": row.feature, "kind": row.kind, "layer": row.layer, "unit": row.unit,
                     "r": round(row.correlation, 3)} for row in ranking],
        "notes": notes,
    }
    return data, len(kept), len(order), ranking


def _kind_index(traces: UnitTraces, trace) -> int:
    return next(i for i, t in enumerate(traces.traces) if t is trace)


def render_page(data: dict) -> str:
    """The HTML of the page holding `data` (from `page_data`)."""
    payload = json.dumps(data, separators=(",", ":"), ensure_ascii=True).replace("</", "<\\/")
    return PAGE_TEMPLATE.replace("/*DATA*/", payload)


def write_page(path: Path, traces: UnitTraces, features: dict[str, np.ndarray], *, note: str = "",
               max_bytes: int = MAX_PAGE_BYTES) -> PageSummary:
    """Writes the page of `traces` to `path`, whole or not at all.

    Args:
      path: the .html file to write (its folder must exist).
      traces: from `unit_traces.trace_text`.
      features: `text_features(traces.text)`, for the ranking.
      note: a line shown at the top of the page (e.g. `cut_text`'s).
      max_bytes: the largest page written.

    Returns:
      A `PageSummary`.
    """
    data, kept, total, ranking = page_data(traces, features, note=note, max_bytes=max_bytes)
    html = render_page(data)
    write_text(Path(path), html)
    return PageSummary(Path(path), len(html.encode("utf-8")), kept, total, ranking, " ".join(data["notes"]))


PAGE_TEMPLATE = r"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>kerasrnn: units over a text</title>
<style>
body{font-family:sans-serif;margin:1em;color:#222}
#controls{position:sticky;top:0;background:#fff;padding:.4em 0;border-bottom:1px solid #ccc;z-index:1}
#controls label{margin-right:1em}
#text{font-family:monospace;white-space:pre-wrap;line-height:1.5;margin-top:1em}
#text span{cursor:default}
#tip{position:fixed;display:none;background:#fffff0;border:1px solid #888;padding:.4em;font:12px monospace;
white-space:pre;pointer-events:none;z-index:2}
table{border-collapse:collapse;font-size:13px;margin-top:.5em}td,th{border:1px solid #ccc;padding:2px 6px}
tbody tr{cursor:pointer}tbody tr:hover{background:#eef}.note{color:#a40}
</style></head><body>
<h1>Units of a <span id="cell"></span> character model over a text</h1>
<div id="notes"></div>
<details open><summary>Units that track features of the text (click a row to show the unit)</summary>
<table><thead><tr><th>feature</th><th>state</th><th>layer</th><th>unit</th><th>correlation r</th></tr></thead>
<tbody id="ranking"></tbody></table></details>
<div id="controls">
<label>Shade by <select id="mode"><option value="unit">a unit</option><option value="surprise">surprise
(loss on the character)</option></select></label>
<label>state <select id="kind"></select></label>
<label>layer <select id="layer"></select></label>
<label>unit <select id="unit"></select></label>
<span id="legend"></span>
</div>
<div id="text"></div><div id="tip"></div>
<script id="data" type="application/json">/*DATA*/</script>
<script>
"use strict";
const D = JSON.parse(document.getElementById("data").textContent);
const bytes = s => Uint8Array.from(atob(s), c => c.charCodeAt(0));
const chars = Array.from(D.text), N = chars.length;  // code points, as Python counts them
const surprise = bytes(D.surprise.q), topP = bytes(D.top_p);
const topIdBytes = bytes(D.top_ids), topIds = new Uint16Array(topIdBytes.length / 2);
for (let i = 0; i < topIds.length; i++) topIds[i] = topIdBytes[2 * i] | (topIdBytes[2 * i + 1] << 8);
const series = new Map(D.series.map(s => [s.kind + "|" + s.layer + "|" + s.unit, s]));
const $ = id => document.getElementById(id);
$("cell").textContent = D.cell;
function note(n) { const p = document.createElement("p"); p.className = "note"; p.textContent = n; $("notes").append(p); }
D.notes.forEach(note);
const show = c => c === "\n" ? "\u21b5" : c === " " ? "\u2423" : c === "\t" ? "\u21e5" : c;
// The characters, one span each, built here rather than sent as HTML.
const spans = new Array(N), frag = document.createDocumentFragment();
for (let i = 0; i < N; i++) { const s = document.createElement("span"); s.textContent = chars[i]; s.dataset.i = i; spans[i] = s; frag.append(s); }
$("text").append(frag);
function option(select, value, label) { const o = document.createElement("option"); o.value = value; o.textContent = label; select.append(o); }
const kinds = [...new Set(D.series.map(s => s.kind))];
kinds.forEach(k => option($("kind"), k, k));
function fillLayers() {
  const layers = [...new Set(D.series.filter(s => s.kind === $("kind").value).map(s => s.layer))];
  $("layer").innerHTML = ""; layers.forEach(l => option($("layer"), l, l)); fillUnits();
}
function fillUnits() {
  const k = $("kind").value, l = +$("layer").value;
  const total = (D.kinds.find(x => x.kind === k && x.layer === l) || {units: 0}).units;
  const units = D.series.filter(s => s.kind === k && s.layer === l).map(s => s.unit);
  $("unit").innerHTML = ""; units.forEach(u => option($("unit"), u, u));
  $("unit").title = units.length + " of " + total + " units on this page";
}
let current = null;
function decoded(s) { const q = bytes(s.q), v = new Float32Array(N), step = (s.hi - s.lo) / 255; for (let i = 0; i < N; i++) v[i] = s.lo + q[i] * step; return v; }
function paint() {
  const mode = $("mode").value;
  if (mode === "surprise") {
    current = null;
    for (let i = 0; i < N; i++) spans[i].style.background = `rgba(230,120,0,${(surprise[i] / 255).toFixed(3)})`;
    $("legend").textContent = `white: 0 nats, orange: ${D.surprise.hi.toFixed(2)} nats`;
    return;
  }
  const s = series.get($("kind").value + "|" + $("layer").value + "|" + $("unit").value);
  if (!s) return;
  const v = decoded(s); current = v;
  const signed = s.lo < 0, scale = signed ? Math.max(-s.lo, s.hi) : Math.max(s.hi, 1e-12);
  for (let i = 0; i < N; i++) {
    const t = v[i] / scale;
    spans[i].style.background = t >= 0 ? `rgba(220,40,40,${t.toFixed(3)})` : `rgba(40,90,220,${(-t).toFixed(3)})`;
  }
  $("legend").textContent = signed ? `blue: \u2212${scale.toPrecision(3)}, white: 0, red: +${scale.toPrecision(3)}`
                                   : `white: 0, red: ${scale.toPrecision(3)}`;
}
$("kind").onchange = () => { fillLayers(); paint(); };
$("layer").onchange = () => { fillUnits(); paint(); };
$("unit").onchange = paint; $("mode").onchange = paint;
function choose(kind, layer, unit) {
  $("mode").value = "unit"; $("kind").value = kind; fillLayers(); $("layer").value = layer; fillUnits(); $("unit").value = unit;
}
// The address may name what to show (#unit=STATE/LAYER/UNIT or #surprise), so a link can point at one
// unit; true if it named something on the page.
function chooseFromAddress() {
  const wanted = decodeURIComponent(location.hash.slice(1));
  if (wanted === "") return false;
  if (wanted === "surprise") { $("mode").value = "surprise"; return true; }
  const m = /^unit=(.+)\/(\d+)\/(\d+)$/.exec(wanted);
  if (m && series.has(m[1] + "|" + +m[2] + "|" + +m[3])) { choose(m[1], +m[2], +m[3]); return true; }
  note(m ? `The address names ${m[1]} of layer ${+m[2]}, unit ${+m[3]}: it is not on this page.`
         : `The address ends in #${wanted}: write #unit=STATE/LAYER/UNIT (e.g. #unit=hidden/1/0) or #surprise.`);
  return false;
}
addEventListener("hashchange", () => { if (chooseFromAddress()) paint(); });
for (const row of D.ranking) {
  const tr = document.createElement("tr");
  for (const x of [row.feature, row.kind, row.layer, row.unit, row.r.toFixed(3)]) { const td = document.createElement("td"); td.textContent = x; tr.append(td); }
  tr.onclick = () => { choose(row.kind, row.layer, row.unit); paint(); };
  $("ranking").append(tr);
}
$("text").addEventListener("mouseover", e => {
  const i = e.target.dataset ? e.target.dataset.i : undefined;
  if (i === undefined) return;
  const k = +i, lines = [`#${k} ${JSON.stringify(chars[k])}`];
  if (current) lines.push(`value ${current[k].toPrecision(3)}`);
  lines.push(`surprise ${(D.surprise.lo + surprise[k] * (D.surprise.hi - D.surprise.lo) / 255).toFixed(2)} nats`);
  lines.push("next:");
  for (let j = 0; j < D.top; j++) lines.push(`  ${show(D.tokens[topIds[k * D.top + j]])}  ${(topP[k * D.top + j] / 255).toFixed(3)}`);
  $("tip").textContent = lines.join("\n"); $("tip").style.display = "block";
});
$("text").addEventListener("mousemove", e => { $("tip").style.left = (e.clientX + 14) + "px"; $("tip").style.top = (e.clientY + 14) + "px"; });
$("text").addEventListener("mouseleave", () => { $("tip").style.display = "none"; });
fillLayers();
if (!chooseFromAddress() && D.ranking.length) { const r = D.ranking[0]; choose(r.kind, r.layer, r.unit); }
paint();
</script></body></html>
"""
