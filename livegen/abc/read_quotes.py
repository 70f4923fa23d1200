"""The parser's quoted text and decorations: ``"Am7"``, ``"^text"``, ``!trill!``, ``+fermata+``, ``~``.

A mixin of AbcStreamParser (parser.py declares the state it reads and writes).
Chord symbols and annotations are events of their own; decorations wait for
the note or chord they ornament.
"""

from __future__ import annotations

from .chord_symbols import read_quoted
from .events import ChordSymbol
from .limits import MAX_DECORATION, MAX_DECORATIONS, MAX_QUOTE

DECORATION_SHORTCUTS = {
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


class QuoteReading:
    __slots__ = ()

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
        self._add_decoration(DECORATION_SHORTCUTS[c])

    def _add_decoration(self, name: str) -> None:
        if len(self._decorations) < MAX_DECORATIONS:
            self._decorations.append(name)
