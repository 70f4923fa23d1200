"""An independent reader of a tune's form: strains, bars, pickups, notes and chord symbols.

`livegen eval` judges what the sampler wrote, so it must not read the tune
with the code that held the sampler to its rules (livegen/compose/constraints.py,
and the streaming parser under it). This reader is written apart from both:
one pass over the text that counts bar lengths with exact fractions, groups
bars into strains at section bar lines (`||` `|]` `[|` `:|` `|:` `::`), part
labels and endings, and names what a musician would call a fault. It is
tolerant on purpose: whether the ABC is acceptable at all is abc2midi's call.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property

from livegen.abc.fields import INLINE_FIELD, field_line

_NATURAL_PITCH = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_FIFTHS = {"F": -1, "C": 0, "G": 1, "D": 2, "A": 3, "E": 4, "B": 5}  # place on the circle of fifths
_SHARP_ORDER, _FLAT_ORDER = "FCGDAEB", "BEADGCF"
# sharps a mode's signature has beyond its tonic's major key; "m" alone (minor) is tried last
_MODE_FIFTHS = (("lyd", 1), ("ion", 0), ("maj", 0), ("mix", -1), ("dor", -2), ("aeo", -3), ("phr", -4),
                ("loc", -5), ("m", -3))
# numbers in lengths, metres and repeats have at most four digits (abc2midi refuses longer ones, and Python's
# int refuses over 4,300); the digits past them are stray characters
NUMBER_DIGITS = 4
_ACCIDENTAL = {"^^": 2, "^": 1, "=": 0, "_": -1, "__": -2}
_BAR_LINE = re.compile(r":*\[?\|+\]?:*|:{2,}")
_ENDING = re.compile(r" *\[?(\d{1,4})(?:[-,]\d+)*")
_NOTE = re.compile(r"(\^\^|\^|__|_|=)?([A-Ga-g])([',]*)(\d{0,4})((?:/+\d{0,4})*)")
_REST = re.compile(r"([zx])(\d{0,4})((?:/+\d{0,4})*)")
_MULTI_BAR_REST = re.compile(r"[ZX](\d{0,4})")
_LENGTH = re.compile(r"(\d{0,4})((?:/+\d{0,4})*)")
_TUPLET = re.compile(r"\(([1-9])(?::(\d{0,4}))?(?::(\d{0,4}))?")
_CHORD_ROOT = re.compile(r"([A-G])([#b]?)([^/]*)(?:/([A-G])([#b]?))?")
_SKIP_TO = {'"': '"', "!": "!", "{": "}"}
INLINE_CHANGE_FIELDS = "KMLQ"
_BODY_FIELDS = "KMLQPTWwNRISV"  # field lines inside the music; notes A-G followed by ":" are not fields


@dataclass(frozen=True)
class Key:
    tonic: int | None  # pitch class; None for K:none
    alterations: dict[str, int]  # letter -> semitones the signature adds

    @cached_property
    def scale(self) -> frozenset[int]:
        return frozenset((_NATURAL_PITCH[letter] + self.alterations.get(letter, 0)) % 12 for letter in "CDEFGAB")


def read_key(value: str) -> Key:
    """Tonic and signature of a K: value ("G", "Ador", "F#m", "Bb mix"); K:none has no tonic."""
    match = re.match(r"\s*([A-G])([#b]?)\s*([A-Za-z]*)", value)
    if match is None:
        return Key(None if value.strip().lower().startswith("none") else 0, {})
    letter, accidental, mode = match.groups()
    shift = {"#": 1, "b": -1, "": 0}[accidental]
    mode = mode.lower()
    mode_fifths = next((fifths for name, fifths in _MODE_FIFTHS if mode.startswith(name)), 0)
    sharps = _FIFTHS[letter] + 7 * shift + mode_fifths
    order, count, sign = (_SHARP_ORDER, sharps, 1) if sharps >= 0 else (_FLAT_ORDER, -sharps, -1)
    alterations = {name: sign * ((count - index + 6) // 7) for index, name in enumerate(order) if index < count}
    return Key((_NATURAL_PITCH[letter] + shift) % 12, alterations)


def read_metre(value: str) -> Fraction | None:
    """A bar's length in whole notes; None for free metre."""
    value = value.strip()
    if value == "C":
        return Fraction(1)
    if value == "C|":
        return Fraction(1)
    match = re.match(r"\(?([\d+ ]+)\)?/(\d+)", value)
    if match is None:
        return None
    parts = [part for part in match.group(1).replace(" ", "").split("+") if part] + [match.group(2)]
    if any(len(part) > NUMBER_DIGITS for part in parts):
        return None
    numerator, denominator = sum(int(part) for part in parts[:-1]), int(parts[-1])
    return Fraction(numerator, denominator) if numerator and denominator else None


