"""Transposition: a training tune rewritten in another key, for augmentation.

With about a thousand tunes the model is data-starved, and a folk tune is the
same tune in any key a fiddler can reach. A copy moves the K: tonic, every
note and every chord symbol by one interval, counted both in letters (so a
note keeps its degree of the scale) and in semitones (so it keeps its sound):

- a note written without an accidental stays without one: the new key
  signature alters it exactly as the old one did;
- a note with an accidental is respelled with the accidental that gives the
  shifted pitch on the shifted letter. ABC carries an accidental on to the
  same letter later in the bar, and since letters map one to one, those
  later notes shift correctly too;
- chord symbols are absolute pitches: root and bass get the letter shift and
  whatever sharp or flat the shifted pitch needs.

A copy that would need a double sharp or flat in a key or chord symbol, or
that leaves a fiddle's range (G3 to E6, by written letter), is not made.
"""

from __future__ import annotations

import re
from collections import Counter

from livegen.abc import ChordSymbol, parse_key
from livegen.abc.chord_symbols import read_quoted
from livegen.abc.fields import INLINE_FIELD, field_line, first_field
from livegen.abc.keys import LETTERS, NATURAL_SEMITONES

# A fiddle's range as diatonic steps from middle C's letter (C = 0, c = 7):
# G3 is "G," and E6 is "e'". Written letters are checked, not sounding pitches,
# so "about E6" allows an accidental either way.
LOWEST_STEP = -3
HIGHEST_STEP = 16

# A key is offered as a transposition target when at least this share of the
# corpus' tunes in that mode are written in it: the keys fiddlers play in.
KEY_SHARE = 0.02

_ACCIDENTALS = {"^^": 2, "^": 1, "=": 0, "_": -1, "__": -2}
_ACCIDENTAL_TEXT = {2: "^^", 1: "^", 0: "=", -1: "_", -2: "__"}
_TONIC_ACCIDENTAL = {1: "#", 0: "", -1: "b"}

# One token of a tune body: what must be copied whole, or a note.
_BODY_TOKEN = re.compile(
    r'(?P<quoted>"[^"]*")'
    r"|(?P<decoration>![^!\n]*!|\+[A-Za-z0-9.]*\+)"
    rf"|(?P<inline>{INLINE_FIELD.pattern})"
    r"|(?P<comment>%.*$)"
    r"|(?P<note>(?P<accidental>\^\^|\^|__|_|=)?(?P<letter>[A-Ga-g])(?P<octave>[,']*))",
    re.MULTILINE,
)
_CHORD = re.compile(r"^(?P<opening>\s*\(?)(?P<root>[A-G])(?P<root_accidental>[#b]?)(?P<quality>[^/)]*)"
                    r"(?:/(?P<bass>[A-Ga-g])(?P<bass_accidental>[#b+]?))?(?P<closing>\)?)$")


class Untransposable(Exception):
    """This tune cannot be offered in that key (range, spelling, or notation we do not rewrite)."""


def tonic_of(text: str) -> tuple[str, str] | None:
    """The (tonic, mode) of a tune's header key, or None for a key we do not transpose."""
    value = first_field(text, "K")
    key = parse_key(value) if value is not None else None
    if key is None or key.tonic[:1] not in LETTERS or not _plain_key(value):
        return None
    return key.tonic, key.mode


def target_keys(texts: list[str]) -> dict[str, list[str]]:
    """Per mode, the tonics the corpus writes in at least KEY_SHARE of that mode's tunes."""
    counts: dict[str, Counter] = {}
    for text in texts:
        found = tonic_of(text)
        if found:
            counts.setdefault(found[1], Counter())[found[0]] += 1
    return {mode: sorted(tonic for tonic, n in tally.items() if n >= KEY_SHARE * sum(tally.values()))
            for mode, tally in counts.items()}


def transpositions(text: str, keys: dict[str, list[str]]) -> list[str]:
    """The tune in every other key of its mode that it can be offered in."""
    found = tonic_of(text)
    if found is None:
        return []
    tonic, mode = found
    copies = []
    for target in keys.get(mode, []):
        if target == tonic:
            continue
        try:
            copies.append(transpose_to(text, target))
        except Untransposable:
            pass
    return copies


def transpose_to(text: str, target_tonic: str) -> str:
    """The tune moved to target_tonic (same mode), by the smaller interval that stays in range."""
    found = tonic_of(text)
    if found is None:
        raise Untransposable("the tune's key is not a plain tonic and mode")
    up_steps, up_semitones = _interval(found[0], target_tonic)
    candidates = sorted([(up_steps, up_semitones), (up_steps - 7, up_semitones - 12)],
                        key=lambda interval: abs(interval[1]))
    for steps, semitones in candidates:
        try:
            return transpose(text, steps, semitones)
        except Untransposable:
            continue
    raise Untransposable(f"no interval to {target_tonic} keeps the tune in range")


def transpose(text: str, steps: int, semitones: int, keep_in_range: bool = True) -> str:
    """The tune shifted by steps letters and semitones semitones (both signed)."""
    lines = []
    in_body = False
    for line in text.split("\n"):
        field = field_line(line)
        if field:
            if field[0] == "K":
                line = "K:" + _shift_key(field[1], steps, semitones)
                in_body = True
        elif in_body and not line.startswith("%%"):
            line = _BODY_TOKEN.sub(lambda token: _shift_token(token, steps, semitones, keep_in_range), line)
        lines.append(line)
    return "\n".join(lines)


