"""Chord symbols ("G", "Am7", "D/f#", "Bm7b5") to root, quality, bass and chord tones.

Spellings follow the ABC standard's list plus the Nottingham collection's own:
"Gd" is G diminished, "Ea" E augmented, and a ``+`` after a bass note sharpens
it ("D/f+" is D over F sharp).
"""

from __future__ import annotations

from .events import Annotation, ChordSymbol

_ROOTS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_ROOT_LETTERS = "ABCDEFG"
_BASS_LETTERS = "ABCDEFGabcdefg"
_PLACEMENTS = "^_<>@"

_MAJOR = (0, 4, 7)
# Quality spellings -> (canonical name, intervals above the root).
_QUALITIES: dict[str, tuple[str, tuple[int, ...]]] = {}


def _define(name: str, intervals: tuple[int, ...], *spellings: str) -> None:
    for spelling in (name, *spellings):
        _QUALITIES[spelling] = (name, intervals)


_define("maj", _MAJOR, "", "M", "major")
_define("min", (0, 3, 7), "m", "mi", "minor", "-")
_define("dim", (0, 3, 6), "d", "o", "°")
_define("aug", (0, 4, 8), "a", "+", "#5")
_define("sus4", (0, 5, 7), "sus")
_define("sus2", (0, 2, 7))
_define("5", (0, 7))
_define("6", (0, 4, 7, 9), "maj6", "M6")
_define("m6", (0, 3, 7, 9), "min6")
_define("7", (0, 4, 7, 10), "dom7")
_define("maj7", (0, 4, 7, 11), "M7", "Maj7", "^7")
_define("m7", (0, 3, 7, 10), "min7", "-7")
_define("mmaj7", (0, 3, 7, 11), "mM7", "minmaj7", "m(maj7)")
_define("dim7", (0, 3, 6, 9), "d7", "o7", "°7")
_define("m7b5", (0, 3, 6, 10), "ø", "ø7", "m7-5", "min7b5")
_define("aug7", (0, 4, 8, 10), "a7", "+7", "7#5", "7+5")
_define("7sus4", (0, 5, 7, 10), "7sus")
_define("7b5", (0, 4, 6, 10), "7-5")
_define("7b9", (0, 4, 7, 10, 13))
_define("7#9", (0, 4, 7, 10, 15))
_define("9", (0, 4, 7, 10, 14), "dom9")
_define("maj9", (0, 4, 7, 11, 14), "M9")
_define("m9", (0, 3, 7, 10, 14), "min9")
_define("add9", (0, 4, 7, 14), "add2")
_define("6/9", (0, 4, 7, 9, 14), "69")
_define("11", (0, 4, 7, 10, 14, 17))
_define("m11", (0, 3, 7, 10, 14, 17))
_define("13", (0, 4, 7, 10, 14, 21))


def read_quoted(text: str) -> ChordSymbol | Annotation:
    """What a quoted string is: a chord symbol or an annotation.

    Placement prefixes ^ _ < > @ make an annotation; so does text that does
    not start with a note letter A-G or that has a space in it. A chord in
    round brackets, "(E7)", is an optional chord and is read as the chord.
    """
    if text and text[0] in _PLACEMENTS:
        return Annotation(text[1:], text[0])
    symbol = parse_chord_symbol(text)
    if symbol is not None:
        return symbol
    return Annotation(text)


def parse_chord_symbol(text: str) -> ChordSymbol | None:
    """Parse one chord symbol; None when it does not start with a root A-G or has a space.

    An unknown quality ("Gxyz") still gives a ChordSymbol, with ``known`` False
    and a major triad, so the accompaniment goes on.
    """
    body = text.strip()
    if body.startswith("(") and body.endswith(")"):
        body = body[1:-1].strip()
    root, rest = _pitch_class(body, _ROOT_LETTERS, "#")
    if root is None or any(character.isspace() for character in body):
        return None
    quality_text, slash, bass_text = rest.partition("/")
    bass = None
    if slash:
        bass, leftover = _pitch_class(bass_text.strip(), _BASS_LETTERS, "#+")
        if bass is None or leftover.strip():
            # "6/9" and the like: the slash belonged to the quality.
            quality_text, bass = rest, None
    quality_text = quality_text.strip()
    known = quality_text in _QUALITIES
    quality, intervals = _QUALITIES[quality_text] if known else (quality_text, _MAJOR)
    return ChordSymbol(text, root, quality, intervals, bass, known)


def _pitch_class(text: str, letters: str, sharps: str) -> tuple[int | None, str]:
    """Read a note letter from ``letters`` and its accidentals: 'b' flattens, ``sharps`` sharpen."""
    if not text or text[0] not in letters:
        return None, text
    pitch_class = _ROOTS[text[0].upper()]
    index = 1
    while index < len(text) and (text[index] == "b" or text[index] in sharps):
        pitch_class += -1 if text[index] == "b" else 1
        index += 1
    return pitch_class % 12, text[index:]


def is_chord_symbol_prefix(text: str) -> bool:
    """Could text, written so far inside quotes, still become a chord symbol this module reads?

    For a sampler that must not start a chord symbol it can never finish.
    """
    if not text:
        return True
    if text[0] not in _ROOT_LETTERS:
        return False
    rests = [text[1:]]
    if text[1:2] in ("#", "b"):
        rests.append(text[2:])
    return any(_quality_then_bass_prefix(rest) for rest in rests)


def _quality_then_bass_prefix(rest: str) -> bool:
    if any(spelling.startswith(rest) for spelling in _QUALITIES):
        return True
    for split in range(len(rest)):
        if rest[split] == "/" and rest[:split] in _QUALITIES:
            bass = rest[split + 1:]
            if not bass or (bass[0] in _BASS_LETTERS and len(bass) <= 2 and bass[1:] in ("", "#", "b", "+")):
                return True
    return False
