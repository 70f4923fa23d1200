"""The parser's groups of notes: chords ``[CEG]``, grace notes ``{g}``, tuplets ``(3`` and slurs ``(...)``.

A mixin of AbcStreamParser (parser.py declares the state it reads and writes).
A ``[`` may also open an inline field, an ending or ``[|``; a ``(`` followed
by a digit opens a tuplet, otherwise a slur, which plays nothing.
"""

from __future__ import annotations

from fractions import Fraction

from .events import Note
from .fields import FIELD_LETTERS
from .limits import MAX_CHORD_NOTES, MAX_TUPLET
from .read_notes import CHORD, DIGITS, LETTER_INDEX


class GroupReading:
    __slots__ = ()

    # ------------------------------------------------------------ chords

    def _bracket_start(self, c: str) -> None:
        if self._in_chord:
            self._resync("'[' inside a chord")
            return
        self._handler = self._h_bracket

    def _h_bracket(self, c: str) -> None:
        if c in DIGITS:
            self._text = c
            self._handler = self._h_ending
        elif c == "|":
            self._close_groups("the bar line")
            self._text = "[|"
            self._handler = self._h_bar
        elif c in FIELD_LETTERS and c not in LETTER_INDEX:
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
        self._start_element(CHORD)
        self._element_decorations = self._chord_decorations
        self._handler = self._h_length

    # ------------------------------------------------------- grace notes

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

    # ------------------------------------------------ tuplets and slurs

    def _paren(self, c: str) -> None:
        if self._in_chord:
            self._resync("'(' inside a chord")
            return
        self._handler = self._h_paren

    def _h_paren(self, c: str) -> None:
        if c in DIGITS:
            self._text = c
            self._handler = self._h_tuplet
        else:
            self._handler = self._h_music  # a slur: nothing we play
            self._h_music(c)

    def _h_tuplet(self, c: str) -> None:
        if c in DIGITS or c == ":":
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
