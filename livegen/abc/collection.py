"""ABC files as collections of tunes, read in linear time and bounded memory.

A file may hold thousands of tunes, or one tune megabytes long (generated,
concatenated or hostile). ``read_tunes`` feeds the parser a piece at a time
and hands out one tune at a time, kept to ``max_events`` events: what lies
beyond is still read (its diagnostics counted) but left out, so memory
stays bounded whatever the input.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from .events import Diagnostic, EndOfTune, Event, Field
from .parser import AbcStreamParser

log = logging.getLogger(__name__)

MAX_TUNE_EVENTS = 20_000  # notes, rests, bar lines... of one tune: an hour of music; the longest tune seen has 546
READ_PIECE = 1 << 16  # characters fed to the parser at a time


@dataclass(frozen=True)
class ReadTune:
    events: list[Event]  # EndOfTune left out
    diagnostics: int  # in the whole tune, the part left out included
    events_left_out: int


def read_abc_file(path: Path) -> str:
    """ABC collections of this age are Latin-1 or ASCII; never fail on a stray byte."""
    return Path(path).read_bytes().decode("latin-1")


def read_abc_pieces(path: Path) -> Iterator[str]:
    """An ABC file READ_PIECE characters at a time (Latin-1: one character a byte), for read_tunes."""
    with Path(path).open("rb") as file:
        while piece := file.read(READ_PIECE):
            yield piece.decode("latin-1")


def read_tunes(text: str | Iterable[str], max_events: int | None = MAX_TUNE_EVENTS) -> Iterator[ReadTune]:
    """Each tune of an ABC text (or of its pieces, in order), parsed; see the module docstring (None: no limit)."""
    parser = AbcStreamParser()
    events: list[Event] = []
    diagnostics = left_out = 0
    for completed in _parsed_pieces(parser, text):
        for event in completed:
            if isinstance(event, EndOfTune):
                if left_out:
                    log.warning("%s: only the first %d events are read, %d more are left out",
                                _name(events), max_events, left_out)
                yield ReadTune(events, diagnostics, left_out)
                events, diagnostics, left_out = [], 0, 0
                continue
            diagnostics += isinstance(event, Diagnostic)
            if max_events is None or len(events) < max_events:
                events.append(event)
            else:
                left_out += 1


def _parsed_pieces(parser: AbcStreamParser, text: str | Iterable[str]) -> Iterator[list[Event]]:
    """The events of each piece in turn, then of the end of the input: one piece's events held at a time."""
    pieces = text
    if isinstance(text, str):
        pieces = (text[start:start + READ_PIECE] for start in range(0, len(text), READ_PIECE))
    for piece in pieces:
        yield parser.feed_text(piece)
    yield parser.flush()


def split_tunes(text: str) -> list[str]:
    """Raw tune texts: from an X: line up to the next blank line or X: line."""
    tunes: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("X:"):
            current = [line]
            tunes.append(current)
        elif not line.strip():
            current = None
        elif current is not None:
            current.append(line)
    return ["\n".join(lines) + "\n" for lines in tunes]


def _name(events: list[Event]) -> str:
    fields = {event.name: event.value for event in events[:64] if isinstance(event, Field)}
    return f"tune X:{fields.get('X', '?')} {fields.get('T', '')!r}"
