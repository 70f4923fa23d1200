"""The engine: one model step for a batch of independent streams.

Each stream (a tune being written) has its own LSTM state, a row of the
batch. The live daemon steps one stream; offline generation steps many at
once, which costs little more than one per step on a CPU.
"""

from __future__ import annotations

import numpy as np

from livegen.model.model_file import LOGITS_OUTPUT, TOKEN_INPUT, StepModelFile, next_state_names, state_names


class Engine:
    """step(tokens[B]) -> logits[B, V], carrying the state of every stream between calls."""

    def __init__(self, model: StepModelFile, streams: int = 1):
        self.model = model
        self.streams = streams
        self._session = model.session
        self._state_names = state_names(model.layers)
        self._output_names = [LOGITS_OUTPUT, *next_state_names(model.layers)]
        self._state = [np.zeros((streams, model.units), np.float32) for _ in self._state_names]

    def reset(self, stream: int | None = None) -> None:
        """Zero the state of one stream (or all): the start of a new tune."""
        rows = slice(None) if stream is None else stream
        for tensor in self._state:
            tensor[rows] = 0.0

    def step(self, tokens) -> np.ndarray:
        """Feed one token per stream; returns the logits for each stream's next character."""
        feed = dict(zip(self._state_names, self._state))
        feed[TOKEN_INPUT] = np.asarray(tokens, dtype=np.int64).reshape(self.streams)
        logits, *self._state = self._session.run(self._output_names, feed)
        return logits

