"""Written note lengths ("3/2", "/", "//") and broken rhythm (``>``, ``<``) as exact fractions."""

from __future__ import annotations

from fractions import Fraction

_LENGTH_CACHE: dict[str, Fraction | None] = {}
_MAX_CACHE = 1024


def length_multiplier(text: str) -> Fraction | None:
    """A written note length as a multiple of the unit: "3/2", "/", "//", "3//"; None if invalid.

    Cached: the parser asks for every note, and a tune uses a handful of lengths.
    """
    if text in _LENGTH_CACHE:
        return _LENGTH_CACHE[text]
    multiplier = _parse_length(text)
    if len(_LENGTH_CACHE) < _MAX_CACHE:
        _LENGTH_CACHE[text] = multiplier
    return multiplier


def _parse_length(text: str) -> Fraction | None:
    top, *divisors = text.split("/")
    if top and not top.isdigit():
        return None
    multiplier = Fraction(int(top) if top else 1)
    for divisor in divisors:
        if divisor and not divisor.isdigit():
            return None
        value = int(divisor) if divisor else 2
        if value == 0:
            return None
        multiplier /= value
    return multiplier or None


def broken_factors(broken: int) -> tuple[Fraction, Fraction]:
    """Factors of the two notes around ``>`` (broken 1), ``>>`` (2), ``<`` (-1)...: A>B is A3/2 B/2."""
    scale = 1 << abs(broken)
    longer, shorter = Fraction(2 * scale - 1, scale), Fraction(1, scale)
    return (longer, shorter) if broken > 0 else (shorter, longer)
