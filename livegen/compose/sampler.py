"""Choosing the next character from the model's logits: the one place characters are drawn.

Temperature reshapes the distribution, top-p (nucleus) sampling drops the
unlikely tail, and a mask (from the ABC constraints) forbids some characters
outright. The random generator is seeded, so the same model, seed and
settings write the same tunes byte for byte.

The live session and offline generation draw through ``Sampler.draw``, where
the mask is a predicate asked only about the characters actually drawn
(rejection sampling: draw, ask, and on refusal remove that character and draw
again). That samples exactly the masked distribution at about one question
per character instead of one per character of the vocabulary, which matters
because each question replays the parser. ``sample`` takes a whole boolean
mask per row, for callers that have one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from livegen.errors import LivegenError

TEMPERATURE_RANGE = (0.05, 3.0)


@dataclass
class SamplingSettings:
    temperature: float = 1.0
    top_p: float = 1.0

    def __post_init__(self):
        low, high = TEMPERATURE_RANGE
        if not low <= self.temperature <= high:
            raise LivegenError(f"temperature {self.temperature} is outside {low} to {high}")
        if not 0.0 < self.top_p <= 1.0:
            raise LivegenError(f"top-p {self.top_p} must be above 0 and at most 1")


class Sampler:
    """Draws one character id per stream from logits, under settings that may change between draws."""

    def __init__(self, settings: SamplingSettings | None = None, seed: int | None = None):
        self.settings = settings or SamplingSettings()
        self.rng = np.random.default_rng(seed)

    def probabilities(self, logits: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        """The distribution actually sampled from, rows summing to 1 (for tests and eval)."""
        scaled = np.asarray(logits, dtype=np.float64) / self.settings.temperature
        if allowed is not None:
            # A mask that forbids everything would be a constraint bug; the model's own choice beats a crash.
            usable = allowed.any(axis=-1, keepdims=True)
            scaled = np.where(allowed | ~usable, scaled, -np.inf)
        scaled -= scaled.max(axis=-1, keepdims=True)
        weights = np.exp(scaled)
        weights /= weights.sum(axis=-1, keepdims=True)
        if self.settings.top_p < 1.0:
            weights = _nucleus(weights, self.settings.top_p)
        return weights

    def draw(self, logits: np.ndarray, allowed: Callable[[int], bool]) -> int | None:
        """One id from a row of logits [V], drawn from the masked distribution; allowed(id) is the mask.

        If the nucleus holds nothing allowed, the rest of the distribution is
        tried (a low top-p must not push the tune out of valid ABC). None when
        nothing at all is allowed: the caller decides how to get out.
        """
        scaled = np.asarray(logits, dtype=np.float64) / self.settings.temperature
        weights = np.exp(scaled - scaled.max())
        weights /= weights.sum()
        nucleus = _nucleus(weights[None], self.settings.top_p)[0] if self.settings.top_p < 1.0 else weights
        for candidates in (nucleus, np.where(nucleus > 0, 0.0, weights)):
            chosen = self._draw_allowed(candidates.copy(), allowed)
            if chosen is not None:
                return chosen
        return None

    def _draw_allowed(self, weights: np.ndarray, allowed: Callable[[int], bool]) -> int | None:
        """Draw, ask, and on refusal zero that weight and draw again; None when nothing is left."""
        for _ in range(len(weights)):
            cumulative = np.cumsum(weights)
            if not cumulative[-1] > 0:
                return None
            index = int(np.searchsorted(cumulative, self.rng.random() * cumulative[-1], side="right"))
            if index >= len(weights) or weights[index] == 0:  # rounding at the top end
                index = int(np.flatnonzero(weights)[-1])
            if allowed(index):
                return index
            weights[index] = 0.0
        return None

    def sample(self, logits: np.ndarray, allowed: np.ndarray | None = None) -> np.ndarray:
        """One id per row of logits [B, V]; allowed, if given, is a boolean [B, V] mask."""
        weights = self.probabilities(logits, allowed)
        cumulative = np.cumsum(weights, axis=-1)
        draws = self.rng.random((weights.shape[0], 1)) * cumulative[:, -1:]
        return np.minimum((cumulative < draws).sum(axis=-1), weights.shape[-1] - 1)


def _nucleus(weights: np.ndarray, top_p: float) -> np.ndarray:
    """Keep the most likely characters whose probabilities first reach top_p, renormalised."""
    order = np.argsort(-weights, axis=-1, kind="stable")
    ranked = np.take_along_axis(weights, order, axis=-1)
    before = np.cumsum(ranked, axis=-1) - ranked  # mass of strictly more likely characters
    keep_ranked = before < top_p
    keep = np.zeros_like(keep_ranked)
    np.put_along_axis(keep, order, keep_ranked, axis=-1)
    kept = np.where(keep, weights, 0.0)
    return kept / kept.sum(axis=-1, keepdims=True)