def read_length(value: str) -> Fraction | None:
    match = re.match(r"\s*(\d{1,4})/(\d{1,4})\b", value)
    return Fraction(int(match.group(1)), int(match.group(2))) if match and int(match.group(2)) else None


def chord_pitch_classes(symbol: str) -> frozenset[int] | None:
    """The pitch classes of a chord symbol ("G", "Em", "D7", "F#m7", "Am/C"); None when it is no chord."""
    match = _CHORD_ROOT.fullmatch(symbol.strip())
    if match is None:
        return None
    letter, accidental, quality, bass_letter, bass_accidental = match.groups()
    root = (_NATURAL_PITCH[letter] + {"#": 1, "b": -1, "": 0}[accidental]) % 12
    quality = quality.strip()
    if quality.startswith(("dim", "o")):
        intervals = {0, 3, 6}
    elif quality.startswith(("aug", "+")):
        intervals = {0, 4, 8}
    elif quality.startswith("sus2"):
        intervals = {0, 2, 7}
    elif quality.startswith("sus"):
        intervals = {0, 5, 7}
    elif quality.startswith("m") and not quality.startswith(("maj", "M")):
        intervals = {0, 3, 7}
    else:
        intervals = {0, 4, 7}
    if "maj7" in quality or "M7" in quality:
        intervals.add(11)
    elif "dim7" in quality or quality.startswith("o7"):
        intervals.add(9)
    elif any(extension in quality for extension in ("7", "9", "11", "13")):
        intervals.add(10)
    if "6" in quality:
        intervals.add(9)
    if "9" in quality:
        intervals.add(2)
    pitch_classes = {(root + interval) % 12 for interval in intervals}
    if bass_letter:
        pitch_classes.add((_NATURAL_PITCH[bass_letter] + {"#": 1, "b": -1, "": 0}[bass_accidental]) % 12)
    return frozenset(pitch_classes)


@dataclass(slots=True)
class Bar:
    length: Fraction = Fraction(0)
    metre: Fraction | None = None  # the metre in force where the bar ends
    ending: int | None = None  # the ending ([1, [2 ...) this bar belongs to
    repeat_end: bool = False  # the bar line after it: `:|`
    section_end: bool = False  # `||`, `|]`, `[|`, a part label, a repeat mark, the end of the tune
    has_music: bool = False


@dataclass
class Strain:
    """One section of a tune, as written: its bars, endings included."""

    written: list[Bar]
    pickup: Fraction  # 0 when the strain opens on a full bar

    @property
    def played(self) -> list[Bar]:
        """The bars heard the last time through: the body and the last ending."""
        last_ending = self.written[-1].ending
        return [bar for bar in self.written if bar.ending is None or bar.ending == last_ending]

    @property
    def endings(self) -> int:
        return len({bar.ending for bar in self.written if bar.ending is not None})

    @property
    def repeated(self) -> bool:
        return any(bar.repeat_end for bar in self.written)

    @property
    def bar_count(self) -> int:
        """Bars, a pickup not counted (its complement at the strain's end is)."""
        return len(self.played) - (1 if self.pickup else 0)


@dataclass
class TuneForm:
    """What the reader found in one tune."""

    title: str = ""
    metre: Fraction | None = None
    metre_text: str | None = None
    key: Key | None = None  # the tune's key, from its header
    final_key: Key | None = None  # the key in force at the end (a last part may change key)
    bars: list[Bar] = field(default_factory=list)
    strains: list[Strain] = field(default_factory=list)
    bar_faults: list[str] = field(default_factory=list)  # wrong lengths; a short last bar must pay back a pickup
    inline_changes: list[str] = field(default_factory=list)  # K:, M:, L:, Q: after the first note
    notes: int = 0
    notes_in_key: int = 0
    chord_changes: int = 0  # chord symbols sitting on a melody note
    chords_fitting: int = 0  # ... whose chord holds that note's pitch class

    @property
    def bar_count(self) -> int:
        return sum(strain.bar_count for strain in self.strains)

    @property
    def metre_missing(self) -> bool:
        """No M: before the music (once the model wrote it into the title)."""
        return self.metre_text is None

    @property
    def regular_strains(self) -> bool:
        """Two or more sections, each a whole number of 4-bar phrases."""
        return len(self.strains) >= 2 and all(strain.bar_count > 0 and strain.bar_count % 4 == 0
                                              for strain in self.strains)


def read_tune(text: str) -> TuneForm:
    """Read one tune (an X: line up to the blank line after it)."""
    return _Reader().read(text)


