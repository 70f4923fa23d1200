"""Bits per character: how surprised a model is by real tunes.

Every model here (Keras during training, ONNX variants at export, the seed
baseline) is scored the same way: each held-out tune read from its first
character with a zero state, as the live daemon reads a tune.
"""

from __future__ import annotations

import math

import numpy as np

from livegen.model.engine import Engine
from livegen.model.model_file import StepModelFile


def cross_entropy_bits(logits: np.ndarray, targets: np.ndarray, mask: np.ndarray) -> float:
    """Summed -log2 p(target) over the positions where mask is true."""
    logits = np.asarray(logits, dtype=np.float64)
    peak = logits.max(-1, keepdims=True)
    log_norm = np.log(np.exp(logits - peak).sum(-1)) + peak[..., 0]
    chosen = np.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
    return float(((log_norm - chosen) * mask).sum()) / math.log(2)


def padded_batch(tunes: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Inputs, next-character targets and a validity mask for tunes of unequal length."""
    length = max(len(ids) for ids in tunes) - 1
    inputs = np.zeros((len(tunes), length), dtype=np.int64)
    targets = np.zeros((len(tunes), length), dtype=np.int64)
    mask = np.zeros((len(tunes), length), dtype=bool)
    for row, ids in enumerate(tunes):
        inputs[row, :len(ids) - 1] = ids[:-1]
        targets[row, :len(ids) - 1] = ids[1:]
        mask[row, :len(ids) - 1] = True
    return inputs, targets, mask


def onnx_bits_per_character(model: StepModelFile, texts: list[str]) -> float:
    """Score an ONNX step model on whole tunes, all stepped at once as one batch."""
    inputs, targets, mask = padded_batch([model.vocabulary.encode(text) for text in texts])
    engine = Engine(model, streams=len(texts))
    total_bits = 0.0
    for position in range(inputs.shape[1]):
        logits = engine.step(inputs[:, position])
        total_bits += cross_entropy_bits(logits, targets[:, position], mask[:, position])
    return total_bits / int(mask.sum())
