"""The wheel: what it carries, and that its `kerasrnn` command trains every task outside a checkout.

The wheel is built from a copy of what the build reads (a build inside the checkout would leave
build/ and *.egg-info there), installed with `pip install --target`, and run with only that folder
on PYTHONPATH, from a folder outside the checkout: as a user's `pip install kerasrnn` would, with no
`datasets/` folder beside the package to fall back on.
"""

import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

import kerasrnn

pytestmark = pytest.mark.integration  # builds a wheel and trains every task from it, in subprocesses

REPO_ROOT = Path(__file__).resolve().parents[1]
BUILD_INPUTS = ("pyproject.toml", "README.md", "kerasrnn", "datasets")
# Each builder's files that an installed kerasrnn needs: tfds reads the description, citation and
# tags beside the builder.
BUILDER_FILES = ("{name}_dataset_builder.py", "README.md", "CITATIONS.bib", "TAGS.txt")
# Small enough that each run takes seconds, its cost being TensorFlow's start and the final
# evaluation over the whole validation split (big batches make that a few steps). On the CPU: three
# processes at once would each claim a GPU's memory.
TRAIN = ("train", "--epochs", "1", "--steps-per-epoch", "2", "--validation-steps", "1",
         "--units", "4", "--embedding-dim", "4", "--device", "cpu")
TASK_ARGS = {
    "charlm": ("--batch-size", "1024", "--seq-len", "8"),
    "classify": ("--batch-size", "2048", "--max-length", "8"),
    "translate": ("--batch-size", "2048", "--max-length", "40"),
}
DATASETS = {"charlm": ("python_docs", "1.0.0"), "classify": ("spelled_numbers", "2.0.0")}


def _pip(*args, cwd):
    done = subprocess.run([sys.executable, "-m", "pip", *args], cwd=cwd, capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.fixture(scope="module")
def wheel(tmp_path_factory):
    """The wheel of a copy of the checkout, built without network (`--no-build-isolation`)."""
    setuptools_major = int(importlib.metadata.version("setuptools").split(".")[0])
    assert setuptools_major >= 77, "needs setuptools>=77: pip install -r requirements-test.txt"
    source = tmp_path_factory.mktemp("source")
    for name in BUILD_INPUTS:
        if (REPO_ROOT / name).is_dir():
            shutil.copytree(REPO_ROOT / name, source / name,
                            ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(REPO_ROOT / name, source / name)
    dist = tmp_path_factory.mktemp("dist")
    _pip("wheel", "--quiet", "--no-deps", "--no-build-isolation", "--wheel-dir", str(dist),
         str(source), cwd=source)
    (built,) = dist.glob("kerasrnn-*.whl")
    return built


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory):
    """(site, env, cwd): the wheel installed into `site`, an environment that imports kerasrnn from
    there only, and a working folder outside the checkout."""
    site = tmp_path_factory.mktemp("site")
    _pip("install", "--quiet", "--no-deps", "--no-compile", "--target", str(site), str(wheel),
         cwd=site)
    cwd = tmp_path_factory.mktemp("elsewhere")
    env = dict(os.environ, PYTHONPATH=str(site), KERAS_HOME=str(cwd / "keras"))
    return site, env, cwd


def _run(command, installed):
    _, env, cwd = installed
    return subprocess.run(command, env=env, cwd=cwd, capture_output=True, text=True, timeout=120)


def test_wheel_carries_every_package_and_the_builders_inside_kerasrnn(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())

    packages = sorted(p.parent.relative_to(REPO_ROOT).as_posix()
                      for p in (REPO_ROOT / "kerasrnn").rglob("__init__.py"))
    missing = [p for p in packages if f"{p}/__init__.py" not in names]
    assert not missing, f"add {missing} to [tool.setuptools] packages in pyproject.toml"
    builders = sorted(p.name for p in (REPO_ROOT / "datasets").iterdir()
                      if (p / f"{p.name}_dataset_builder.py").is_file())
    assert {"python_docs", "spelled_numbers"} <= set(builders)
    for name in builders:
        for file in BUILDER_FILES:
            assert f"kerasrnn/datasets/{name}/{file.format(name=name)}" in names
    assert not [n for n in names if n.startswith("datasets/")]  # would shadow Hugging Face's
    dist_info = wheel.name.rsplit("-", 3)[0] + ".dist-info"
    assert {n.split("/")[0] for n in names} == {"kerasrnn", dist_info}


def test_installed_kerasrnn_is_the_one_imported_and_has_the_version(wheel, installed):
    site, _, _ = installed

    imported = _run([sys.executable, "-c", "import kerasrnn; print(kerasrnn.__file__)"], installed)
    version = _run([str(site / "bin" / "kerasrnn"), "--version"], installed)

    assert Path(imported.stdout.strip()).is_relative_to(site), imported.stdout + imported.stderr
    assert version.returncode == 0, version.stderr
    assert version.stdout == f"kerasrnn, version {kerasrnn.__version__}\n"
    assert wheel.name.startswith(f"kerasrnn-{kerasrnn.__version__}-")


def test_installed_kerasrnn_trains_every_task_on_its_default_data(installed):
    site, env, cwd = installed
    data_dir = cwd / "tfds"  # one for the three runs, so spelled_numbers is prepared once
    processes = {}

    def start(task):
        command = [str(site / "bin" / "kerasrnn"), *TRAIN, "--task", task, *TASK_ARGS[task],
                   "--data-dir", str(data_dir), "--run-dir", str(cwd / task)]
        # To files, not pipes: a process blocked on a full pipe would never end.
        with open(cwd / f"{task}.log", "w") as log:
            processes[task] = subprocess.Popen(command, env=env, cwd=cwd, stdout=log,
                                               stderr=subprocess.STDOUT)

    def finish(task):
        returncode = processes[task].wait(timeout=300)
        output = (cwd / f"{task}.log").read_text()
        assert returncode == 0, output
        assert (cwd / task / "model.keras").is_file(), output
        metrics = json.loads((cwd / task / "metrics.json").read_text())
        assert metrics["epochs"] == 1 and metrics["parameters"] > 0, output

    try:
        # Side by side, to save time: charlm and classify prepare different datasets. translate
        # reads the spelled_numbers that classify prepares (two processes must not prepare one
        # dataset at once), so it starts once tfds has renamed the finished folder into place.
        start("charlm")
        start("classify")
        spelled_numbers = data_dir.joinpath(*DATASETS["classify"])
        deadline = time.monotonic() + 300
        while not spelled_numbers.is_dir() and processes["classify"].poll() is None:
            assert time.monotonic() < deadline, "spelled_numbers was not prepared in 300 s"
            time.sleep(0.2)
        start("translate")
        for task in processes:
            finish(task)
    finally:
        for process in processes.values():
            if process.poll() is None:
                process.kill()
                process.wait()

    for name, version in DATASETS.values():
        info = json.loads((data_dir / name / version / "dataset_info.json").read_text())
        # tfds found the installed builder's README.md and CITATIONS.bib.
        assert info["description"] and info["citation"], info
