"""`livegen export`: the trained Keras model as a one-character ONNX step model.

tf2onnx turns a Keras 3 LSTM layer into Loop ops, several times slower per
step than plain matrix products (docs/ARCHITECTURE.md), so the step is rebuilt from the
trained layers' own LSTMCell objects (`lstm.cell` shares the weights) inside a
tf.function whose state is explicit. The result has no Loop or Scan ops. The
interface is documented in livegen/model/model_file.py.
"""

from __future__ import annotations

import json
import logging
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import keras
import numpy as np
import onnx
import tensorflow as tf
import tf2onnx
from onnxruntime.quantization import QuantType, quantize_dynamic

from livegen.errors import LivegenError
from livegen.export.model import ModelConfig, logits_model, lstm_name
from livegen.export.run_folder import TRAINING_RECORD
from livegen.model.model_file import (
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
from livegen.model.scoring import onnx_bits_per_character

OPSET = 17
PARITY_TOLERANCE = 1e-4


WEIGHT_FORMATS = ("float32", "int8")
INT8_ALLOWED_LOSS = 0.01  # a quantised model may score at most 1% more bits/char than float32


@dataclass(frozen=True)
class ExportReport:
    path: Path
    parity_max_abs_diff: float
    parity_characters: int
    float32_bits_per_char: float
    bits_per_char: float  # of the written variant


def export_model(keras_path: Path, output: Path, weights: str = "float32") -> ExportReport:
    """Write output, but only once the parity check (and, for int8, the score check) has passed.

    int8 is onnxruntime's dynamic quantisation of the matrix weights: a
    quarter of the bytes to read per step, which is what a batch-1 step on a
    CPU waits on. It is written only if it scores within 1% of float32.
    """
    record = read_training_record(keras_path)
    try:
        trained = keras.models.load_model(keras_path, compile=False)
    except Exception as error:  # Keras raises many types for a bad file
        raise LivegenError(f"{keras_path} is not a readable Keras model: {str(error).splitlines()[0][:200]}") from None
    config = ModelConfig(**record["config"])
    model = logits_model(trained, config)  # float32, whatever policy it trained under (--mixed-precision: float16)
    card = model_card(record, config)
    onnx_model = convert_step_model(model, config)
    _set_metadata(onnx_model, record["vocabulary"], card)

    with tempfile.TemporaryDirectory(dir=output.parent if output.parent.exists() else None) as staging_dir:
        staging = Path(staging_dir) / "float32.onnx"
        onnx.save(onnx_model, staging)
        difference = parity_difference(model, staging, record["parity_text"])
        if not difference <= PARITY_TOLERANCE:
            raise LivegenError(f"parity check failed: ONNX logits differ from Keras by {difference:.2e} "
                               f"(allowed {PARITY_TOLERANCE:.0e}); {output} was not written")
        float32_score = onnx_bits_per_character(load_model(staging), record["validation_texts"])
        score = float32_score
        if weights == "int8":
            staging, score = _quantise(staging, record, card, float32_score)
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(staging, output)
    characters = len(record["parity_text"])
    print(f"wrote {output} ({weights}): parity over {characters} held-out characters, "
          f"max |ONNX - Keras| = {difference:.2e}; validation {score:.4f} bits/char "
          f"(float32 {float32_score:.4f})")
    return ExportReport(output, difference, characters, float32_score, score)


def _quantise(float32_path: Path, record: dict, card: dict, float32_score: float) -> tuple[Path, float]:
    quantised_path = float32_path.with_name("int8.onnx")
    quieted = logging.getLogger()  # onnxruntime's quantiser suggests pre-processing on the root logger
    level = quieted.level
    quieted.setLevel(logging.ERROR)
    try:
        quantize_dynamic(float32_path, quantised_path, weight_type=QuantType.QInt8, per_channel=True)
    finally:
        quieted.setLevel(level)
    score = onnx_bits_per_character(load_model(quantised_path), record["validation_texts"])
    if score > float32_score * (1 + INT8_ALLOWED_LOSS):
        raise LivegenError(f"int8 scores {score:.4f} bits/char against float32's {float32_score:.4f}, more than "
                           f"{INT8_ALLOWED_LOSS:.0%} worse: export float32 instead")
    quantised = onnx.load(quantised_path)
    del quantised.metadata_props[:]
    _set_metadata(quantised, record["vocabulary"], {**card, "weights": "int8", "validation_bits_per_char": score,
                                                    "float32_validation_bits_per_char": float32_score})
    onnx.save(quantised, quantised_path)
    return quantised_path, score


def read_training_record(keras_path: Path) -> dict:
    if not keras_path.is_file():
        raise LivegenError(f"model file not found: {keras_path}")
    record_path = keras_path.parent / TRAINING_RECORD
    if not record_path.is_file():
        raise LivegenError(f"{record_path} is missing: export reads the vocabulary and card from the training "
                           "run folder that holds the model")
    return json.loads(record_path.read_text())


def convert_step_model(model: keras.Model, config: ModelConfig, fold_embedding: bool = True) -> onnx.ModelProto:
    """The step graph from the trained layers, converted and given stable tensor names.

    fold_embedding replaces embedding lookup + first input projection by one
    lookup in their product (see fold_embedding_projection).
    """
    embedding_table = model.get_layer("embedding").embeddings
    cells = [model.get_layer(lstm_name(layer)).cell for layer in range(config.layers)]
    dense = model.get_layer("dense")
    signature = [tf.TensorSpec([None], tf.int64, name=TOKEN_INPUT)] + [
        tf.TensorSpec([None, config.units], tf.float32, name=name) for name in state_names(config.layers)
    ]

    @tf.function(input_signature=signature)
    def step(token, *state):
        x = tf.gather(embedding_table, token)
        next_state = []
        for layer, cell in enumerate(cells):
            x, (h, c) = cell(x, [state[2 * layer], state[2 * layer + 1]], training=False)
            next_state += [h, c]
        return [dense(x), *next_state]

    onnx_model, _ = tf2onnx.convert.from_function(step, input_signature=signature, opset=OPSET)
    _rename_outputs(onnx_model.graph, [LOGITS_OUTPUT, *next_state_names(config.layers)])
    for value in [*onnx_model.graph.input, *onnx_model.graph.output]:
        value.type.tensor_type.shape.dim[0].dim_param = "batch"
    if fold_embedding:
        fold_embedding_projection(onnx_model.graph)
    return onnx_model


def fold_embedding_projection(graph: onnx.GraphProto) -> None:
    """Gather(E, token) -> MatMul(., W) becomes Gather(E @ W, token).

    The first layer's input projection of a one-hot-like lookup is itself a
    lookup: precomputing the [V, 4*units] table saves the largest matrix
    product of the step (embedding 512 x 4*256) and a quarter of the weights
    read per character. Exact up to float rounding; the parity check holds it.
    """
    initializers = {tensor.name: tensor for tensor in graph.initializer}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    gather = next(node for node in graph.node
                  if node.op_type == "Gather" and node.input[1] == TOKEN_INPUT and node.input[0] in initializers)
    (projection,) = consumers[gather.output[0]]
    if projection.op_type != "MatMul" or projection.input[1] not in initializers:
        raise ValueError("the step graph does not start with embedding lookup and projection")
    table, weights = initializers[gather.input[0]], initializers[projection.input[1]]
    product = onnx.numpy_helper.to_array(table).astype(np.float64) @ onnx.numpy_helper.to_array(weights)
    folded = onnx.numpy_helper.from_array(product.astype(np.float32), name="folded_embedding_projection")
    graph.initializer.append(folded)
    gather.input[0] = folded.name
    gather.output[0] = projection.output[0]
    graph.node.remove(projection)
    still_used = {name for node in graph.node for name in node.input}
    for tensor in (table, weights):
        if tensor.name not in still_used:
            graph.initializer.remove(tensor)


def _rename_outputs(graph: onnx.GraphProto, names: list[str]) -> None:
    renames = {output.name: name for output, name in zip(graph.output, names, strict=True)}
    for node in graph.node:
        node.output[:] = [renames.get(name, name) for name in node.output]
        node.input[:] = [renames.get(name, name) for name in node.input]
    for output in graph.output:
        output.name = renames[output.name]


def model_card(record: dict, config: ModelConfig) -> dict:
    """What the model is and how it was made, as the loader and `livegen info` read it."""
    return {
        **config.as_dict(),
        "weights": "float32",
        **{key: record.get(key) for key in ("corpus", "tunes", "validation_tunes", "validation_bits_per_char",
                                             "epochs", "batch_size", "sequence_length", "learning_rate",
                                             "learning_rate_schedule", "transposed_copies", "transposed_to",
                                             "characters_per_second", "command", "date")},
    }


def _set_metadata(onnx_model: onnx.ModelProto, vocabulary: str, card: dict) -> None:
    for key, value in {
        META_FORMAT: FORMAT_VERSION,
        META_VOCABULARY: json.dumps(vocabulary),
        META_CARD: json.dumps(card),
    }.items():
        onnx_model.metadata_props.add(key=key, value=value)
    onnx_model.producer_name = "livegen export"


def parity_difference(model: keras.Model, onnx_path: Path, text: str) -> float:
    """Max |logit difference| between the Keras sequence model and the ONNX step model, stepped per character."""
    step_model = load_model(onnx_path)
    ids = step_model.vocabulary.encode(text)
    keras_logits = np.asarray(model(ids[None, :], training=False))[0]
    state = {name: np.zeros((1, step_model.units), np.float32) for name in state_names(step_model.layers)}
    output_names = [LOGITS_OUTPUT, *next_state_names(step_model.layers)]
    worst = 0.0
    for position, token in enumerate(ids):
        logits, *next_state = step_model.session.run(output_names, {TOKEN_INPUT: np.array([token], np.int64), **state})
        state = dict(zip(state_names(step_model.layers), next_state))
        worst = max(worst, float(np.abs(logits[0] - keras_logits[position]).max()))
    return worst
