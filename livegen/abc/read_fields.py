"""The parser's information fields: field lines (``M:6/8``), inline fields (``[K:D]``), and tune boundaries.

A mixin of AbcStreamParser (parser.py declares the state it reads and writes).
X: starts a tune, K: ends its header; M:, L:, K: and Q: change how the notes
after them are read.
"""

from __future__ import annotations

from fractions import Fraction

from .events import EndOfTune, Field
from .fields import FREE_METER, parse_meter, parse_tempo, parse_unit_length, without_comment
from .keys import parse_key
from .limits import MAX_FIELD
from .read_quotes import DECORATION_SHORTCUTS


class FieldReading:
    __slots__ = ()

    def _h_field(self, c: str) -> None:
        if c == "\n":
            self._handler = self._h_line_start
            self._field_done(self._field_name, without_comment(self._text), inline=False)
            self._text = ""
        elif len(self._text) < MAX_FIELD:
            self._text += c

    def _h_inline_letter(self, c: str) -> None:
        held = self._held
        self._held = ""
        if c == ":":
            self._field_name = held
            self._text = ""
            self._handler = self._h_inline_field
        elif held in DECORATION_SHORTCUTS:
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
            self._key_field(value, header)
        elif name == "M":
            self._meter_field(value, header)
        elif name == "L":
            unit = parse_unit_length(value)
            if unit is None:
                self._diagnose(f"unreadable unit length {value!r}")
                return
            self._set_unit(unit)
            self._unit_given = True
        elif name == "Q":
            self._tempo_field(value, header)

    def _key_field(self, value: str, header: bool) -> None:
        key = parse_key(value)
        if key is None:
            self._diagnose(f"unknown key {value!r}")
        else:
            self._key = key
            self._alterations = key.alterations
            self._bar_accidentals.clear()
        if header:
            self._start_body()

    def _meter_field(self, value: str, header: bool) -> None:
        meter = parse_meter(value)
        if meter is None:
            self._diagnose(f"unreadable metre {value!r}")
            return
        self._meter = meter
        if header:
            self._header_meter = meter

    def _tempo_field(self, value: str, header: bool) -> None:
        tempo = parse_tempo(value, self._unit)
        if tempo is None:
            if any(char.isdigit() for char in value):  # Q:"Allegro" alone names no number
                self._diagnose(f"unreadable tempo {value!r}")
            return
        self._tempo = tempo
        if header:
            # A tempo counted in unit lengths (Q:120, Q:C=120) waits for the
            # header's L: or M:, wherever they stand: the unit is settled at K:.
            self._header_tempo = value

    def _start_body(self) -> None:
        """K: ended the header: settle the default unit length from the header's M:, and the tempo from it."""
        self._in_header = False
        if not self._unit_given:
            self._set_unit((self._header_meter or FREE_METER).default_unit_length)
        if self._header_tempo:
            self._tempo = parse_tempo(self._header_tempo, self._unit)

    def _set_unit(self, unit: Fraction) -> None:
        self._unit = unit
        self._durations.clear()

    def _end_tune(self) -> None:
        self._reset_element()
        self._events.append(EndOfTune())
        self._in_tune = False
        self._reset_tune()
        self._handler = self._h_line_start
