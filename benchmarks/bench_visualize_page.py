"""How large the `visualize` page of a 100,000-character text is, and how fast a browser opens it.

    python benchmarks/bench_visualize_page.py                          # untrained 512-unit GRU
    python benchmarks/bench_visualize_page.py --run-dir runs/charlm    # a trained run's model
    python benchmarks/bench_visualize_page.py --text-file notes.txt --characters 20000

Reads the first `--characters` characters of the python_docs training text (or of `--text-file`)
with the model of `--run-dir`, or with an untrained model of the default size (a GRU of 512 units;
the page's size and drawing do not depend on the weights), and writes the page as `visualize` does.
Then Debian's headless Chromium (`chromium-headless-shell`) opens it from disk, and the fastest of
`--repeats` runs of each is printed, in wall-clock seconds of the whole browser process:

- `about:blank` with `--dump-dom`: starting and stopping the browser, for reference;
- the page with `--dump-dom`: parsing 20 MB, running its script (decoding the data, one element per
  character, shading by the first-ranked unit), then writing the DOM out; the DOM is checked to
  hold one shaded element per character;
- the page with `--screenshot` of a 1280x1024 window: the same, plus layout and painting;
- inside the page (`performance.now()`, from a script run after the page's own): a click on the
  second row of the ranking (decode that unit, shade every character again), and the switch to
  "Shade by surprise".

The goal: a text of 100,000 characters gives a page under 20 MB that a browser opens in seconds.
"""

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import click  # noqa: E402

BROWSERS = ("chromium-headless-shell", "chromium", "chromium-browser", "google-chrome")
WINDOW = (1280, 1024)
GOAL_BYTES = 20_000_000
# Run after the page's script: times a click on a ranking row and the switch to surprise, in the page.
PROBE = """<script>
(() => {
  const rows = document.querySelectorAll("#ranking tr"), mode = document.getElementById("mode");
  let started = performance.now();
  rows[Math.min(1, rows.length - 1)].click();
  const click = performance.now() - started;
  started = performance.now();
  mode.value = "surprise"; mode.onchange();
  const surprise = performance.now() - started;
  const out = document.createElement("pre"); out.id = "timings";
  out.textContent = `click ${click.toFixed(1)} surprise ${surprise.toFixed(1)}`;
  document.body.append(out);
})();
</script>"""


def find_browser() -> str:
    found = next((path for path in map(shutil.which, BROWSERS) if path), None)
    if found is None:
        raise click.ClickException("no headless Chromium (" + ", ".join(BROWSERS) + "); on Debian: apt-get install "
                                   "chromium-headless-shell")
    return found


def browse(browser: str, target: str, profile: Path, *arguments: str) -> tuple[float, str]:
    """(wall-clock seconds, stdout) of one browser process opening `target`."""
    started = time.perf_counter()
    result = subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu", f"--user-data-dir={profile}",
                             *arguments, target], capture_output=True, text=True, timeout=600)
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        raise click.ClickException(f"{browser} exited with {result.returncode}: {result.stderr[-500:]}")
    return seconds, result.stdout


def fastest(repeats: int, function) -> tuple[float, str]:
    """The (seconds, output) of the fastest of `repeats` calls of `function()`."""
    return min((function() for _ in range(repeats)), key=lambda timed: timed[0])


def read_text(text_file: Path | None, characters: int) -> str:
    if text_file is not None:
        text = text_file.read_text("utf-8")
    else:
        from kerasrnn.data.corpus import load_char_corpus

        text = load_char_corpus("python_docs").train
    if len(text) < characters:
        raise click.ClickException(f"the text has {len(text):,} characters, fewer than --characters {characters:,}")
    return text[:characters]


def traced(text: str, run_dir: Path | None):
    from kerasrnn.analysis.unit_traces import trace_run, trace_text

    if run_dir is not None:
        return trace_run(run_dir, text)
    import keras

    from kerasrnn.tasks.charlm.model import build_char_lm
    from kerasrnn.tasks.charlm.task import CharLMConfig

    config = CharLMConfig(carry_state=False)
    characters = sorted(set(text))
    keras.utils.set_random_seed(0)
    return trace_text(build_char_lm(config, len(characters) + 2, seed=0), config, characters, text)


