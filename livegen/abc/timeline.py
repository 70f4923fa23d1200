"""Onsets for played events: the notes and chord symbols a listener hears, in time order.

Time is counted in whole notes from the start of the tune. Tied notes become
one note: a tie joins a note to the next note of the same pitch that starts
exactly when it ends.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction

from .events import Bar, Chord, ChordSymbol, Event, Field, Note, Rest
from .fields import Meter, parse_meter


@dataclass(frozen=True, slots=True)
class TimedNote:
    onset: Fraction
    duration: Fraction
    pitch: int
    grace: bool = False
    decorations: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class TimedChordSymbol:
    onset: Fraction
    symbol: ChordSymbol


@dataclass(frozen=True, slots=True)
class TimedBar:
    """A bar line as played, with the metre in force there (None before any M:)."""

    onset: Fraction
    meter: Meter | None


def timeline(events: Iterable[Event]) -> list[TimedNote | TimedChordSymbol | TimedBar]:
    """Give each played note, chord symbol and bar line its onset; join tied notes.

    Feed it the output of ``play_order``. Grace notes sit at the onset of
    the note they ornament and take no time.
    """
    time = Fraction(0)
    meter: Meter | None = None
    timed: list[TimedNote | TimedChordSymbol | TimedBar] = []
    # pitch -> (index in timed, end) of notes whose tie is still open
    open_ties: dict[int, tuple[int, Fraction]] = {}
    for event in events:
        if isinstance(event, (Note, Chord)) and not event.grace:
            notes = (event,) if isinstance(event, Note) else event.notes
            still_open = {}
            for note in notes:
                tied = open_ties.get(note.pitch)
                if tied is not None and tied[1] == time:
                    index = tied[0]
                    earlier = timed[index]
                    timed[index] = TimedNote(
                        earlier.onset, earlier.duration + note.duration, note.pitch, False, earlier.decorations
                    )
                else:
                    index = len(timed)
                    decorations = note.decorations or event.decorations
                    timed.append(TimedNote(time, note.duration, note.pitch, False, decorations))
                if note.tie:
                    still_open[note.pitch] = (index, time + note.duration)
            open_ties = still_open
            time += event.duration
        elif isinstance(event, (Note, Chord)):
            notes = (event,) if isinstance(event, Note) else event.notes
            timed.extend(TimedNote(time, note.duration, note.pitch, True, note.decorations) for note in notes)
        elif isinstance(event, Rest):
            open_ties = {}
            time += event.duration
        elif isinstance(event, ChordSymbol):
            timed.append(TimedChordSymbol(time, event))
        elif isinstance(event, Bar):
            timed.append(TimedBar(time, meter))
        elif isinstance(event, Field) and event.name == "M":
            meter = parse_meter(event.value) or meter
    return timed
