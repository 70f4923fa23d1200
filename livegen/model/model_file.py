"""Opening a livegen ONNX step model, and what makes a file one.

The step model's interface (written by export/onnx_export.py, read here):

    inputs   token   int64 [batch]           one character id per stream
             h0, c0, h1, c1, ...  float32 [batch, units]   LSTM state per layer
    outputs  logits  float32 [batch, vocab]  unnormalised next-character scores
             next_h0, next_c0, ...  float32 [batch, units]  the state after this step

The batch dimension is dynamic. metadata_props hold the format version, the
vocabulary (a JSON string of characters, in id order) and the model card
(JSON). A file lacking any of these is not a livegen model, whatever else it is.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import onnxruntime

from livegen.errors import LivegenError
from livegen.model.vocab import Vocabulary

FORMAT_VERSION = "1"
META_FORMAT = "livegen.format"
META_VOCABULARY = "livegen.vocabulary"
META_CARD = "livegen.card"
TOKEN_INPUT = "token"
LOGITS_OUTPUT = "logits"


def state_names(layers: int) -> list[str]:
    """Input names of the recurrent state, in feed order: h0, c0, h1, c1, ..."""
    return [f"{kind}{layer}" for layer in range(layers) for kind in ("h", "c")]


def next_state_names(layers: int) -> list[str]:
    return [f"next_{name}" for name in state_names(layers)]


def default_model_path() -> Path:
    """The model shipped inside the package, found wherever livegen is installed."""
    return Path(str(resources.files("livegen") / "models" / "default.onnx"))


@dataclass(frozen=True)
class StepModelFile:
    """An opened model: its onnxruntime session, vocabulary, card and state shape."""

    path: Path
    session: onnxruntime.InferenceSession
    vocabulary: Vocabulary
    card: dict
    layers: int
    units: int

    def describe(self) -> str:
        card = self.card
        lines = [
            f"model: {self.path}",
            f"layers: {self.layers} x LSTM({self.units}), embedding {card.get('embedding')}, "
            f"dropout {card.get('dropout')}, vocabulary {len(self.vocabulary)} characters, "
            f"{card.get('weights')} weights",
            f"corpus: {card.get('corpus')} ({card.get('tunes')} training tunes"
            + (f" and {card['transposed_copies']:,} copies in other keys" if card.get("transposed_copies") else "")
            + f", {card.get('validation_tunes')} validation tunes)",
            f"validation: {card.get('validation_bits_per_char'):.3f} bits/char after {card.get('epochs')} epochs",
            f"trained: {card.get('date')} with: {card.get('command')}",
        ]
        return "\n".join(lines)


def load_model(path: Path | None = None, threads: int = 1, optimise_graph: bool = True) -> StepModelFile:
    """Open and validate a model; any problem is one LivegenError line naming the file.

    threads is onnxruntime's intra-op pool: 1 for the live daemon, whose
    batch-1 step is too small to split; more helps large offline batches.
    """
    path = Path(path) if path is not None else default_model_path()
    if not path.is_file():
        raise LivegenError(f"model file not found: {path}")
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if not optimise_graph:
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_DISABLE_ALL
    options.log_severity_level = 3  # onnxruntime's own warnings would precede our one-line error
    try:
        session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    except Exception as error:  # onnxruntime raises several private exception types
        raise LivegenError(f"{path} is not a readable ONNX model (truncated or corrupt?): "
                           f"{str(error).splitlines()[0][:200]}") from None
    metadata = session.get_modelmeta().custom_metadata_map
    if META_FORMAT not in metadata:
        raise LivegenError(f"{path} is an ONNX model but not a livegen model (it has no livegen metadata)")
    if metadata[META_FORMAT] != FORMAT_VERSION:
        raise LivegenError(f"{path} is livegen model format {metadata[META_FORMAT]!r}; this livegen reads "
                           f"format {FORMAT_VERSION!r}: export it again with this version")
    try:
        vocabulary = Vocabulary(json.loads(metadata[META_VOCABULARY]))
        card = json.loads(metadata[META_CARD])
        layers, units = int(card["layers"]), int(card["units"])
    except (KeyError, ValueError, TypeError) as error:
        raise LivegenError(f"{path} has damaged livegen metadata ({error})") from None
    _check_interface(path, session, layers, units, len(vocabulary))
    _check_first_step_is_finite(path, session, layers, units, len(vocabulary))
    return StepModelFile(path, session, vocabulary, card, layers, units)


def _check_interface(path: Path, session, layers: int, units: int, vocab_size: int) -> None:
    inputs = {item.name: item.shape for item in session.get_inputs()}
    outputs = {item.name: item.shape for item in session.get_outputs()}
    expected_inputs = [TOKEN_INPUT, *state_names(layers)]
    expected_outputs = [LOGITS_OUTPUT, *next_state_names(layers)]
    if sorted(inputs) != sorted(expected_inputs) or sorted(outputs) != sorted(expected_outputs):
        raise LivegenError(f"{path} does not have the inputs and outputs its card describes "
                           f"(inputs {sorted(inputs)}, outputs {sorted(outputs)})")
    if outputs[LOGITS_OUTPUT][-1] != vocab_size or any(inputs[name][-1] != units for name in state_names(layers)):
        raise LivegenError(f"{path}: tensor sizes disagree with its card ({units} units, {vocab_size} characters)")


def _check_first_step_is_finite(path: Path, session, layers: int, units: int, vocab_size: int) -> None:
    """Refuse a model whose first step gives NaN or infinity (damaged weights, a bad export).

    Sampling from such logits draws nothing meaningful: the daemon would play
    nothing and log nothing. One step of every character from the start state,
    a batch of vocab_size, costs about a millisecond.
    """
    feed = {name: np.zeros((vocab_size, units), np.float32) for name in state_names(layers)}
    feed[TOKEN_INPUT] = np.arange(vocab_size, dtype=np.int64)
    try:
        outputs = session.run([LOGITS_OUTPUT, *next_state_names(layers)], feed)
    except Exception as error:  # onnxruntime's own exception types
        raise LivegenError(f"{path} fails its first step: {str(error).splitlines()[0][:200]}") from None
    for name, values in zip([LOGITS_OUTPUT, *next_state_names(layers)], outputs):
        if not np.isfinite(values).all():
            raise LivegenError(f"{path} is damaged: its first step gives {name} that are not finite numbers "
                               "(NaN or infinity); export the model again")
