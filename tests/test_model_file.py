"""Opening models: the shipped one from anywhere, and one clear line for anything else."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import onnx
import pytest

from livegen.errors import LivegenError
from livegen.model.model_file import default_model_path, load_model
from livegen.model.sizes import SHIPPED_SIZES

REPOSITORY = Path(__file__).resolve().parents[1]


def test_the_shipped_model_loads_with_a_complete_card():
    model = load_model()
    assert model.path == default_model_path()
    assert (model.layers, model.units, model.card["embedding"]) == (SHIPPED_SIZES.layers, SHIPPED_SIZES.units,
                                                                 SHIPPED_SIZES.embedding)
    assert 0 < model.card["validation_bits_per_char"] < 2
    assert "X" in model.vocabulary and "|" in model.vocabulary


def test_info_finds_the_shipped_model_from_any_directory(tmp_path):
    result = subprocess.run([sys.executable, "-m", "livegen", "info"], cwd=tmp_path, capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"{SHIPPED_SIZES.layers} x LSTM({SHIPPED_SIZES.units})" in result.stdout and "bits/char" in result.stdout


def test_a_missing_model_is_named(tmp_path):
    with pytest.raises(LivegenError, match="model file not found: .*absent.onnx"):
        load_model(tmp_path / "absent.onnx")


def test_a_truncated_model_is_reported_not_raised(tmp_path):
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(default_model_path().read_bytes()[:50_000])
    with pytest.raises(LivegenError, match="not a readable ONNX model"):
        load_model(truncated)


def test_a_foreign_onnx_model_is_not_taken_for_a_livegen_model(tmp_path):
    node = onnx.helper.make_node("Relu", ["x"], ["y"])
    graph = onnx.helper.make_graph(
        [node], "foreign",
        [onnx.helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [1])],
        [onnx.helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [1])],
    )
    foreign = tmp_path / "foreign.onnx"
    onnx.save(onnx.helper.make_model(graph, opset_imports=[onnx.helper.make_opsetid("", 17)]), foreign)
    with pytest.raises(LivegenError, match="not a livegen model"):
        load_model(foreign)


def test_a_model_from_a_newer_format_asks_for_a_new_export(tmp_path):
    model = onnx.load(default_model_path())
    for entry in model.metadata_props:
        if entry.key == "livegen.format":
            entry.value = "99"
    newer = tmp_path / "newer.onnx"
    onnx.save(model, newer)
    with pytest.raises(LivegenError, match="format '99'"):
        load_model(newer)


def test_the_command_line_reports_a_bad_model_in_one_line(tmp_path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(b"not a model at all")
    result = subprocess.run([sys.executable, "-m", "livegen", "info", "--model", str(garbage)],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("livegen: error:")
    assert "Traceback" not in result.stderr


def test_the_runtime_loads_and_steps_a_model_without_importing_tensorflow():
    probe = (
        "import sys, numpy as np\n"
        "from livegen.model.model_file import load_model\n"
        "import livegen.cli.main\n"
        "model = load_model()\n"
        "state = {i.name: np.zeros((1, model.units), np.float32) for i in model.session.get_inputs()[1:]}\n"
        "model.session.run(None, {'token': np.array([0]), **state})\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('tensorflow', 'keras', 'tf2onnx')\n"
        "                or m.startswith('livegen.export'))\n"
        "print(loaded)\n"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(REPOSITORY)})
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def step_model_of_constant_logits(path: Path, value: float, units: int = 4) -> Path:
    """A one-layer livegen step model, built with onnx's helpers, whose logits are all `value` (NaN, inf...)."""
    shipped = load_model()
    characters = shipped.vocabulary.characters
    helper, tensor = onnx.helper, onnx.TensorProto
    table = helper.make_tensor("table", tensor.FLOAT, [len(characters), len(characters)],
                               [value] * len(characters) ** 2)
    graph = helper.make_graph(
        [helper.make_node("Gather", ["table", "token"], ["logits"]),
         helper.make_node("Identity", ["h0"], ["next_h0"]), helper.make_node("Identity", ["c0"], ["next_c0"])],
        "constant-logits",
        [helper.make_tensor_value_info("token", tensor.INT64, ["batch"]),
         *(helper.make_tensor_value_info(name, tensor.FLOAT, ["batch", units]) for name in ("h0", "c0"))],
        [helper.make_tensor_value_info("logits", tensor.FLOAT, ["batch", len(characters)]),
         *(helper.make_tensor_value_info(name, tensor.FLOAT, ["batch", units]) for name in ("next_h0", "next_c0"))],
        initializer=[table],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    card = {**shipped.card, "layers": 1, "units": units}
    helper.set_model_props(model, {"livegen.format": "1", "livegen.vocabulary": json.dumps(characters),
                                   "livegen.card": json.dumps(card)})
    onnx.save(model, path)
    return path


def test_a_model_whose_outputs_are_not_finite_is_refused_at_load(tmp_path):
    finite = load_model(step_model_of_constant_logits(tmp_path / "flat.onnx", 0.0))  # the builder makes a model
    assert finite.layers == 1 and finite.units == 4
    for value in (math.nan, math.inf):
        broken = step_model_of_constant_logits(tmp_path / f"{value}.onnx", value)
        with pytest.raises(LivegenError, match="not finite numbers"):
            load_model(broken)


def test_generate_and_run_refuse_a_model_whose_outputs_are_nan_in_one_line(tmp_path):
    broken = step_model_of_constant_logits(tmp_path / "nan.onnx", math.nan)
    for verb in (["generate", "-n", "1", "-o", str(tmp_path / "out")], ["run", "--no-osc", "--no-cc", "--tunes", "1"]):
        result = subprocess.run([sys.executable, "-m", "livegen", *verb, "--model", str(broken)],
                                capture_output=True, text=True, timeout=60, cwd=REPOSITORY)
        assert result.returncode == 2, result.stderr
        lines = [line for line in result.stderr.splitlines() if line.startswith("livegen")]  # not a progress bar
        assert lines == [f"livegen: error: {broken} is damaged: its first step gives logits that are not finite "
                         "numbers (NaN or infinity); export the model again"], result.stderr
        assert not (tmp_path / "out").exists()
