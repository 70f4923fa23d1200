"""Shared test fixtures: real external tools, found or reported; a private JACK server, MIDI readers and
`livegen run` processes on it (their classes live in livegen.testing, which bench/ uses too).

In CI (CI=true) a test that needs jackd or abc2midi fails when the tool is
missing, so a broken install step can never pass as a skip. Elsewhere it is
skipped with the reason.
"""

from __future__ import annotations

import importlib.util
import itertools
import os
import shutil
from pathlib import Path

import pytest

from livegen.offline.default_corpus import DEFAULT_CORPUS
from livegen.testing.daemon_harness import Livegen
from livegen.testing.jack_harness import JackServer, MidiReader

NOTTINGHAM = DEFAULT_CORPUS
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


@pytest.fixture(scope="session")
def training_extra():
    """TensorFlow and Keras (pip install -e '.[train]'): skipped without them, a failure in CI."""
    require(all(importlib.util.find_spec(name) is not None for name in ("tensorflow", "keras")),
            "the training extra (TensorFlow and Keras: pip install -e '.[train]')")


@pytest.fixture
def jackd():
    require(shutil.which("jackd") is not None, "jackd (Debian package jackd2)")


_jack_server_names = itertools.count()


@pytest.fixture
def jack_server(monkeypatch):
    """A private JACK server for one test; JACK_DEFAULT_SERVER names it for this process and its children."""
    require(shutil.which("jackd") is not None and shutil.which("jack_lsp") is not None,
            "jackd and jack_lsp (Debian package jackd2)")
    server = JackServer(f"livegen-test-{os.getpid()}-{next(_jack_server_names)}")
    monkeypatch.setenv("JACK_DEFAULT_SERVER", server.name)
    server.start()
    yield server
    server.close()


@pytest.fixture
def midi_reader(jack_server):
    """make_reader(source=None, name=None): a MidiReader on the test's server, connected to port `source` if given."""
    readers = []

    def make_reader(source: str | None = None, name: str | None = None) -> MidiReader:
        reader = MidiReader(name or f"reader{len(readers)}")
        readers.append(reader)
        if source is not None:
            jack_server.connect(source, reader.port)
        return reader

    yield make_reader
    for reader in readers:
        reader.close()


@pytest.fixture
def livegen(jack_server, tmp_path):
    """livegen(port, *options): start `livegen run` on the test's JACK server, recording under tmp_path."""
    started: list[Livegen] = []

    def launch(port: str, *options: str, python_options: tuple[str, ...] = ()) -> Livegen:
        started.append(Livegen(tmp_path, port, *options, python_options=python_options))
        return started[-1]

    yield launch
    for process in started:
        process.stop()


@pytest.fixture(scope="session")
def nottingham() -> Path:
    require(NOTTINGHAM.is_dir(), f"the Nottingham corpus at {NOTTINGHAM}")
    return NOTTINGHAM


@pytest.fixture(scope="session")
def tiny_run(training_extra, nottingham, tmp_path_factory) -> Path:
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
