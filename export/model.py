"""The Keras character model and how it is scored.

One architecture serves training, the seed baseline and export:
Embedding -> LSTM x N (Dropout after each) -> Dense logits. Layers have fixed
names so export can find the trained weights of each.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import keras
import numpy as np

from livegen.model.scoring import cross_entropy_bits, padded_batch
from livegen.model.sizes import SHIPPED_SIZES


@dataclass(frozen=True)
class ModelConfig:
    """Sizes of the network; the defaults are the shipped model's."""

    vocab_size: int
    embedding: int = SHIPPED_SIZES.embedding
    units: int = SHIPPED_SIZES.units
    layers: int = SHIPPED_SIZES.layers
    dropout: float = SHIPPED_SIZES.dropout

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
    # float32 logits even when training under a mixed_float16 policy: the loss's softmax needs the range.
    outputs = keras.layers.Dense(config.vocab_size, activation="softmax" if softmax else None, dtype="float32",
                                 name="dense")(x)
    return keras.Model(tokens, outputs, name="livegen_char_lstm")


def logits_model(trained: keras.Model, config: ModelConfig) -> keras.Model:
    """A stateless logits model carrying trained's weights (e.g. from a stateful softmax one)."""
    model = build_sequence_model(config)
    for layer in model.layers:
        if layer.weights:
            layer.set_weights(trained.get_layer(layer.name).get_weights())
    return model


def cross_entropy_totals(model: keras.Model, tunes: list[np.ndarray], batch_size: int = 16) -> tuple[float, int]:
    """Bits and characters summed over whole tunes, each read from a zero state (livegen.model.scoring).

    Sums rather than their ratio, so that shares of the tunes scored apart
    (one per training worker) add up to the score of them all.
    """
    total_bits = 0.0
    total_characters = 0
    order = sorted(range(len(tunes)), key=lambda index: len(tunes[index]))
    for start in range(0, len(order), batch_size):
        inputs, targets, mask = padded_batch([tunes[index] for index in order[start:start + batch_size]])
        logits = model(inputs.astype(np.int32), training=False)
        total_bits += cross_entropy_bits(logits, targets, mask)
        total_characters += int(mask.sum())
    return total_bits, total_characters


def bits_per_character(model: keras.Model, tunes: list[np.ndarray], batch_size: int = 16) -> float:
    """Cross-entropy in bits per character over whole tunes, each read from a zero state."""
    bits, characters = cross_entropy_totals(model, tunes, batch_size)
    return bits / characters
