"""The events the streaming ABC parser emits, one immutable object per musical fact.

Durations are exact fractions of a whole note (a crotchet is 1/4) with tuplets
and broken rhythm already applied; pitches are MIDI note numbers (middle C,
written ``C``, is 60). Events come out in the order of the text, so a chord
symbol precedes the note it stands over and a bar line follows the last note
of its bar.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True, slots=True)
class Note:
    """One sounding pitch.

    ``tie`` means the note continues into the next note of the same pitch.
    Grace notes (written in ``{}``) keep their written length but take no time
    in the bar: whoever plays them decides what to steal it from.
    """

    pitch: int
    duration: Fraction
    tie: bool = False
    grace: bool = False
    decorations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Chord:
    """Simultaneous notes written ``[CEG]``; time advances by ``duration``.

    Each note keeps its own written length and tie; the chord as a whole
    lasts as long as its first note, as the ABC standard says.
    """

    notes: tuple[Note, ...]
    duration: Fraction
    grace: bool = False
    decorations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Rest:
    """Silence: ``z`` (visible), ``x`` (invisible), ``Z``/``X`` (whole bars)."""

    duration: Fraction
    invisible: bool = False
    bars: int = 0


@dataclass(frozen=True, slots=True)
class ChordSymbol:
    """An accompaniment chord written in quotes, such as ``"Am7"`` or ``"D/f#"``.

    ``root`` and ``bass`` are pitch classes (C = 0); ``intervals`` are the
    chord tones in semitones above the root, in voicing order. ``known`` is
    False when the quality was not recognised and a major triad stands in.
    """

    text: str
    root: int
    quality: str
    intervals: tuple[int, ...]
    bass: int | None = None
    known: bool = True

    @property
    def pitch_classes(self) -> frozenset[int]:
        """Every pitch class the chord sounds, the bass note included."""
        tones = {(self.root + interval) % 12 for interval in self.intervals}
        if self.bass is not None:
            tones.add(self.bass)
        return frozenset(tones)


@dataclass(frozen=True, slots=True)
class Annotation:
    """Quoted text that is not a chord: ``"^text"``, ``"<text"``, ``"@text"``, ..."""

    text: str
    placement: str = ""


@dataclass(frozen=True, slots=True)
class Bar:
    """A bar line exactly as written: ``|``, ``||``, ``|]``, ``[|``, ``|:``, ``:|``, ``::`` ..."""

    text: str

    @property
    def repeat_end(self) -> bool:
        return self.text.startswith(":")

    @property
    def repeat_start(self) -> bool:
        return self.text.endswith(":")


@dataclass(frozen=True, slots=True)
class Ending:
    """The start of a numbered ending (``[1``, ``|2``, ``:|2``, ``[1,3``, ``[1-3``)."""

    numbers: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class Field:
    """An information field: a header line, a field line in the body or ``[K:D]``.

    ``header`` is True for fields between X: and the K: that ends the header
    (K: itself included).
    """

    name: str
    value: str
    header: bool = False
    inline: bool = False


@dataclass(frozen=True, slots=True)
class EndOfTune:
    """The tune ended: a blank line, a new X: field, or the end of the input."""


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """Text the parser could not read; it skipped ahead to a bar line or field.

    ``line`` and ``column`` (both from 1) locate the character that showed
    the problem.
    """

    message: str
    line: int
    column: int


Event = Note | Chord | Rest | ChordSymbol | Annotation | Bar | Ending | Field | EndOfTune | Diagnostic
