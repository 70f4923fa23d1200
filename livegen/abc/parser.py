"""The streaming ABC parser: one character in, the events it completed out.

The model writes a tune one character at a time and the player must hear each
note as soon as its last character is known, so this is a hand-written state
machine: every character costs a few attribute look-ups, no text is ever
re-scanned, and every buffer is capped (limits.py) so that garbage cannot grow
memory. The parser never raises: text it cannot read becomes a Diagnostic
event; a character with no meaning in music is skipped alone (as abc2midi
does), other garbled text up to the next bar line or line.

The handler of each context lives with what it reads: read_notes.py (notes,
rests, lengths, ties, broken rhythm), read_groups.py (chords, grace notes,
tuplets, slurs), read_bars.py (bar lines, endings), read_fields.py (field
lines, inline fields, tune boundaries), read_quotes.py (chord symbols,
annotations, decorations). This module holds the state they share, declared
in ``__init__``, the line-level handlers and the dispatch of music characters.
Between tunes (before X:, after a blank line) text is ignored.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from enum import Enum
from fractions import Fraction

from .events import Diagnostic, Event, Note
from .fields import FIELD_LETTERS, Meter, Tempo
from .keys import C_MAJOR, Key
from .read_bars import BarReading
from .read_fields import FieldReading
from .read_groups import GroupReading
from .read_notes import ACCIDENTALS, NONE, NOTE_LETTERS, ONE, NoteReading
from .read_quotes import DECORATION_SHORTCUTS, QuoteReading

# Beaming, layout and reserved characters: they carry no music.
_IGNORED = frozenset(" \t\r`$y#*;?@")
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


class AbcStreamParser(NoteReading, GroupReading, BarReading, FieldReading, QuoteReading):
    """Incremental ABC 2.1 parser; see the module docstring.

    ``feed(char)`` returns the events completed by one character,
    ``feed_text(text)`` those of many, and ``flush()`` ends the input
    (completing the last note and the tune).
    """

    def __init__(self) -> None:
        # Every attribute the parser and its readers use is set here, and only
        # here is one added (a test holds this): the state in one place.
        # -- the input
        self._events: list[Event] = []  # the events of the current feed call
        self._line = 1
        self._column = 0
        self._handler = self._h_line_start  # the handler of the current context
        self._text = ""  # the token being written: a length, bar line, field value, quote...
        self._held = ""  # a letter that may yet turn out to be a field's name
        # -- the tune
        self._in_tune = False
        self._in_header = False
        self._key: Key = C_MAJOR
        self._alterations: tuple[int, ...] = C_MAJOR.alterations
        self._meter: Meter | None = None
        self._header_meter: Meter | None = None
        self._unit = _EIGHTH
        self._unit_given = False  # an L: was read, so K: keeps it
        self._durations: dict[str, Fraction] = {}  # written length -> duration at this unit
        self._tempo: Tempo | None = None
        self._header_tempo = ""  # the header's Q:, read again once K: settles the unit
        self._field_name = ""  # the letter of the field line or inline field being written
        # -- the bar
        self._bar_position = Fraction(0)
        self._bar_number = 0
        self._bar_accidentals: dict[int, int] = {}  # letter index -> alteration
        self._tie_carry: dict[int, int] = {}  # accidentals tied over the last bar line
        self._last_tied: dict[int, int] = {}  # accidentals of the last element's ties
        # -- rhythm across elements
        self._tuplet_left = 0
        self._tuplet_factor = ONE
        self._broken_next = ONE  # the factor '>' or '<' left for the next element
        self._decorations: list[str] = []  # waiting for the next element
        # -- groups
        self._in_chord = False
        self._in_grace = False
        self._chord_notes: list[Note] = []
        self._chord_letters: list[tuple[int, int]] = []  # (letter index, alteration) of each chord note
        self._chord_decorations: tuple[str, ...] = ()
        # -- the element being written (read_notes.py)
        self._kind = NONE
        self._accidental: int | None = None  # an accidental waiting for its letter
        self._accidental_text = ""
        self._note_letter = 0
        self._note_pitch = 0
        self._note_accidental: int | None = None
        self._note_alteration = 0
        self._octave = 0
        self._tie = False
        self._broken = 0  # '>' count (negative for '<') after the element
        self._rest_invisible = False
        self._element_decorations: tuple[str, ...] = ()

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
        if self._kind == NONE:
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

    def clone(self) -> AbcStreamParser:
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
        self._kind = NONE
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
        self._meter = None
        self._header_meter = None
        self._unit = _EIGHTH
        self._durations = {}
        self._unit_given = False
        self._tempo = None
        self._header_tempo = ""
        self._bar_position = Fraction(0)
        self._bar_number = 0
        self._bar_accidentals = {}
        self._tie_carry = {}
        self._last_tied = {}
        self._tuplet_left = 0
        self._tuplet_factor = ONE
        self._broken_next = ONE
        self._decorations = []
        self._reset_element()

    def _reset_element(self) -> None:
        """Forget any half-written note, chord, grace group or token."""
        self._kind = NONE
        self._accidental = None
        self._in_chord = False
        self._in_grace = False
        self._chord_notes = []
        self._chord_letters = []
        self._text = ""
        self._held = ""

    # ---------------------------------------------------------- line level

    def _h_line_start(self, c: str) -> None:
        if c in FIELD_LETTERS:
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

    def _h_skip(self, c: str) -> None:
        if c == "\n":
            self._line_end(c)
        elif c == "%":
            self._handler = self._h_comment
        elif c == "|":
            self._handler = self._h_music
            self._h_music(c)

    # ---------------------------------------------------------------- music

    def _h_music(self, c: str) -> None:
        action = _MUSIC_ACTIONS.get(c)
        if action is None:
            # A character with no meaning in music: abc2midi skips it and plays on.
            self._diagnose(f"unexpected {c!r} in music; skipped")
        else:
            action(self, c)

    def _voice_overlay(self, c: str) -> None:
        # abc2midi sounds the notes after '&' in another voice, not the melody.
        self._resync("voice overlay '&' is not played")

    def _nothing(self, c: str) -> None:
        pass

    def _comment_start(self, c: str) -> None:
        self._handler = self._h_comment

    def _line_end(self, c: str) -> None:
        self._close_groups("the end of the line")
        self._handler = self._h_line_start


_P = AbcStreamParser
_MUSIC_ACTIONS = {
    **{letter: _P._note_start for letter in NOTE_LETTERS},
    **{mark: _P._accidental_start for mark in ACCIDENTALS},
    **{mark: _P._decoration_shortcut for mark in DECORATION_SHORTCUTS},
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
    "&": _P._voice_overlay,
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
