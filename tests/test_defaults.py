"""Each default has one home: the command line shows the options' own defaults, and finds the corpus from
the checkout, not from the folder it is started in."""

from __future__ import annotations

import dataclasses

from livegen.cli.main import DEFAULT_CORPUS, build_parser
from livegen.model.model_file import load_model
from livegen.model.sizes import SHIPPED_SIZES
from livegen.perform.arrangement import ArrangementSettings
from livegen.session.options import DEFAULT_CONTROL_PORT, DaemonOptions, OscOptions


def test_the_default_corpus_is_found_from_any_folder(nottingham, monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert DEFAULT_CORPUS.is_dir() and DEFAULT_CORPUS.resolve() == nottingham.resolve()


def test_the_command_line_reads_its_defaults_from_the_options():
    run = build_parser().parse_args(["run"])
    session, osc, arrangement = DaemonOptions(), OscOptions(), ArrangementSettings()
    assert (run.port, run.backend, run.clock, run.clock_port, run.lookahead, run.max_length) == (
        session.port, session.backend, session.clock, session.clock_port, session.lookahead_beats, session.max_length)
    assert (run.osc_host, run.osc_port) == (osc.host, osc.port)
    assert run.control_port == DEFAULT_CONTROL_PORT
    assert (run.chord_velocity, run.accent, run.lowest, run.highest) == (
        arrangement.chord_velocity, arrangement.accent, arrangement.lowest, arrangement.highest)
    train = build_parser().parse_args(["train"])
    assert {name: getattr(train, name) for name in ("embedding", "units", "layers", "dropout")} == (
        dataclasses.asdict(SHIPPED_SIZES))


def test_livegen_train_with_no_options_trains_the_shipped_model_again():
    """The shipped model's card records how it was trained; a plain `livegen train` must do the same."""
    card = load_model().card
    train = build_parser().parse_args(["train"])
    trained_with = ("embedding", "units", "layers", "dropout", "batch_size", "sequence_length", "learning_rate",
                    "learning_rate_schedule")
    assert {name: card[name] for name in trained_with} == {name: getattr(train, name) for name in trained_with}
    assert train.transpose_to == "auto" and card["transposed_copies"] > 0