@click.command()
@click.option("--run-dir", type=click.Path(exists=True, file_okay=False, path_type=Path), default=None,
              help="A charlm run whose model reads the text; default: an untrained GRU of 512 units.")
@click.option("--text-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None,
              help="A UTF-8 text to read; default: the python_docs training text.")
@click.option("--characters", type=click.IntRange(min=1), default=100_000, show_default=True,
              help="Characters read from the start of the text.")
@click.option("--repeats", type=click.IntRange(min=1), default=3, show_default=True,
              help="Browser runs of each kind; the fastest is printed.")
@click.option("--keep", type=click.Path(path_type=Path), default=None,
              help="Also save the page and the screenshot here (a folder).")
def main(run_dir, text_file, characters, repeats, keep):
    from kerasrnn.analysis.text_features import text_features
    from kerasrnn.analysis.visualize_page import write_page

    browser = find_browser()
    text = read_text(text_file, characters)
    started = time.perf_counter()
    traces = traced(text, run_dir)
    trace_seconds = time.perf_counter() - started
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        page = scratch / "page.html"
        started = time.perf_counter()
        summary = write_page(page, traces, text_features(text))
        write_seconds = time.perf_counter() - started
        probed = scratch / "probed.html"
        probed.write_text(page.read_text("utf-8").replace("</body>", PROBE + "</body>"), "utf-8")
        shot = scratch / "page.png"
        profile = scratch / "profile"
        blank, _ = fastest(repeats, lambda: browse(browser, "about:blank", profile, "--dump-dom"))
        dump, dom = fastest(repeats, lambda: browse(browser, page.as_uri(), profile, "--dump-dom"))
        shaded = len(re.findall(r'<span data-i="\d+" style="background: rgba?\(', dom))
        if shaded != len(text):
            raise click.ClickException(f"the dumped page holds {shaded:,} shaded characters, not {len(text):,}")
        screenshot, _ = fastest(repeats, lambda: browse(browser, page.as_uri(), profile, f"--screenshot={shot}",
                                                        f"--window-size={WINDOW[0]},{WINDOW[1]}"))
        _, probed_dom = browse(browser, probed.as_uri(), profile, "--dump-dom")
        click_ms, surprise_ms = map(float, re.search(r'<pre id="timings">click ([\d.]+) surprise ([\d.]+)</pre>',
                                                     probed_dom).groups())
        if keep is not None:
            keep.mkdir(parents=True, exist_ok=True)
            shutil.copy(page, keep / "page.html")
            shutil.copy(shot, keep / "page.png")
    load = os.getloadavg()
    version = subprocess.run([browser, "--version"], capture_output=True, text=True).stdout.strip()
    click.echo(f"{Path(browser).name} {version}; load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    click.echo(f"model: {traces.cell}, {'run ' + str(run_dir) if run_dir else 'untrained, default size'}; text: "
               f"{len(text):,} characters of {text_file or 'python_docs (train)'}")
    click.echo(f"trace {trace_seconds:.1f} s, write {write_seconds:.1f} s: page {summary.size:,} bytes "
               f"({summary.size / 1e6:.1f} MB, goal < {GOAL_BYTES / 1e6:g} MB: "
               f"{'met' if summary.size < GOAL_BYTES else 'MISSED'}), {summary.series:,} of {summary.all_series:,} "
               "series")
    click.echo(f"browser, fastest of {repeats}: about:blank --dump-dom {blank:.2f} s; page --dump-dom {dump:.2f} s "
               f"({len(dom.encode()) / 1e6:.1f} MB of DOM, {shaded:,} shaded characters); page --screenshot "
               f"{WINDOW[0]}x{WINDOW[1]} {screenshot:.2f} s")
    click.echo(f"in the page: a click on a ranking row {click_ms:.0f} ms, shade by surprise {surprise_ms:.0f} ms")


if __name__ == "__main__":
    main()
