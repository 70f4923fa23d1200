"""ABC notation, read one character at a time, for a player that plays as it is written.

- ``AbcStreamParser`` (parser.py): characters in, events (events.py) out;
  ``parser.state`` tells a sampler where it stands (context, bar filled).
- ``read_tunes`` (collection.py): a text of any size, one parsed tune at a time.
- ``play_order`` (repeats.py): a tune's events with repeats and parts expanded.
- ``timeline`` (timeline.py): played events to timed notes and chord symbols.
- ``parse_key`` (keys.py), ``parse_chord_symbol`` (chord_symbols.py): the pieces.

Pure Python and the standard library: the realtime loop can import it freely.
"""

from __future__ import annotations

from .chord_symbols import parse_chord_symbol
from .collection import ReadTune, read_tunes
from .events import (
    Annotation,
    Bar,
    Chord,
    ChordSymbol,
    Diagnostic,
    Ending,
    EndOfTune,
    Event,
    Field,
    Note,
    Rest,
)
from .fields import Meter, Tempo
from .keys import Key, parse_key
from .parser import AbcStreamParser, Context, ParserState
from .repeats import play_order
from .timeline import TimedBar, TimedChordSymbol, TimedNote, timeline

__all__ = [
    "AbcStreamParser",
    "Annotation",
    "Bar",
    "Chord",
    "ChordSymbol",
    "Context",
    "Diagnostic",
    "EndOfTune",
    "Ending",
    "Event",
    "Field",
    "Key",
    "Meter",
    "Note",
    "ParserState",
    "ReadTune",
    "Rest",
    "Tempo",
    "TimedBar",
    "TimedChordSymbol",
    "TimedNote",
    "parse_chord_symbol",
    "parse_key",
    "parse_tunes",
    "play_order",
    "read_tunes",
    "timeline",
]


def parse_tunes(text: str) -> list[list[Event]]:
    """Parse a whole ABC text; the events of each tune, EndOfTune left out (read_tunes reads any size)."""
    return [tune.events for tune in read_tunes(text, max_events=None)]
