"""Key signatures: what a K: field does to the letters A-G.

A key is kept as the semitone alteration of each letter (C D E F G A B),
which is all the parser needs to turn a written letter into a pitch.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

LETTERS = "CDEFGAB"
NATURAL_SEMITONES = (0, 2, 4, 5, 7, 9, 11)

# Sharps (positive) or flats (negative) of each major key's tonic letter;
# a '#' adds 7 and a 'b' takes 7 away (F# major has 6 sharps, F major 1 flat).
_MAJOR_FIFTHS = {"C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5, "F": -1}
# The modes spelt out, each with how many fifths it lies below its relative major. K: reads any word whose
# first three letters name one ("Dorian", "mixolydian"), and "m" for minor.
_MODE_FIFTHS = {"major": 0, "minor": -3, "mixolydian": -1, "dorian": -2, "phrygian": -4, "lydian": 1, "locrian": -5,
                "aeolian": -3, "ionian": 0}
MODE_WORDS = tuple(_MODE_FIFTHS)
_MODE_SHIFT = {word[:3]: fifths for word, fifths in _MODE_FIFTHS.items()}
_MODE_NAME = {"ion": "maj", "aeo": "min"}
# Key.mode of the modes with a minor third over the tonic (two or more fifths below their major): their tonic
# chord is minor ("Am" for A dorian).
MINOR_MODES = frozenset(_MODE_NAME.get(word[:3], word[:3]) for word, fifths in _MODE_FIFTHS.items() if fifths <= -2)
_SHARP_ORDER = "FCGDAEB"
_CLEFS = {"treble", "bass", "alto", "tenor", "baritone", "perc", "percussion"}
_ACCIDENTAL_SEMITONES = {"^": 1, "^^": 2, "_": -1, "__": -2, "=": 0}
# Accidentals written onto the key without a space ("Dm^c", "HP^g") ...
_GLUED = re.compile(r"(?P<key>.+?)(?P<accidentals>(?:(?:\^\^|\^|__|_|=)[A-Ga-g])+)")
_ONE_ACCIDENTAL = re.compile(r"(?:\^\^|\^|__|_|=)[A-Ga-g]")
# ... count after a mode or a pipe key; after a bare tonic ("D^g") abc2midi drops them.
_BARE_TONIC = re.compile(r"[A-G][#b]?")


@dataclass(frozen=True, slots=True)
class Key:
    """A key signature.

    ``tonic`` is written as in ABC ("D", "Bb", "F#"), or "none"; ``mode`` is
    one of maj min mix dor phr lyd loc; ``alterations`` holds the semitone
    shift of C D E F G A B in that order.
    """

    tonic: str = "C"
    mode: str = "maj"
    alterations: tuple[int, ...] = (0, 0, 0, 0, 0, 0, 0)


C_MAJOR = Key()


def mode_spelling(word: str) -> str:
    """How K: writes a mode (one of MODE_WORDS) after its tonic: "" for major, "m" for minor, else "dor", "mix"..."""
    return {"major": "", "minor": "m"}.get(word, word[:3])


def signature_alterations(fifths: int) -> list[int]:
    """Alterations of C..B for a signature of ``fifths`` sharps (negative: flats)."""
    alterations = [0] * 7
    order = _SHARP_ORDER if fifths > 0 else _SHARP_ORDER[::-1]
    step = 1 if fifths > 0 else -1
    for index in range(abs(fifths)):
        alterations[LETTERS.index(order[index % 7])] += step
    return alterations


def parse_key(text: str) -> Key | None:
    """Read the value of a K: field; None when it names no key we know.

    Understands a tonic with any mode (``Am``, ``D mix``, ``F#dorian``,
    ``Bbm``), ``none``, the Highland pipe keys ``HP``/``Hp`` (both played with
    F# and C#, as pipes sound), explicit accidentals after the key (``D ^g``),
    and ``exp`` for a signature of only those accidentals. Clefs and other
    words (``clef=bass``, ``treble``, ``transpose=-2``) are ignored.
    """
    words = _unglued(text.split())
    if not words:
        return C_MAJOR
    first = words[0]
    rest = words[1:]
    if first.lower() == "none":
        return Key("none", "maj", (0,) * 7)
    if first in ("HP", "Hp"):
        return Key(first, "maj", tuple(_with_accidentals(signature_alterations(2), rest)))
    tonic, mode, rest = _tonic_and_mode(first, rest)
    if tonic is None:
        if not (_is_accidental(first) or "=" in first or first.lower() in _CLEFS):
            return None
        tonic, mode, rest = "C", "maj", words
    explicit = False
    if rest and rest[0].lower() == "exp":
        explicit = True
        rest = rest[1:]
    if explicit:
        alterations = [0] * 7
    else:
        fifths = _MAJOR_FIFTHS[tonic[0]] + 7 * tonic.count("#") - 7 * tonic.count("b")
        alterations = signature_alterations(fifths + _MODE_SHIFT[mode])
    return Key(tonic, _MODE_NAME.get(mode, mode), tuple(_with_accidentals(alterations, rest)))


def _unglued(words: list[str]) -> list[str]:
    """The words of K: with accidentals glued onto the key ("Dm^c") split off, as abc2midi reads them."""
    glued = _GLUED.fullmatch(words[0]) if words else None
    if glued is None:
        return words
    if _BARE_TONIC.fullmatch(glued["key"]):
        return [glued["key"], *words[1:]]
    return [glued["key"], *_ONE_ACCIDENTAL.findall(glued["accidentals"]), *words[1:]]


def _with_accidentals(alterations: list[int], words: list[str]) -> list[int]:
    """The signature with the explicit accidentals among words (``^f``, ``_B``, ``=c``) applied."""
    for word in words:
        if _is_accidental(word):
            accidental, letter = word[:-1], word[-1].upper()
            alterations[LETTERS.index(letter)] = _ACCIDENTAL_SEMITONES[accidental]
    return alterations


def _tonic_and_mode(first: str, rest: list[str]) -> tuple[str | None, str, list[str]]:
    if first[0] not in _MAJOR_FIFTHS:
        return None, "maj", rest
    tonic = first[0]
    remainder = first[1:]
    if remainder[:1] in ("#", "b"):
        tonic += remainder[0]
        remainder = remainder[1:]
    if remainder:
        mode = _mode(remainder)
        if mode is None:
            return None, "maj", rest
        return tonic, mode, rest
    if rest:
        mode = _mode(rest[0])
        if mode is not None:
            return tonic, mode, rest[1:]
    return tonic, "maj", rest


def _mode(word: str) -> str | None:
    lower = word.lower()
    if lower == "m":
        return "min"
    return lower[:3] if len(lower) >= 3 and lower[:3] in _MODE_SHIFT else None


def _is_accidental(word: str) -> bool:
    return (
        len(word) >= 2
        and word[:-1] in _ACCIDENTAL_SEMITONES
        and word[-1].upper() in LETTERS
    )
