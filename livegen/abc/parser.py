"""The streaming ABC parser: one character in, the events it completed out.

The model writes a tune one character at a time and the player must hear each
note as soon as its last character is known, so this is a hand-written state
machine: every character costs a few attribute look-ups, no text is ever
re-scanned, and every buffer is capped so that garbage cannot grow memory.
The parser never raises: text it cannot read becomes a Diagnostic event and
it skips ahead to the next bar line or line.

A note is complete when a character arrives that cannot belong to it, so
``C2-`` waits for what follows the tie and ``A>B`` emits the dotted A when
the B starts. Between tunes (before X:, after a blank line) text is ignored.
"""

from __future__ import annotations

import copy

from dataclasses import dataclass
from enum import Enum
from fractions import Fraction

from .chord_symbols import read_quoted
from .events import (
    Bar,
    Chord,
    ChordSymbol,
    Diagnostic,
    EndOfTune,
    Ending,
    Event,
    Field,
    Note,
    Rest,
)
from .fields import FREE_METER, Meter, Tempo, parse_meter, parse_tempo, parse_unit_length
from .keys import C_MAJOR, NATURAL_SEMITONES, Key, parse_key

# Caps on everything the parser buffers (characters, unless said otherwise).
MAX_FIELD = 256
MAX_QUOTE = 128
MAX_DECORATION = 32
MAX_BAR = 8
MAX_ENDING = 16
MAX_LENGTH = 8
MAX_TUPLET = 8
MAX_CHORD_NOTES = 16  # notes
MAX_DECORATIONS = 8  # pending decorations on one note
MAX_OCTAVE_MARKS = 8
MAX_REST_BARS = 999
MAX_CACHED_LENGTHS = 64  # distinct written lengths remembered

_NOTE_LETTERS = "CDEFGABcdefgab"
_LETTER_INDEX = {letter: "CDEFGAB".index(letter.upper()) for letter in _NOTE_LETTERS}
_ACCIDENTALS = {"^": 1, "_": -1, "=": 0}
_DECORATION_SHORTCUTS = {
    "~": "roll",
    ".": "staccato",
    "H": "fermata",
    "L": "accent",
    "M": "lowermordent",
    "O": "coda",
    "P": "uppermordent",
    "S": "segno",
    "T": "trill",
    "u": "upbow",
    "v": "downbow",
}
# Beaming, layout and reserved characters: they carry no music.
_IGNORED = frozenset(" \t\r`$y#*;?@")
_DIGITS = frozenset("0123456789")
_ASCII_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")

_ONE = Fraction(1)
_EIGHTH = Fraction(1, 8)


class Context(str, Enum):
    """Where in the ABC text the next character lands (the innermost context)."""

    OUTSIDE = "outside"  # between tunes: free text until an X: line
    LINE_START = "line_start"  # first character of a line (a field letter or music)
    FIELD = "field"  # an information field line, header or body
    INLINE_FIELD = "inline_field"  # inside [K:...]
    MUSIC = "music"  # tune body, between symbols
    NOTE = "note"  # after a note, rest or chord: octave marks, length, tie, broken rhythm
    BAR = "bar"  # inside a bar line or ending number
    BRACKET = "bracket"  # just after '[': chord, inline field, ending or [|
    TUPLET = "tuplet"  # inside (p:q:r
    QUOTE = "quote"  # inside "..."
    DECORATION = "decoration"  # inside !...! or +...+
    COMMENT = "comment"  # after % (or a \\ continuation) to the end of the line
    SKIP = "skip"  # after a diagnostic, skipping to the next bar line or line


@dataclass(frozen=True, slots=True)
class ParserState:
    """A read-only snapshot of what the parser knows, for a sampler to steer by.

    - ``context``: where the next character lands (see Context).
    - ``in_tune``/``in_header``: inside a tune; still before its K: line.
    - ``in_chord``/``in_grace``: inside ``[...]`` / ``{...}`` (any context).
    - ``meter``: the current M: (None before any M:; bar_length None for M:none).
    - ``unit_length``: the current L: (or its default) as a fraction of a whole note.
    - ``key``: the current key signature; ``tempo``: the current Q:, if any.
    - ``bar_position``: time filled in the current bar by completed notes,
      rests and chords; ``pending_length``: the time of the one still being
      written (as far as it is known), so the bar holds their sum.
    - ``bar_number``: bar lines passed in this tune.
    - ``tuplet_notes_left``: notes still to come in the current tuplet.
    """

    context: Context
    in_tune: bool
    in_header: bool
    in_chord: bool
    in_grace: bool
    meter: Meter | None
    unit_length: Fraction
    key: Key
    tempo: Tempo | None
    bar_position: Fraction
    pending_length: Fraction
    bar_number: int
    tuplet_notes_left: int


