"""Shared test fixtures: real external tools, found or reported.

In CI (CI=true) a test that needs jackd or abc2midi fails when the tool is
missing, so a broken install step can never pass as a skip. Elsewhere it is
skipped with the reason.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

NOTTINGHAM = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "nottingham" / "ABC_cleaned"
NOTTINGHAM_ORIGINAL = NOTTINGHAM.parent / "ABC_original"


def require(available: bool, what: str) -> None:
    """Fail in CI, skip elsewhere, when an external requirement is missing."""
    if available:
        return
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"{what} is missing, and CI must provide it (see .ci/run)")
    pytest.skip(f"{what} is missing")


@pytest.fixture
def abc2midi():
    require(shutil.which("abc2midi") is not None, "abc2midi (Debian package abcmidi)")


@pytest.fixture
def jackd():
    require(shutil.which("jackd") is not None, "jackd (Debian package jackd2)")


@pytest.fixture(scope="session")
def nottingham() -> Path:
    require(NOTTINGHAM.is_dir(), f"the Nottingham corpus at {NOTTINGHAM}")
    return NOTTINGHAM
