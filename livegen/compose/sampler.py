"""Choosing the next character from the model's logits: the one place characters are drawn.

Temperature reshapes the distribution, top-p (nucleus) sampling drops the
unlikely tail, and a mask (from the ABC constraints) forbids some characters
outright. The random generator is seeded, so the same model, seed and
settings write the same tunes byte for byte.

The live session and offline generation draw through ``Sampler.draw`` (the
composer asks it), where the mask is a predicate asked only about the
characters actually drawn (rejection sampling: draw, ask, and on refusal
remove that character and draw again). That samples exactly the masked
distribution at about one question per character instead of one per
character of the vocabulary, which matters because each question replays
the parser.
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
    """Draws one character id from a stream's logits, under settings that may change between draws."""

    def __init__(self, settings: SamplingSettings | None = None, seed: int | None = None):
        self.settings = settings or SamplingSettings()
        self.rng = np.random.default_rng(seed)

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """The distribution draw samples from before its mask: temperature, then top-p; rows sum to 1."""
        return self._top_p(self._tempered(logits))

    def draw(self, logits: np.ndarray, allowed: Callable[[int], bool]) -> int | None:
        """One id from a row of logits [V], drawn from the masked distribution; allowed(id) is the mask.

        If the nucleus holds nothing allowed, the rest of the distribution is
        tried (a low top-p must not push the tune out of valid ABC). None when
        nothing at all is allowed: the caller decides how to get out.
        """
        tempered = self._tempered(logits)
        nucleus = self._top_p(tempered)
        for candidates in (nucleus, np.where(nucleus > 0, 0.0, tempered)):
            chosen = self._draw_allowed(candidates.copy(), allowed)
            if chosen is not None:
                return chosen
        return None

    def _top_p(self, weights: np.ndarray) -> np.ndarray:
        return _nucleus(weights, self.settings.top_p) if self.settings.top_p < 1.0 else weights

    def _tempered(self, logits: np.ndarray) -> np.ndarray:
        scaled = np.asarray(logits, dtype=np.float64) / self.settings.temperature
        weights = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
        return weights / weights.sum(axis=-1, keepdims=True)

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
