"""The parser's notes and rests: pitch, accidentals, octave marks, length, ties and broken rhythm.

A mixin of AbcStreamParser (parser.py declares the state it reads and writes).
An element (note, rest or chord) is complete when a character arrives that
cannot belong to it: ``C2-`` waits for what follows the tie, and ``A>B``
emits the dotted A when the B starts.
"""

from __future__ import annotations

from fractions import Fraction

from .events import Chord, Note, Rest
from .fields import FREE_METER
from .keys import NATURAL_SEMITONES
from .lengths import broken_factors, length_multiplier
from .limits import MAX_CACHED_LENGTHS, MAX_LENGTH, MAX_OCTAVE_MARKS, MAX_REST_BARS

NOTE_LETTERS = "CDEFGABcdefgab"
LETTER_INDEX = {letter: "CDEFGAB".index(letter.upper()) for letter in NOTE_LETTERS}
ACCIDENTALS = {"^": 1, "_": -1, "=": 0}
DIGITS = frozenset("0123456789")

ONE = Fraction(1)

# Kinds of the timed element being written.
NONE, NOTE, REST, CHORD, MULTI_REST = range(5)


class NoteReading:
    __slots__ = ()

    def _note_start(self, c: str) -> None:
        self._start_element(NOTE)
        self._note_letter = LETTER_INDEX[c]
        self._note_pitch = NATURAL_SEMITONES[self._note_letter] + (72 if c > "Z" else 60)
        self._note_accidental = self._accidental
        self._accidental = None
        self._handler = self._h_note

    def _accidental_start(self, c: str) -> None:
        self._accidental = ACCIDENTALS[c]
        self._accidental_text = c
        self._handler = self._h_accidental

    def _h_accidental(self, c: str) -> None:
        if c in LETTER_INDEX:
            self._note_start(c)
        elif c == self._accidental_text and c != "=":
            self._accidental *= 2  # ^^ or __; a third mark is garbage
            self._accidental_text += c
        else:
            self._accidental = None
            self._resync("accidental without a note")
            self._h_skip(c)

    def _rest_start(self, c: str) -> None:
        if self._in_chord:
            self._resync("rest inside a chord")
            return
        self._start_element(MULTI_REST if c in "ZX" else REST)
        self._rest_invisible = c in "xX"
        self._handler = self._h_length

    def _start_element(self, kind: int) -> None:
        self._kind = kind
        self._text = ""  # the length as written: "3/2", "/", "//", "4"
        self._octave = 0
        self._tie = False
        self._broken = 0
        self._element_decorations = tuple(self._decorations)
        self._decorations.clear()

    def _h_note(self, c: str) -> None:
        """Octave marks, then the length."""
        if c == "'" and not self._text:
            self._octave += 1
        elif c == "," and not self._text:
            self._octave -= 1
        else:
            self._h_length(c)
            return
        if abs(self._octave) > MAX_OCTAVE_MARKS:
            self._resync("too many octave marks")

    def _h_length(self, c: str) -> None:
        if c in DIGITS or (c == "/" and self._kind != MULTI_REST):
            if len(self._text) >= MAX_LENGTH:
                self._resync("note length too long")
                return
            self._text += c
            return
        if self._kind == NOTE:
            self._note_pitch = self._pitch()  # the length ended: accidentals are settled
        self._handler = self._h_after
        self._h_after(c)

    def _pitch(self) -> int:
        letter = self._note_letter
        if self._note_accidental is not None:
            alteration = self._note_accidental
            self._bar_accidentals[letter] = alteration
        elif letter in self._tie_carry:
            alteration = self._tie_carry[letter]
        elif letter in self._bar_accidentals:
            alteration = self._bar_accidentals[letter]
        else:
            alteration = self._alterations[letter]
        self._note_alteration = alteration
        pitch = self._note_pitch + 12 * self._octave + alteration
        if not 0 <= pitch <= 127:
            self._diagnose(f"pitch {pitch} outside MIDI range; moved by octaves")
            pitch = 116 + (pitch - 116) % 12 if pitch > 127 else pitch % 12
        return pitch

    def _h_after(self, c: str) -> None:
        """After an element's length: ties, broken rhythm, spaces and the end of a slur may still follow.

        A slur's ')' belongs to the note before it, so ``(f=e)>g`` dots the e
        (abc2midi reads it so too).
        """
        if c == "-":
            if self._kind in (REST, MULTI_REST):
                self._diagnose("a rest cannot be tied")
            self._tie = True
        elif c == ">" or c == "<":
            step = 1 if c == ">" else -1
            if self._in_chord or self._in_grace or self._kind == MULTI_REST or self._broken * step < 0:
                self._resync(f"misplaced broken rhythm {c!r}")
                return
            self._broken += step
            if abs(self._broken) > 3:
                self._resync("broken rhythm too deep")
        elif c == " " or c == "\t" or c == ")":
            pass
        else:
            self._handler = self._h_music
            self._finish_element()
            self._h_music(c)

    def _finish_element(self) -> None:
        kind = self._kind
        self._kind = NONE
        text = self._text
        self._text = ""
        if kind == MULTI_REST:
            self._emit_multi_rest(self._multiplier(text))
        elif kind == CHORD:
            self._emit_chord(self._multiplier(text))
        elif self._in_chord:
            self._add_chord_note(self._written_duration(text))
        else:
            duration = self._written_duration(text)
            grace = self._in_grace
            if not grace and (self._broken or self._tuplet_left or self._broken_next is not ONE):
                duration *= self._time_factor()
            if kind == NOTE:
                event = Note(self._note_pitch, duration, self._tie, grace, self._element_decorations)
                tied = {self._note_letter: self._note_alteration} if self._tie else {}
            else:
                event = Rest(duration, self._rest_invisible)
                tied = {}
            self._emit_timed(event, grace, tied)

    def _multiplier(self, text: str) -> Fraction:
        multiplier = length_multiplier(text)
        if multiplier is None:
            self._diagnose(f"unreadable note length {text!r}")
            return ONE
        return multiplier

    def _written_duration(self, text: str) -> Fraction:
        """The unit length times a written length; cached, as a tune uses a handful of lengths."""
        duration = self._durations.get(text)
        if duration is None:
            duration = self._unit * self._multiplier(text)
            if len(self._durations) < MAX_CACHED_LENGTHS and length_multiplier(text) is not None:
                self._durations[text] = duration
        return duration

    def _emit_chord(self, multiplier: Fraction) -> None:
        grace = self._in_grace
        factor = multiplier if grace else multiplier * self._time_factor()
        notes = tuple(
            Note(note.pitch, note.duration * factor, note.tie or self._tie, grace, note.decorations)
            for note in self._chord_notes
        )
        tied = {letter: alteration for (letter, alteration), note in zip(self._chord_letters, notes) if note.tie}
        self._chord_notes = []
        self._chord_letters = []
        self._emit_timed(Chord(notes, notes[0].duration, grace, self._element_decorations), grace, tied)

    def _emit_timed(self, event: Note | Chord | Rest, grace: bool, tied: dict[int, int]) -> None:
        self._events.append(event)
        if not grace:
            self._bar_position += event.duration
            self._last_tied = tied
            self._tie_carry = {}

    def _time_factor(self) -> Fraction:
        """Tuplet and broken-rhythm factors of the element now finishing."""
        factor = self._broken_next
        self._broken_next = ONE
        if self._broken:
            this, following = broken_factors(self._broken)
            factor *= this
            self._broken_next = following
        if self._tuplet_left:
            factor *= self._tuplet_factor
            self._tuplet_left -= 1
        return factor

    def _emit_multi_rest(self, multiplier: Fraction) -> None:
        bars = int(multiplier)
        if bars > MAX_REST_BARS:
            self._diagnose("multi-bar rest too long")
            bars = MAX_REST_BARS
        bar_length = (self._meter or FREE_METER).bar_length or ONE
        self._emit_timed(Rest(bar_length * bars, self._rest_invisible, bars), False, {})

    def _pending_length(self) -> Fraction:
        """The time the element being written will take, as far as its characters tell."""
        kind = self._kind
        if kind == NONE or self._in_grace or self._in_chord:
            return Fraction(0)
        multiplier = length_multiplier(self._text) or ONE
        if kind == MULTI_REST:
            return ((self._meter or FREE_METER).bar_length or ONE) * int(multiplier)
        length = (self._chord_notes[0].duration if kind == CHORD else self._unit) * multiplier
        length *= self._broken_next
        if self._broken:
            length *= broken_factors(self._broken)[0]
        if self._tuplet_left:
            length *= self._tuplet_factor
        return length

    def _tie_alone(self, c: str) -> None:
        self._resync("tie without a note")

    def _broken_alone(self, c: str) -> None:
        self._resync(f"broken rhythm {c!r} without a note")
