"""ONNX export: a step graph with explicit state, self-describing, matching Keras."""

from __future__ import annotations

import json

import numpy as np
import onnx
import pytest

from livegen.cli.main import main
from livegen.model.model_file import load_model, next_state_names, state_names

pytestmark = pytest.mark.slow


def test_export_matches_keras_within_1e_4_over_500_held_out_characters(tiny_run, tmp_path):
    from livegen.export.onnx_export import export_model

    report = export_model(tiny_run / "best.keras", tmp_path / "model.onnx")
    assert report.parity_characters == 500
    assert report.parity_max_abs_diff <= 1e-4
    assert report.bits_per_char == report.float32_bits_per_char


def test_int8_export_is_written_only_within_one_percent_of_float32(tiny_run, tiny_onnx, tmp_path):
    from livegen.export.onnx_export import export_model

    report = export_model(tiny_run / "best.keras", tmp_path / "int8.onnx", weights="int8")
    assert report.bits_per_char <= report.float32_bits_per_char * 1.01
    card = load_model(tmp_path / "int8.onnx").card
    assert card["weights"] == "int8"
    assert card["validation_bits_per_char"] == pytest.approx(report.bits_per_char)
    assert card["float32_validation_bits_per_char"] == pytest.approx(report.float32_bits_per_char)
    assert (tmp_path / "int8.onnx").stat().st_size < 0.6 * tiny_onnx.stat().st_size


def test_step_graph_has_no_loops_and_the_documented_interface(tiny_onnx):
    graph = onnx.load(tiny_onnx).graph
    assert not {"Loop", "Scan"} & {node.op_type for node in graph.node}
    assert [value.name for value in graph.input] == ["token", *state_names(2)]
    assert [value.name for value in graph.output] == ["logits", *next_state_names(2)]
    assert all(value.type.tensor_type.shape.dim[0].dim_param == "batch" for value in [*graph.input, *graph.output])


def test_metadata_carries_vocabulary_and_card(tiny_run, tiny_onnx):
    model = load_model(tiny_onnx)
    record = json.loads((tiny_run / "training.json").read_text())
    assert model.vocabulary.characters == record["vocabulary"]
    assert (model.layers, model.units, model.card["embedding"]) == (2, 24, 16)
    for field in ("corpus", "tunes", "validation_bits_per_char", "epochs", "command", "date", "dropout"):
        assert model.card[field] == record[field] if field in record else model.card[field] is not None
    assert model.card["command"] == "tiny test run"


def test_batch_is_dynamic_and_streams_stay_independent(tiny_onnx):
    model = load_model(tiny_onnx)
    tokens = model.vocabulary.encode("X:1\nK:G")
    zeros = {name: np.zeros((3, model.units), np.float32) for name in state_names(model.layers)}
    batch = np.array([tokens[0], tokens[1], tokens[0]], np.int64)
    logits, *_ = model.session.run(None, {"token": batch, **zeros})
    assert logits.shape == (3, len(model.vocabulary))
    np.testing.assert_allclose(logits[0], logits[2], atol=1e-6)
    assert np.abs(logits[0] - logits[1]).max() > 1e-4


def test_export_of_a_missing_model_is_one_clear_line(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:  # refused while the command line is read, before TensorFlow loads
        main(["export", str(tmp_path / "nowhere.keras"), "-o", str(tmp_path / "m.onnx")])
    assert exit.value.code == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "no such file" in error
    assert not (tmp_path / "m.onnx").exists()
