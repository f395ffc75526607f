"""Shared test settings: quiet TensorFlow, and the path of the read-only public data beside the repo."""

import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import pytest  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture
def shared_data():
    """`../shared/data`, the real public data the tests may read; skips where it is absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"{SHARED_DATA} is not here (it sits beside the repo in CI and sessions)")
    return SHARED_DATA
