"""The network sizes of the shipped model: the defaults of `livegen train` and of the Keras model it builds.

Kept apart from livegen.export so the command line can show them without
loading TensorFlow.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ModelSizes:
    embedding: int = 512
    units: int = 320  # LSTM units per layer
    layers: int = 3  # LSTM layers
    dropout: float = 0.4  # after each LSTM layer


SHIPPED_SIZES = ModelSizes()