class _Reader:
    """One pass over a tune's lines, symbol by symbol; bars are closed at bar lines, strains grouped at the end."""

    def __init__(self):
        self.form = TuneForm()
        self.unit: Fraction | None = None
        self.metre: Fraction | None = None
        self.key = Key(0, {})
        self.bar = Bar()
        self.bar_accidentals: dict[tuple[str, int], int] = {}
        self.tuplet: tuple[Fraction, int] | None = None  # (scale, notes left)
        self.pending_chord: frozenset[int] | None = None
        self.ending: int | None = None
        self.in_body = False
        self.music_started = False

    def read(self, text: str) -> TuneForm:
        for line in text.splitlines():
            line = line.split("%", 1)[0]
            field = field_line(line)
            if field and (not self.in_body or field[0] in _BODY_FIELDS):
                self._field(*field)
            elif line.strip():
                self.in_body = True
                self._music(line.rstrip().rstrip("\\"))
        self._close_bar(section_end=True)
        self.form.strains = _strains(self.form.bars)
        self._judge_bars()
        self.form.final_key = self.key if self.form.key is not None else None
        return self.form

    def _field(self, name: str, value: str) -> None:
        if name == "T" and not self.form.title:
            self.form.title = value.strip()
        elif name == "P" and self.in_body:
            self._close_bar(section_end=True)
        if name in INLINE_CHANGE_FIELDS and self.music_started:
            self.form.inline_changes.append(f"{name}:{value.strip()}")
        if name == "K":
            self.key = read_key(value)
            if self.form.key is None:
                self.form.key = self.key
            self.in_body = True
        elif name == "M":
            self.metre = read_metre(value)
            if self.form.metre_text is None or not self.music_started:
                self.form.metre_text = value.strip()
                self.form.metre = self.metre
        elif name == "L":
            self.unit = read_length(value) or self.unit

    def _unit(self) -> Fraction:
        if self.unit is None:
            metre = self.metre
            self.unit = Fraction(1, 16) if metre is not None and metre < Fraction(3, 4) else Fraction(1, 8)
        return self.unit

    def _music(self, line: str) -> None:
        position = 0
        while position < len(line):
            position = self._symbol(line, position)

    def _symbol(self, line: str, position: int) -> int:
        character = line[position]
        if character in _SKIP_TO:
            end = line.find(_SKIP_TO[character], position + 1)
            end = len(line) if end < 0 else end
            if character == '"':
                self.pending_chord = chord_pitch_classes(line[position + 1:end]) or self.pending_chord
            return end + 1
        inline_field = INLINE_FIELD.match(line, position) if character == "[" else None
        if inline_field:
            self._field(*inline_field.groups())
            return inline_field.end()
        if character == "[" and position + 1 < len(line) and line[position + 1].isdigit():
            return self._ending(line, position)
        bar_line = _BAR_LINE.match(line, position) if character in "|:[" else None
        if bar_line:
            self._bar_line(bar_line.group())
            ending = "|" in bar_line.group() and bar_line.end() < len(line) and line[bar_line.end()].isdigit()
            return self._ending(line, bar_line.end()) if ending else bar_line.end()
        if character == "[":
            return self._chord(line, position)
        if character == "(":
            tuplet = _TUPLET.match(line, position)
            if tuplet:
                self._start_tuplet(*tuplet.groups())
                return tuplet.end()
            return position + 1
        for pattern, handler in ((_NOTE, self._note), (_REST, self._rest), (_MULTI_BAR_REST, self._multi_bar_rest)):
            match = pattern.match(line, position)
            if match:
                handler(match)
                return match.end()
        return position + 1  # ties, slurs, broken rhythm, decorations, spaces, stray characters

    def _ending(self, line: str, position: int) -> int:
        match = _ENDING.match(line, position)
        self._close_bar()
        self.ending = int(match.group(1))
        return match.end()

    def _start_tuplet(self, p: str, q: str | None, r: str | None) -> None:
        notes = int(p)
        compound = self.metre is not None and self.metre.numerator % 3 == 0 and self.metre.numerator > 3
        default_q = {2: 3, 3: 2, 4: 3, 6: 2, 8: 3}.get(notes, 3 if compound else 2)
        in_time_of = int(q) if q else default_q
        self.tuplet = (Fraction(in_time_of, notes), int(r) if r else notes)

    def _duration(self, digits: str, slashes: str) -> Fraction:
        length = self._unit() * (int(digits) if digits else 1)
        for divisor in re.findall(r"/(\d*)", slashes):
            length /= int(divisor) if divisor and int(divisor) else 2
        if self.tuplet is not None:
            scale, left = self.tuplet
            length *= scale
            self.tuplet = (scale, left - 1) if left > 1 else None
        return length

    def _pitch(self, accidental: str | None, letter: str, octave_marks: str) -> int:
        octave = 5 if letter.islower() else 4
        octave += octave_marks.count("'") - octave_marks.count(",")
        upper = letter.upper()
        if accidental is not None:
            self.bar_accidentals[(upper, octave)] = _ACCIDENTAL[accidental]
        shift = self.bar_accidentals.get((upper, octave), self.key.alterations.get(upper, 0))
        return 12 * (octave + 1) + _NATURAL_PITCH[upper] + shift

    def _note(self, match: re.Match) -> None:
        accidental, letter, octave_marks, digits, slashes = match.groups()
        self._sound([self._pitch(accidental, letter, octave_marks)], self._duration(digits, slashes))

    def _sound(self, pitches: list[int], length: Fraction) -> None:
        self.music_started = True
        self.bar.length += length
        self.bar.has_music = True
        scale = self.key.scale
        self.form.notes += len(pitches)
        self.form.notes_in_key += sum(pitch % 12 in scale for pitch in pitches)
        if self.pending_chord is not None:
            self.form.chord_changes += 1
            self.form.chords_fitting += max(pitches) % 12 in self.pending_chord
            self.pending_chord = None

    def _rest(self, match: re.Match) -> None:
        self.music_started = True
        self.bar.length += self._duration(match.group(2), match.group(3))
        self.bar.has_music = True
        self.pending_chord = None

    def _multi_bar_rest(self, match: re.Match) -> None:
        self.music_started = True
        for _ in range(int(match.group(1) or 1)):
            self.bar.length = self.metre or Fraction(1)
            self.bar.has_music = True
            self._close_bar()

    def _chord(self, line: str, position: int) -> int:
        end = line.find("]", position)
        end = len(line) if end < 0 else end
        notes = list(_NOTE.finditer(line[position + 1:end]))
        multiplier = _LENGTH.match(line, end + 1)
        if notes:
            first = notes[0]
            saved_tuplet, self.tuplet = self.tuplet, None
            inner = self._duration(first.group(4), first.group(5)) / self._unit()
            self.tuplet = saved_tuplet
            length = self._duration(multiplier.group(1), multiplier.group(2)) * inner
            self._sound([self._pitch(note.group(1), note.group(2), note.group(3)) for note in notes], length)
        return multiplier.end()

    def _bar_line(self, text: str) -> None:
        repeat_end = text.startswith(":") or text == "::"
        repeat_start = text.endswith(":")
        section_end = repeat_end or repeat_start or "||" in text or "]" in text or "[" in text
        self._close_bar(repeat_end=repeat_end, section_end=section_end)

    def _close_bar(self, repeat_end: bool = False, section_end: bool = False) -> None:
        self.bar_accidentals = {}
        if self.bar.has_music:
            self.bar.ending = self.ending
            self.bar.metre = self.metre
            self.form.bars.append(self.bar)
            self.bar = Bar()
        elif not self.form.bars:
            return
        last = self.form.bars[-1]
        last.repeat_end |= repeat_end
        last.section_end |= section_end
        if section_end:
            self.ending = None

    def _judge_bars(self) -> None:
        """Bars the metre's length; a pickup paid back by a short bar at the end of a strain or ending."""
        pickups = [strain.pickup for strain in self.form.strains]
        for index, strain in enumerate(self.form.strains):
            paying = {pickups[0], strain.pickup} | ({pickups[index + 1]} if index + 1 < len(pickups) else set())
            for position, bar in enumerate(strain.written):
                metre = bar.metre
                if metre is None or bar.length == metre or (position == 0 and strain.pickup):
                    continue
                ends_a_part = bar.section_end or bar is strain.written[-1]
                if bar.length < metre and ends_a_part and metre - bar.length in paying:
                    continue
                kind = "long" if bar.length > metre else "short"
                self.form.bar_faults.append(f"a {kind} bar ({bar.length} of {metre}) in strain {index + 1}")


def _strains(bars: list[Bar]) -> list[Strain]:
    """Group bars into strains: a strain ends at a section bar line, unless another ending follows it.

    A pickup written before the strain's opening `|:` belongs to that strain.
    """
    strains: list[Strain] = []
    current: list[Bar] = []
    for index, bar in enumerate(bars):
        current.append(bar)
        following = bars[index + 1] if index + 1 < len(bars) else None
        another_ending = following is not None and following.ending is not None and bar.ending is not None
        lone_pickup = len(current) == 1 and bar.metre is not None and bar.length < bar.metre
        if ((bar.section_end and not another_ending) or following is None) and not (lone_pickup and following):
            first = current[0]
            short_start = first.metre is not None and len(current) > 1 and first.length < first.metre
            strains.append(Strain(current, first.length if short_start else Fraction(0)))
            current = []
    return strains