# Kinds of the timed element being written.
_NONE, _NOTE, _REST, _CHORD, _MULTI_REST = range(5)


class AbcStreamParser:
    """Incremental ABC 2.1 parser; see the module docstring.

    ``feed(char)`` returns the events completed by one character,
    ``feed_text(text)`` those of many, and ``flush()`` ends the input
    (completing the last note and the tune).
    """

    def __init__(self) -> None:
        self._events: list[Event] = []
        self._line = 1
        self._column = 0
        self._handler = self._h_line_start
        self._in_tune = False
        self._reset_tune()

    # ------------------------------------------------------------------ API

    def feed(self, char: str) -> list[Event]:
        """Consume one character (a longer string is read character by character)."""
        if len(char) != 1:
            return self.feed_text(char)
        events = self._events = []
        self._step(char)
        return events

    def feed_text(self, text: str) -> list[Event]:
        """Consume many characters; the same events as feeding them one by one."""
        events = self._events = []
        step = self._step
        for char in text:
            step(char)
        return events

    def flush(self) -> list[Event]:
        """End of input: finish whatever is open, and the tune."""
        events = self._events = []
        self._step("\n")
        if self._in_tune:
            self._step("\n")
        return events

    @property
    def state(self) -> ParserState:
        """A snapshot of where the parser stands (see ParserState)."""
        return ParserState(
            context=_CONTEXTS[self._handler.__func__],
            in_tune=self._in_tune,
            in_header=self._in_header,
            in_chord=self._in_chord,
            in_grace=self._in_grace,
            meter=self._meter,
            unit_length=self._unit,
            key=self._key,
            tempo=self._tempo,
            bar_position=self._bar_position,
            pending_length=self._pending_length(),
            bar_number=self._bar_number,
            tuplet_notes_left=self._tuplet_left,
        )

    @property
    def context(self) -> Context:
        """state.context without building the whole ParserState."""
        return _CONTEXTS[self._handler.__func__]

    @property
    def in_header(self) -> bool:
        """Before the K: line that ends a tune's header (state.in_header, cheaply)."""
        return self._in_header

    @property
    def field_name(self) -> str:
        """The letter of the field line or inline field being written."""
        return self._field_name

    @property
    def unit_length(self) -> Fraction:
        return self._unit

    @property
    def in_tuplet(self) -> bool:
        return self._tuplet_left > 0

    @property
    def in_chord(self) -> bool:
        """Inside ``[...]`` (state.in_chord, cheaply)."""
        return self._in_chord

    def bar_committed(self) -> Fraction:
        """Time filled in the bar by completed elements only (state.bar_position)."""
        return self._bar_position

    def token_in_progress(self) -> str:
        """The text so far of a bar line, ending, tuplet, field or quote being written; '' elsewhere."""
        if self._handler.__func__ in _TOKEN_HANDLERS:
            return self._text
        return ""

    def bar_filled(self) -> Fraction:
        """bar_position + pending_length without building a whole ParserState (it runs per character)."""
        if self._kind == _NONE:
            return self._bar_position
        return self._bar_position + self._pending_length()

    def bar_length(self) -> Fraction | None:
        """The length of a bar in the body under the current metre; None in the header or in free metre."""
        if self._in_header or self._meter is None:
            return None
        return self._meter.bar_length

    def in_header_line_start(self) -> bool:
        """At the first character of a header line (where a field letter goes)."""
        return self._in_header and self._in_tune and self._handler.__func__ is AbcStreamParser._h_line_start

    def clone(self) -> "AbcStreamParser":
        """An independent copy in the same state: a sampler tries candidate characters on it."""
        twin = copy.copy(self)
        for name, value in vars(self).items():
            if isinstance(value, (list, dict)):
                setattr(twin, name, value.copy())  # their items are immutable
        twin._handler = self._handler.__func__.__get__(twin)
        return twin

    def buffered(self) -> int:
        """Characters and items held in buffers now (bounded by the MAX_* caps)."""
        return (
            len(self._text)
            + len(self._chord_notes)
            + len(self._decorations)
            + len(self._bar_accidentals)
            + len(self._tie_carry)
        )

    # ------------------------------------------------------------ plumbing

    def _step(self, char: str) -> None:
        if char == "\n":
            self._line += 1
            self._column = 0
        else:
            self._column += 1
        try:
            self._handler(char)
        except Exception as error:  # noqa: BLE001 - the parser must never raise
            self._diagnose(f"internal error: {type(error).__name__}: {error}")
            self._reset_element()
            self._handler = self._h_skip if char != "\n" else self._h_line_start

    def _diagnose(self, message: str) -> None:
        self._events.append(Diagnostic(message, self._line, self._column))

    def _resync(self, message: str) -> None:
        """Report garbled text, drop the token it was in, skip to the next bar line or line.

        An open chord stays open: the bar line or line end closes it.
        """
        self._diagnose(message)
        self._kind = _NONE
        self._accidental = None
        self._text = ""
        self._held = ""
        self._handler = self._h_skip

    def _close_groups(self, where: str) -> None:
        """A bar line or line end closes a forgotten ']' or '}'."""
        if self._in_chord:
            self._diagnose(f"chord not closed before {where}")
            if self._chord_notes:
                self._chord_end("]")
                self._finish_element()
            self._in_chord = False
        if self._in_grace:
            self._diagnose(f"grace notes not closed before {where}")
            self._in_grace = False

    def _reset_tune(self) -> None:
        self._in_header = False
        self._key = C_MAJOR
        self._alterations = C_MAJOR.alterations
        self._meter: Meter | None = None
        self._header_meter: Meter | None = None
        self._unit = _EIGHTH
        self._durations: dict[str, Fraction] = {}  # written length -> duration at this unit
        self._unit_given = False
        self._tempo: Tempo | None = None
        self._bar_position = Fraction(0)
        self._bar_number = 0
        self._bar_accidentals: dict[int, int] = {}
        self._tie_carry: dict[int, int] = {}
        self._last_tied: dict[int, int] = {}
        self._tuplet_left = 0
        self._tuplet_factor = _ONE
        self._broken_next = _ONE
        self._decorations: list[str] = []
        self._reset_element()

    def _reset_element(self) -> None:
        """Forget any half-written note, chord, grace group or token."""
        self._kind = _NONE
        self._accidental: int | None = None
        self._in_chord = False
        self._in_grace = False
        self._chord_notes: list[Note] = []
        self._chord_letters: list[tuple[int, int]] = []
        self._text = ""
        self._held = ""

    # ---------------------------------------------------------- line level

    def _h_line_start(self, c: str) -> None:
        if c in _ASCII_LETTERS:
            self._held = c
            self._handler = self._h_line_letter
        elif c == "\n":
            if self._in_tune:
                self._end_tune()
        elif c == "%":
            self._handler = self._h_comment
        elif c == "\r":
            pass
        elif not self._in_tune:
            self._handler = self._h_outside
        elif self._in_header:
            self._header_music()
        else:
            self._handler = self._h_music
            self._h_music(c)

    def _h_line_letter(self, c: str) -> None:
        held = self._held
        self._held = ""
        if c == ":":
            self._field_name = held
            self._text = ""
            self._handler = self._h_field
        elif not self._in_tune:
            self._handler = self._h_outside
            self._h_outside(c)
        elif self._in_header:
            self._header_music()
            self._handler(c)
        else:
            self._handler = self._h_music
            self._h_music(held)
            self._handler(c)

    def _header_music(self) -> None:
        self._diagnose("music before the K: field that ends the header")
        self._handler = self._h_comment

    def _h_outside(self, c: str) -> None:
        if c == "\n":
            self._handler = self._h_line_start

    def _h_comment(self, c: str) -> None:
        if c == "\n":
            self._line_end(c)

    def _h_field(self, c: str) -> None:
        if c == "\n":
            self._handler = self._h_line_start
            self._field_done(self._field_name, self._text.split("%", 1)[0], inline=False)
            self._text = ""
        elif len(self._text) < MAX_FIELD:
            self._text += c

    def _h_skip(self, c: str) -> None:
        if c == "\n":
            self._line_end(c)
        elif c == "%":
            self._handler = self._h_comment
        elif c == "|":
            self._handler = self._h_music
            self._h_music(c)

    # --------------------------------------------------------------- fields

    def _field_done(self, name: str, value: str, inline: bool) -> None:
        value = value.strip()
        if name == "X":
            if inline:
                self._diagnose("X: cannot be an inline field")
                return
            if self._in_tune:
                self._end_tune()
            self._in_tune = True
            self._reset_tune()
            self._in_header = True
            self._events.append(Field("X", value, header=True))
            return
        if not self._in_tune:
            return
        header = self._in_header
        self._events.append(Field(name, value, header=header, inline=inline))
        if name == "K":
            key = parse_key(value)
            if key is None:
                self._diagnose(f"unknown key {value!r}")
            else:
                self._key = key
                self._alterations = key.alterations
                self._bar_accidentals.clear()
            if header:
                self._start_body()
        elif name == "M":
            meter = parse_meter(value)
            if meter is None:
                self._diagnose(f"unreadable metre {value!r}")
                return
            self._meter = meter
            if header:
                self._header_meter = meter
        elif name == "L":
            unit = parse_unit_length(value)
            if unit is None:
                self._diagnose(f"unreadable unit length {value!r}")
                return
            self._set_unit(unit)
            self._unit_given = True
        elif name == "Q":
            tempo = parse_tempo(value, self._unit)
            if tempo is None:
                if any(char.isdigit() for char in value):  # Q:"Allegro" alone names no number
                    self._diagnose(f"unreadable tempo {value!r}")
                return
            self._tempo = tempo

    def _start_body(self) -> None:
        """K: ended the header: settle the default unit length from the header's M:."""
        self._in_header = False
        if not self._unit_given:
            self._set_unit((self._header_meter or FREE_METER).default_unit_length)

    def _set_unit(self, unit: Fraction) -> None:
        self._unit = unit
        self._durations.clear()

    def _end_tune(self) -> None:
        self._reset_element()
        self._events.append(EndOfTune())
        self._in_tune = False
        self._reset_tune()
        self._handler = self._h_line_start

    # ---------------------------------------------------------------- music

    def _h_music(self, c: str) -> None:
        action = _MUSIC_ACTIONS.get(c)
        if action is None:
            self._resync(f"unexpected {c!r} in music")
        else:
            action(self, c)

    def _note_start(self, c: str) -> None:
        self._start_element(_NOTE)
        self._note_letter = _LETTER_INDEX[c]
        self._note_pitch = NATURAL_SEMITONES[self._note_letter] + (72 if c > "Z" else 60)
        self._note_accidental = self._accidental
        self._accidental = None
        self._handler = self._h_note

    def _accidental_start(self, c: str) -> None:
        self._accidental = _ACCIDENTALS[c]
        self._accidental_text = c
        self._handler = self._h_accidental

    def _h_accidental(self, c: str) -> None:
        if c in _LETTER_INDEX:
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
        self._start_element(_MULTI_REST if c in "ZX" else _REST)
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
        if c in _DIGITS or (c == "/" and self._kind != _MULTI_REST):
            if len(self._text) >= MAX_LENGTH:
                self._resync("note length too long")
                return
            self._text += c
            return
        if self._kind == _NOTE:
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
        """After an element's length: ties, broken rhythm and spaces may still follow."""
        if c == "-":
            if self._kind in (_REST, _MULTI_REST):
                self._diagnose("a rest cannot be tied")
            self._tie = True
        elif c == ">" or c == "<":
            step = 1 if c == ">" else -1
            if self._in_chord or self._in_grace or self._kind == _MULTI_REST or self._broken * step < 0:
                self._resync(f"misplaced broken rhythm {c!r}")
                return
            self._broken += step
            if abs(self._broken) > 3:
                self._resync("broken rhythm too deep")
        elif c == " " or c == "\t":
            pass
        else:
            self._handler = self._h_music
            self._finish_element()
            self._h_music(c)

    def _finish_element(self) -> None:
        kind = self._kind
        self._kind = _NONE
        text = self._text
        self._text = ""
        if kind == _MULTI_REST:
            self._emit_multi_rest(self._multiplier(text))
        elif kind == _CHORD:
            self._emit_chord(self._multiplier(text))
        elif self._in_chord:
            self._add_chord_note(self._written_duration(text))
        else:
            duration = self._written_duration(text)
            grace = self._in_grace
            if not grace and (self._broken or self._tuplet_left or self._broken_next is not _ONE):
                duration *= self._time_factor()
            if kind == _NOTE:
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
            return _ONE
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
        self._broken_next = _ONE
        if self._broken:
            this, following = _broken_factors(self._broken)
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
        bar_length = (self._meter or FREE_METER).bar_length or _ONE
        self._emit_timed(Rest(bar_length * bars, self._rest_invisible, bars), False, {})

    def _pending_length(self) -> Fraction:
        """The time the element being written will take, as far as its characters tell."""
        kind = self._kind
        if kind == _NONE or self._in_grace or self._in_chord:
            return Fraction(0)
        multiplier = length_multiplier(self._text) or _ONE
        if kind == _MULTI_REST:
            return ((self._meter or FREE_METER).bar_length or _ONE) * int(multiplier)
        length = (self._chord_notes[0].duration if kind == _CHORD else self._unit) * multiplier
        length *= self._broken_next
        if self._broken:
            length *= _broken_factors(self._broken)[0]
        if self._tuplet_left:
            length *= self._tuplet_factor
        return length

    # --------------------------------------------------------------- chords

    def _bracket_start(self, c: str) -> None:
        if self._in_chord:
            self._resync("'[' inside a chord")
            return
        self._handler = self._h_bracket

    def _h_bracket(self, c: str) -> None:
        if c in _DIGITS:
            self._text = c
            self._handler = self._h_ending
        elif c == "|":
            self._close_groups("the bar line")
            self._text = "[|"
            self._handler = self._h_bar
        elif c in _ASCII_LETTERS and c not in _LETTER_INDEX:
            self._held = c
            self._handler = self._h_inline_letter
        else:
            self._open_chord()
            self._h_music(c)

    def _open_chord(self) -> None:
        self._in_chord = True
        self._chord_notes = []
        self._chord_letters = []
        self._chord_decorations = tuple(self._decorations)
        self._decorations.clear()
        self._handler = self._h_music

    def _add_chord_note(self, duration: Fraction) -> None:
        if len(self._chord_notes) >= MAX_CHORD_NOTES:
            self._resync("too many notes in a chord")
            return
        self._chord_notes.append(Note(self._note_pitch, duration, self._tie, False, self._element_decorations))
        self._chord_letters.append((self._note_letter, self._note_alteration))

    def _chord_end(self, c: str) -> None:
        if not self._in_chord:
            self._resync("']' without a chord")
            return
        if not self._chord_notes:
            self._resync("empty chord")
            return
        self._in_chord = False
        self._start_element(_CHORD)
        self._element_decorations = self._chord_decorations
        self._handler = self._h_length

    def _grace_start(self, c: str) -> None:
        if self._in_grace or self._in_chord:
            self._resync("misplaced '{'")
            return
        self._in_grace = True

    def _grace_end(self, c: str) -> None:
        if not self._in_grace or self._in_chord:
            self._resync("misplaced '}'")
            return
        self._in_grace = False

    def _slash(self, c: str) -> None:
        if not self._in_grace:
            self._resync("'/' without a note")
        # '{/g}': the slash of an acciaccatura changes nothing we play.

    # ---------------------------------------------------------- bar lines

    def _bar_start(self, c: str) -> None:
        self._close_groups("the bar line")
        self._text = c
        self._handler = self._h_bar

    def _h_bar(self, c: str) -> None:
        text = self._text
        if c == "|" or c == ":":
            if len(text) >= MAX_BAR:
                self._resync("bar line too long")
                return
            self._text = text + c
        elif c == "]" and text[-1] == "|":
            self._text = text + c
            self._bar_done()
            self._handler = self._h_music
        elif c in _DIGITS and text[-1] == "|":
            self._bar_done()
            self._text = c
            self._handler = self._h_ending
        else:
            self._bar_done()
            self._handler = self._h_music
            self._h_music(c)

    def _bar_done(self) -> None:
        self._events.append(Bar(self._text))
        self._text = ""
        self._bar_position = Fraction(0)
        self._bar_number += 1
        self._bar_accidentals.clear()
        self._tie_carry = self._last_tied
        self._last_tied = {}

    def _h_ending(self, c: str) -> None:
        if c in _DIGITS or c == "," or c == "-":
            if len(self._text) >= MAX_ENDING:
                self._resync("ending number too long")
                return
            self._text += c
            return
        numbers = _ending_numbers(self._text)
        self._text = ""
        if numbers:
            self._events.append(Ending(numbers))
        else:
            self._diagnose("unreadable ending number")
        self._handler = self._h_music
        self._h_music(c)

    # -------------------------------------------------------- inline fields

    def _h_inline_letter(self, c: str) -> None:
        held = self._held
        self._held = ""
        if c == ":":
            self._field_name = held
            self._text = ""
            self._handler = self._h_inline_field
        elif held in _DECORATION_SHORTCUTS:
            self._open_chord()
            self._h_music(held)
            self._handler(c)
        else:
            self._resync(f"unexpected '[{held}'")
            self._h_skip(c)

    def _h_inline_field(self, c: str) -> None:
        if c == "]":
            self._handler = self._h_music
            self._field_done(self._field_name, self._text, inline=True)
            self._text = ""
        elif c == "\n":
            self._resync("inline field not closed")
            self._h_skip(c)
        elif len(self._text) < MAX_FIELD:
            self._text += c

    # ------------------------------------------------ tuplets and slurs

    def _paren(self, c: str) -> None:
        if self._in_chord:
            self._resync("'(' inside a chord")
            return
        self._handler = self._h_paren

    def _h_paren(self, c: str) -> None:
        if c in _DIGITS:
            self._text = c
            self._handler = self._h_tuplet
        else:
            self._handler = self._h_music  # a slur: nothing we play
            self._h_music(c)

    def _h_tuplet(self, c: str) -> None:
        if c in _DIGITS or c == ":":
            if len(self._text) >= MAX_TUPLET:
                self._resync("tuplet too long")
                return
            self._text += c
            return
        text = self._text
        self._text = ""
        self._handler = self._h_music
        if not self._start_tuplet(text):
            self._resync(f"unreadable tuplet ({text}")
            self._h_skip(c)
            return
        self._h_music(c)

    def _start_tuplet(self, text: str) -> bool:
        parts = text.split(":")
        if len(parts) > 3 or any(part and not part.isdigit() for part in parts):
            return False
        p = int(parts[0])
        q = int(parts[1]) if len(parts) > 1 and parts[1] else 0
        r = int(parts[2]) if len(parts) > 2 and parts[2] else p
        if not q:
            if p in (2, 4, 8):
                q = 3
            elif p in (3, 6):
                q = 2
            else:
                q = 3 if self._meter is not None and self._meter.compound else 2
        if p < 2 or not r:
            return False
        self._tuplet_factor = Fraction(q, p)
        self._tuplet_left = r
        return True

    def _nothing(self, c: str) -> None:
        pass

    # ------------------------------------------- quotes and decorations

    def _quote_start(self, c: str) -> None:
        self._text = ""
        self._handler = self._h_quote

    def _h_quote(self, c: str) -> None:
        if c == '"':
            self._handler = self._h_music
            text = self._text
            self._text = ""
            item = read_quoted(text)
            self._events.append(item)
            if isinstance(item, ChordSymbol) and not item.known:
                self._diagnose(f"unknown chord quality {item.quality!r}; playing a major chord")
        elif c == "\n":
            self._resync("quote not closed")
            self._h_skip(c)
        elif len(self._text) < MAX_QUOTE:
            self._text += c

    def _decoration_start(self, c: str) -> None:
        self._text = c
        self._handler = self._h_decoration

    def _h_decoration(self, c: str) -> None:
        text = self._text
        if c == text[0]:
            self._handler = self._h_music
            self._text = ""
            self._add_decoration(text[1:])
        elif c == "\n" or len(text) >= MAX_DECORATION:
            # Not a decoration after all (an old-style line break '!', a stray
            # '+'): drop the opening mark and read what followed as music.
            self._diagnose(f"unclosed decoration {text[:MAX_DECORATION]!r}")
            self._text = ""
            self._handler = self._h_music
            for char in text[1:] + c:
                self._handler(char)
        else:
            self._text = text + c

    def _decoration_shortcut(self, c: str) -> None:
        self._add_decoration(_DECORATION_SHORTCUTS[c])

    def _add_decoration(self, name: str) -> None:
        if len(self._decorations) < MAX_DECORATIONS:
            self._decorations.append(name)

    # ------------------------------------------------------ the odd ones

    def _tie_alone(self, c: str) -> None:
        self._resync("tie without a note")

    def _broken_alone(self, c: str) -> None:
        self._resync(f"broken rhythm {c!r} without a note")

    def _comment_start(self, c: str) -> None:
        self._handler = self._h_comment

    def _line_end(self, c: str) -> None:
        self._close_groups("the end of the line")
        self._handler = self._h_line_start


