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

# JACK server, MIDI reader and `livegen run` fixtures live in modules of their own.
pytest_plugins = ["jack_harness", "daemon_harness"]

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


@pytest.fixture(scope="session")
def tiny_run(nottingham, tmp_path_factory) -> Path:
    """A tiny model trained for two short epochs on a handful of tunes; returns its run folder."""
    from livegen.export.train import TrainingOptions, train

    run = tmp_path_factory.mktemp("tiny-run")
    train(TrainingOptions(data=nottingham, out=run, embedding=16, units=24, layers=2, epochs=2, batch_size=8,
                          sequence_length=32, max_tunes=24, verbose=0, command="tiny test run"))
    return run


@pytest.fixture(scope="session")
def tiny_onnx(tiny_run) -> Path:
    from livegen.export.onnx_export import export_model

    return export_model(tiny_run / "best.keras", tiny_run / "model.onnx").path
