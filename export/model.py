"""The Keras character model and how it is scored.

One architecture serves training, the seed baseline and export:
Embedding -> LSTM x N (Dropout after each) -> Dense logits. Layers have fixed
names so export can find the trained weights of each.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import keras
import numpy as np


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of the network; the defaults are the shipped model's."""

    vocab_size: int
    embedding: int = 512
    units: int = 256
    layers: int = 3
    dropout: float = 0.2

    def as_dict(self) -> dict:
        return asdict(self)


def lstm_name(layer: int) -> str:
    return f"lstm_{layer}"


def build_sequence_model(config: ModelConfig, *, stateful: bool = False, batch_size: int | None = None,
                         softmax: bool = False) -> keras.Model:
    """The training-time model: token ids [B, T] -> logits [B, T, V].

    stateful and softmax exist for the seed baseline, which carries state
    across batches and trains on probabilities with one-hot targets.
    """
    tokens = keras.Input(shape=(None,), batch_size=batch_size, dtype="int32", name="tokens")
    x = keras.layers.Embedding(config.vocab_size, config.embedding, name="embedding")(tokens)
    for layer in range(config.layers):
        x = keras.layers.LSTM(config.units, return_sequences=True, stateful=stateful, name=lstm_name(layer))(x)
        x = keras.layers.Dropout(config.dropout, name=f"dropout_{layer}")(x)
    outputs = keras.layers.Dense(config.vocab_size, activation="softmax" if softmax else None, name="dense")(x)
    return keras.Model(tokens, outputs, name="livegen_char_lstm")


def logits_model(trained: keras.Model, config: ModelConfig) -> keras.Model:
    """A stateless logits model carrying trained's weights (e.g. from a stateful softmax one)."""
    model = build_sequence_model(config)
    for layer in model.layers:
        if layer.weights:
            layer.set_weights(trained.get_layer(layer.name).get_weights())
    return model


def bits_per_character(model: keras.Model, tunes: list[np.ndarray], batch_size: int = 16) -> float:
    """Cross-entropy in bits per character over whole tunes, each read from a zero state.

    This is how the model is used live (state zeroed at every tune start), so
    it is the one figure every model here is compared by.
    """
    total_bits = 0.0
    total_characters = 0
    order = sorted(range(len(tunes)), key=lambda index: len(tunes[index]))
    for start in range(0, len(order), batch_size):
        batch = [tunes[index] for index in order[start:start + batch_size]]
        length = max(len(ids) for ids in batch) - 1
        inputs = np.zeros((len(batch), length), dtype=np.int32)
        targets = np.zeros((len(batch), length), dtype=np.int32)
        mask = np.zeros((len(batch), length), dtype=bool)
        for row, ids in enumerate(batch):
            inputs[row, :len(ids) - 1] = ids[:-1]
            targets[row, :len(ids) - 1] = ids[1:]
            mask[row, :len(ids) - 1] = True
        logits = np.asarray(model(inputs, training=False), dtype=np.float64)
        log_norm = np.log(np.exp(logits - logits.max(-1, keepdims=True)).sum(-1)) + logits.max(-1)
        chosen = np.take_along_axis(logits, targets[..., None], axis=-1)[..., 0]
        total_bits += float(((log_norm - chosen) * mask).sum()) / math.log(2)
        total_characters += int(mask.sum())
    return total_bits / total_characters