def _broken_factors(broken: int) -> tuple[Fraction, Fraction]:
    """Factors of the two notes around ``>`` (broken 1), ``>>`` (2), ``<`` (-1)...: A>B is A3/2 B/2."""
    scale = 1 << abs(broken)
    longer, shorter = Fraction(2 * scale - 1, scale), Fraction(1, scale)
    return (longer, shorter) if broken > 0 else (shorter, longer)


_LENGTH_CACHE: dict[str, Fraction | None] = {}


def length_multiplier(text: str) -> Fraction | None:
    """A written note length as a multiple of the unit: "3/2", "/", "//", "3//"; None if invalid."""
    if text in _LENGTH_CACHE:
        return _LENGTH_CACHE[text]
    multiplier = _parse_length(text)
    if len(_LENGTH_CACHE) < 1024:
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


def _ending_numbers(text: str) -> tuple[int, ...]:
    numbers: list[int] = []
    for part in text.split(","):
        first, dash, last = part.partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            return ()
        start = int(first)
        stop = int(last) if dash else start
        if stop < start or stop - start > MAX_ENDING:
            return ()
        numbers.extend(range(start, stop + 1))
    return tuple(numbers[:MAX_ENDING])


_P = AbcStreamParser
_MUSIC_ACTIONS = {
    **{letter: _P._note_start for letter in _NOTE_LETTERS},
    **{mark: _P._accidental_start for mark in _ACCIDENTALS},
    **{mark: _P._decoration_shortcut for mark in _DECORATION_SHORTCUTS},
    **{char: _P._nothing for char in _IGNORED},
    **{rest: _P._rest_start for rest in "zxZX"},
    "|": _P._bar_start,
    ":": _P._bar_start,
    "[": _P._bracket_start,
    "]": _P._chord_end,
    "{": _P._grace_start,
    "}": _P._grace_end,
    "/": _P._slash,
    "(": _P._paren,
    ")": _P._nothing,
    '"': _P._quote_start,
    "!": _P._decoration_start,
    "+": _P._decoration_start,
    "-": _P._tie_alone,
    ">": _P._broken_alone,
    "<": _P._broken_alone,
    "%": _P._comment_start,
    "\\": _P._comment_start,
    "\n": _P._line_end,
}

_CONTEXTS = {
    _P._h_line_start: Context.LINE_START,
    _P._h_line_letter: Context.LINE_START,
    _P._h_outside: Context.OUTSIDE,
    _P._h_comment: Context.COMMENT,
    _P._h_field: Context.FIELD,
    _P._h_skip: Context.SKIP,
    _P._h_music: Context.MUSIC,
    _P._h_accidental: Context.NOTE,
    _P._h_note: Context.NOTE,
    _P._h_length: Context.NOTE,
    _P._h_after: Context.NOTE,
    _P._h_bracket: Context.BRACKET,
    _P._h_bar: Context.BAR,
    _P._h_ending: Context.BAR,
    _P._h_inline_letter: Context.INLINE_FIELD,
    _P._h_inline_field: Context.INLINE_FIELD,
    _P._h_paren: Context.MUSIC,
    _P._h_tuplet: Context.TUPLET,
    _P._h_quote: Context.QUOTE,
    _P._h_decoration: Context.DECORATION,
}
_TOKEN_HANDLERS = frozenset((_P._h_bar, _P._h_ending, _P._h_tuplet, _P._h_field, _P._h_inline_field, _P._h_quote))
