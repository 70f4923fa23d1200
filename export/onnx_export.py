"""`livegen export`: the trained Keras model as a one-character ONNX step model.

tf2onnx turns a Keras 3 LSTM layer into Loop ops, several times slower per
step than plain matrix products (DESIGN.md), so the step is rebuilt from the
trained layers' own LSTMCell objects (`lstm.cell` shares the weights) inside a
tf.function whose state is explicit. The result has no Loop or Scan ops. The
interface is documented in livegen/model_file.py.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import onnx
import tensorflow as tf
import tf2onnx

from export.model import ModelConfig, lstm_name
from export.train import TRAINING_RECORD
from livegen.errors import LivegenError
from livegen.model_file import (
    FORMAT_VERSION,
    LOGITS_OUTPUT,
    META_CARD,
    META_FORMAT,
    META_VOCABULARY,
    TOKEN_INPUT,
    load_model,
    next_state_names,
    state_names,
)
from livegen.vocab import Vocabulary

OPSET = 17
PARITY_TOLERANCE = 1e-4


@dataclass(frozen=True)
class ExportReport:
    path: Path
    parity_max_abs_diff: float
    parity_characters: int


def export_model(keras_path: Path, output: Path) -> ExportReport:
    """Write output, but only once the parity check has passed."""
    record = read_training_record(keras_path)
    try:
        model = keras.models.load_model(keras_path, compile=False)
    except Exception as error:  # Keras raises many types for a bad file
        raise LivegenError(f"{keras_path} is not a readable Keras model: {str(error).splitlines()[0][:200]}") from None
    config = ModelConfig(**record["config"])
    onnx_model = convert_step_model(model, config)
    _add_metadata(onnx_model, record, config)

    output.parent.mkdir(parents=True, exist_ok=True)
    handle, staging = tempfile.mkstemp(suffix=".onnx", dir=output.parent)
    os.close(handle)
    try:
        onnx.save(onnx_model, staging)
        difference = parity_difference(model, Path(staging), record["parity_text"])
        if not difference <= PARITY_TOLERANCE:
            raise LivegenError(f"parity check failed: ONNX logits differ from Keras by {difference:.2e} "
                               f"(allowed {PARITY_TOLERANCE:.0e}); {output} was not written")
        os.replace(staging, output)
    finally:
        if os.path.exists(staging):
            os.remove(staging)
    characters = len(record["parity_text"])
    print(f"wrote {output}: parity over {characters} held-out characters, max |ONNX - Keras| = {difference:.2e}")
    return ExportReport(output, difference, characters)


def read_training_record(keras_path: Path) -> dict:
    if not keras_path.is_file():
        raise LivegenError(f"model file not found: {keras_path}")
    record_path = keras_path.parent / TRAINING_RECORD
    if not record_path.is_file():
        raise LivegenError(f"{record_path} is missing: export reads the vocabulary and card from the training "
                           "run folder that holds the model")
    return json.loads(record_path.read_text())


def convert_step_model(model: keras.Model, config: ModelConfig) -> onnx.ModelProto:
    """The step graph from the trained layers, converted and given stable tensor names."""
    embedding = model.get_layer("embedding")
    cells = [model.get_layer(lstm_name(layer)).cell for layer in range(config.layers)]
    dense = model.get_layer("dense")
    signature = [tf.TensorSpec([None], tf.int64, name=TOKEN_INPUT)] + [
        tf.TensorSpec([None, config.units], tf.float32, name=name) for name in state_names(config.layers)
    ]

    @tf.function(input_signature=signature)
    def step(token, *state):
        x = embedding(token)
        next_state = []
        for layer, cell in enumerate(cells):
            x, (h, c) = cell(x, [state[2 * layer], state[2 * layer + 1]], training=False)
            next_state += [h, c]
        return [dense(x), *next_state]

    onnx_model, _ = tf2onnx.convert.from_function(step, input_signature=signature, opset=OPSET)
    _rename_outputs(onnx_model.graph, [LOGITS_OUTPUT, *next_state_names(config.layers)])
    for value in [*onnx_model.graph.input, *onnx_model.graph.output]:
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    return onnx_model


def _rename_outputs(graph: onnx.GraphProto, names: list[str]) -> None:
    renames = {output.name: name for output, name in zip(graph.output, names, strict=True)}
    for node in graph.node:
        node.output[:] = [renames.get(name, name) for name in node.output]
        node.input[:] = [renames.get(name, name) for name in node.input]
    for output in graph.output:
        output.name = renames[output.name]


def _add_metadata(onnx_model: onnx.ModelProto, record: dict, config: ModelConfig) -> None:
    card = {
        **config.as_dict(),
        **{key: record.get(key) for key in ("corpus", "tunes", "validation_tunes", "validation_bits_per_char",
                                             "epochs", "batch_size", "sequence_length", "learning_rate",
                                             "characters_per_second", "command", "date")},
    }
    for key, value in {
        META_FORMAT: FORMAT_VERSION,
        META_VOCABULARY: json.dumps(record["vocabulary"]),
        META_CARD: json.dumps(card),
    }.items():
        onnx_model.metadata_props.add(key=key, value=value)
    onnx_model.producer_name = "livegen export"


def parity_difference(model: keras.Model, onnx_path: Path, text: str) -> float:
    """Max |logit difference| between the Keras sequence model and the ONNX step model, stepped per character."""
    step_model = load_model(onnx_path)
    ids = Vocabulary(step_model.vocabulary.characters).encode(text)
    keras_logits = np.asarray(model(ids[None, :], training=False))[0]
    state = {name: np.zeros((1, step_model.units), np.float32) for name in state_names(step_model.layers)}
    output_names = [LOGITS_OUTPUT, *next_state_names(step_model.layers)]
    worst = 0.0
    for position, token in enumerate(ids):
        logits, *next_state = step_model.session.run(output_names, {TOKEN_INPUT: np.array([token], np.int64), **state})
        state = dict(zip(state_names(step_model.layers), next_state))
        worst = max(worst, float(np.abs(logits[0] - keras_logits[position]).max()))
    return worst
