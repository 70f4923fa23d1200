"""The grammar of ABC information fields: field lines, comments, and the values of M:, L: and Q:.

One home for it: the streaming parser, render, the corpus normaliser and
transposition, and eval's form reader and copy check read fields through
here, so they agree on what a field is and what its value means.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from .lengths import length_multiplier

COMMON_TIME = Fraction(4, 4)
CUT_TIME = Fraction(2, 2)

# Longest number the parser accepts in a field (guards against "L:1/99999999999").
_MAX_DIGITS = 4

# A field is a letter and a colon at the start of a line ("T:The Rose Tree"),
# or inside square brackets in the music ("[K:D]").
FIELD_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_FIELD_LINE = re.compile(r"([A-Za-z]):(.*)")
# A comment runs from % to the end of the line; \% is a literal percent sign.
_COMMENT = re.compile(r"(?<!\\)%.*")
# A field inside the music: its letter and its text up to the closing bracket (or the line's end, left open).
INLINE_FIELD = re.compile(r"\[([A-Za-z]):([^\]\n]*)\]?")


def field_line(line: str) -> tuple[str, str] | None:
    """A field line as (letter, value without comment or surrounding space); None for music or a comment."""
    match = _FIELD_LINE.match(line)
    if match is None:
        return None
    return match.group(1), without_comment(match.group(2)).strip()


def first_field(text: str, letter: str) -> str | None:
    """The value of the first field line of this letter in a tune's text (``first_field(tune, "K")``); None if none."""
    for line in text.splitlines():
        field = field_line(line)
        if field is not None and field[0] == letter:
            return field[1]
    return None


def without_comment(text: str) -> str:
    """Text up to a comment's %."""
    return _COMMENT.sub("", text) if "%" in text else text


@dataclass(frozen=True, slots=True)
class Meter:
    """A time signature; ``bar_length`` is None for free metre (M:none)."""

    text: str
    bar_length: Fraction | None
    numerator: int = 0

    @property
    def default_unit_length(self) -> Fraction:
        """ABC 2.1, 3.1.7: a metre under 3/4 means sixteenths, anything else (free metre too) eighths."""
        if self.bar_length is not None and self.bar_length < Fraction(3, 4):
            return Fraction(1, 16)
        return Fraction(1, 8)

    @property
    def compound(self) -> bool:
        """6/8, 9/8, 12/8...: beats divide in three (decides the default of (5, (7, (9)."""
        return self.numerator > 3 and self.numerator % 3 == 0


@dataclass(frozen=True, slots=True)
class Tempo:
    """Q: as beats per minute of a beat note (``Q:1/4=120``)."""

    beat: Fraction
    bpm: int


FREE_METER = Meter("none", None)


def parse_meter(text: str) -> Meter | None:
    """``6/8``, ``C``, ``C|``, ``none``, ``(2+3)/8`` or ``2+3/8``; None if unreadable."""
    value = text.strip()
    if value in ("", "none"):
        return FREE_METER
    if value == "C":
        return Meter("C", COMMON_TIME, 4)
    if value == "C|":
        return Meter("C|", CUT_TIME, 2)
    top, slash, bottom = value.partition("/")
    if not slash:
        return None
    terms = top.strip().strip("()").split("+")
    numbers = [_small_int(term) for term in terms]
    denominator = _small_int(bottom)
    if None in numbers or not denominator:
        return None
    numerator = sum(numbers)
    if numerator == 0:
        return None
    return Meter(value, Fraction(numerator, denominator), numerator)


def parse_unit_length(text: str) -> Fraction | None:
    """``1/8``, ``1/16``, ``1``; None if unreadable or zero."""
    top, slash, bottom = text.strip().partition("/")
    numerator = _small_int(top)
    denominator = _small_int(bottom) if slash else 1
    if not numerator or not denominator:
        return None
    return Fraction(numerator, denominator)


def parse_tempo(text: str, unit_length: Fraction) -> Tempo | None:
    """``1/4=120``, ``"Allegro" 3/8=80``; None if unreadable.

    ABC 2.1, 10.1: the old forms ``Q:120`` and ``Q:C=120`` (``C2=``, ``C3/2=``)
    count unit-length notes, so they need the unit length in force.
    """
    value = text
    if '"' in value:
        parts = value.split('"')
        value = parts[0] + (parts[2] if len(parts) > 2 else "")
    value = value.strip()
    beat_text, equals, bpm_text = value.rpartition("=")
    if not equals:
        bpm_text, beat_text = value, f"{unit_length.numerator}/{unit_length.denominator}"
    bpm = _small_int(bpm_text)
    if not bpm:
        return None
    beat_text = beat_text.strip()
    if beat_text[:1] == "C":
        multiplier = length_multiplier(beat_text[1:].strip())
        return Tempo(unit_length * multiplier, bpm) if multiplier else None
    beat = Fraction(0)
    for term in beat_text.split():
        length = parse_unit_length(term)
        if length is None:
            return None
        beat += length
    return Tempo(beat, bpm) if beat else None


def _small_int(text: str) -> int | None:
    text = text.strip()
    if not text.isdigit() or len(text) > _MAX_DIGITS or not text.isascii():
        return None
    return int(text)


def header_unit_length(meter_text: str | None, unit_text: str | None) -> Fraction | None:
    """The unit note length a tune's header sets: its L:, else the default of its M: (ABC 2.1, 3.1.7).

    None when the L: is unreadable.
    """
    if unit_text is not None:
        return parse_unit_length(unit_text)
    return (parse_meter(meter_text or "") or FREE_METER).default_unit_length
