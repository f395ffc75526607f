"""Shared test settings: quiet TensorFlow, and the path of the read-only public data beside the repo."""

import atexit
import os
import shutil
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
# Streamed corpora write id files to a cache: the suite's go to a folder of its own, removed at the end.
if "KERASRNN_CACHE_DIR" not in os.environ:
    os.environ["KERASRNN_CACHE_DIR"] = tempfile.mkdtemp(prefix="kerasrnn-test-cache-")
    atexit.register(shutil.rmtree, os.environ["KERASRNN_CACHE_DIR"], ignore_errors=True)

import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data():
    """`../shared/data`, the real public data the tests may read; skips where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is not here (it sits beside the repo in CI and sessions)")
    return SHARED_DATA