def fingerprint(text: str) -> str:
    """The tune's music in C (range ignored), without X: and T:: equal for a tune and its transpositions."""
    music = "\n".join(line for line in text.split("\n") if not line.startswith(("X:", "T:")))
    found = tonic_of(music)
    if found is None:
        return music
    steps, semitones = _interval(found[0], "C")
    try:
        return transpose(music, steps, semitones, keep_in_range=False)
    except Untransposable:
        return music


def _interval(tonic: str, target: str) -> tuple[int, int]:
    """Letters and semitones up from tonic to target, within one octave."""
    steps = (LETTERS.index(target[0]) - LETTERS.index(tonic[0])) % 7
    semitones = (_pitch_class(target) - _pitch_class(tonic)) % 12
    if steps == 0 and semitones > 6:  # e.g. C to Cb is down, not up an octave
        semitones -= 12
    return steps, semitones


def _pitch_class(tonic: str) -> int:
    return NATURAL_SEMITONES[LETTERS.index(tonic[0])] + tonic.count("#") - tonic.count("b")


def _plain_key(value: str) -> bool:
    """A tonic and a mode, nothing more: explicit accidentals or 'exp' are not rewritten."""
    words = value.split()
    return 1 <= len(words) <= 2 and not any(mark in value for mark in "^_=")


def _shift_letter(letter_index: int, pitch: int, steps: int, semitones: int) -> tuple[int, int]:
    """A letter (as a diatonic step from C) and its sounding pitch, shifted: (new step, accidental)."""
    step = letter_index + steps
    natural = NATURAL_SEMITONES[step % 7] + 12 * (step // 7)
    return step, pitch + semitones - natural


def _shift_key(value: str, steps: int, semitones: int) -> str:
    if not _plain_key(value) or value.strip()[:1] not in LETTERS:
        raise Untransposable(f"key {value!r}")
    word = value.split()[0]
    tonic_length = 2 if word[1:2] in ("#", "b") else 1
    tonic = word[:tonic_length]
    step, accidental = _shift_letter(LETTERS.index(tonic[0]), _pitch_class(tonic), steps, semitones)
    if accidental not in _TONIC_ACCIDENTAL:
        raise Untransposable(f"key {value!r} would need a double accidental")
    return LETTERS[step % 7] + _TONIC_ACCIDENTAL[accidental] + value.strip()[tonic_length:]


def _shift_token(token: re.Match, steps: int, semitones: int, keep_in_range: bool) -> str:
    if token.group("note"):
        return _shift_note(token, steps, semitones, keep_in_range)
    if token.group("quoted"):
        return _shift_quoted(token.group("quoted"), steps, semitones)
    if token.group("inline") and token.group("inline")[1] == "K":
        return "[K:" + _shift_key(token.group("inline")[3:-1], steps, semitones) + "]"
    return token.group(0)


def _shift_note(token: re.Match, steps: int, semitones: int, keep_in_range: bool) -> str:
    letter = token.group("letter")
    octave = token.group("octave")
    written = LETTERS.index(letter.upper()) + (7 if letter.islower() else 0)
    written += 7 * (octave.count("'") - octave.count(","))
    step = written + steps
    if keep_in_range and not LOWEST_STEP <= step <= HIGHEST_STEP:
        raise Untransposable("out of a fiddle's range")
    accidental = token.group("accidental")
    text = ""
    if accidental is not None:
        pitch = NATURAL_SEMITONES[written % 7] + 12 * (written // 7) + _ACCIDENTALS[accidental]
        _, shifted = _shift_letter(written, pitch, steps, semitones)
        if shifted not in _ACCIDENTAL_TEXT:
            raise Untransposable("a note would need a triple accidental")
        text = _ACCIDENTAL_TEXT[shifted]
    return text + _spell(step)


def _spell(step: int) -> str:
    """A diatonic step from middle C's letter as ABC: C, c, c' or C, and so on."""
    octave, letter = divmod(step, 7)
    if octave >= 1:
        return LETTERS[letter].lower() + "'" * (octave - 1)
    return LETTERS[letter] + "," * -octave


def _shift_quoted(quoted: str, steps: int, semitones: int) -> str:
    if not isinstance(read_quoted(quoted[1:-1]), ChordSymbol):
        return quoted
    chord = _CHORD.match(quoted[1:-1])
    if chord is None:
        raise Untransposable(f"chord symbol {quoted} is not spelled as root, quality, bass")
    root = _shift_chord_letter(chord.group("root"), chord.group("root_accidental"), steps, semitones)
    text = chord.group("opening") + root + chord.group("quality")
    if chord.group("bass"):
        bass = chord.group("bass")
        accidental = chord.group("bass_accidental")
        shifted = _shift_chord_letter(bass.upper(), accidental.replace("+", "#"), steps, semitones)
        if accidental == "+":  # Nottingham's own spelling of a sharp bass: keep the corpus' habit
            shifted = shifted.replace("#", "+")
        text += "/" + (shifted if bass.isupper() else shifted[0].lower() + shifted[1:])
    return f'"{text}{chord.group("closing")}"'


def _shift_chord_letter(letter: str, accidental: str, steps: int, semitones: int) -> str:
    pitch = NATURAL_SEMITONES[LETTERS.index(letter)] + accidental.count("#") - accidental.count("b")
    step, shifted = _shift_letter(LETTERS.index(letter), pitch, steps, semitones)
    if shifted not in _TONIC_ACCIDENTAL:
        raise Untransposable("a chord symbol would need a double accidental")
    return LETTERS[step % 7] + _TONIC_ACCIDENTAL[shifted]
