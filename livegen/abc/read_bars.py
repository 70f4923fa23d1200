"""The parser's bar lines and numbered endings: ``|``, ``||``, ``|]``, ``[|``, ``|:``, ``:|``, ``::``, ``[1``, ``|2``.

A mixin of AbcStreamParser (parser.py declares the state it reads and writes).
"""

from __future__ import annotations

from fractions import Fraction

from .events import Bar, Ending
from .limits import MAX_BAR, MAX_ENDING

DIGITS = frozenset("0123456789")


class BarReading:
    """Bar lines end the bar: its position, accidentals and ties start afresh."""

    __slots__ = ()

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
        elif c in DIGITS and text[-1] == "|":
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
        if c in DIGITS or c == "," or c == "-":
            if len(self._text) >= MAX_ENDING:
                self._resync("ending number too long")
                return
            self._text += c
            return
        numbers = ending_numbers(self._text)
        self._text = ""
        if numbers:
            self._events.append(Ending(numbers))
        else:
            self._diagnose("unreadable ending number")
        self._handler = self._h_music
        self._h_music(c)


def ending_numbers(text: str) -> tuple[int, ...]:
    """"1", "1,3", "1-3" as the passes they name; () if unreadable."""
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
