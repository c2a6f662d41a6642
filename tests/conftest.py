"""Shared fixtures. Tests never touch the network."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")
# Tests never read values a developer downloaded with `mitra data fetch` (data/cache/): the
# partner panel would prefer them over the committed snapshot. Loader tests pass a cache.
os.environ["MITRA_FETCH_CACHE"] = "off"

ROOT = Path(__file__).resolve().parents[1]
#: Reference datasets for validation live beside the checkout, never inside it.
SHARED_REFERENCE = ROOT.parent / "shared" / "reference"


@pytest.fixture(scope="session")
def ledger():
    """The ledger built from the shipped raw data with default settings."""
    from analysis.data import build_ledger

    return build_ledger()


@pytest.fixture(scope="session")
def shared_reference() -> Path:
    """Path of ../shared/reference; skips the test when it is absent (as on users' machines)."""
    if not SHARED_REFERENCE.is_dir():
        pytest.skip(f"reference data not available at {SHARED_REFERENCE}")
    return SHARED_REFERENCE
