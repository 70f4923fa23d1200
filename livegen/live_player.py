"""The live player: a tune's events, as they are written, become notes at beat positions.

Repeats are played as written: when the model writes ``:|`` the part is
played again before anything written after it. This uses the same repeat
expansion, timeline and arrangement as `livegen render`, recomputed over
the tune so far whenever new music arrives. The played order only ever
grows at its end as text is added (a part is replayed where its ``:|``
stands), so notes already handed out never move.

A note is handed out once it is settled: a melody note when nothing
written later can lengthen it (a tie still open can), a chord when the next
chord symbol (or the end of the tune) says how long to hold it.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from livegen.abc import Chord, ChordSymbol, EndOfTune, Event, Note, TimedChordSymbol, play_order, timeline
from livegen.arrangement import BEATS_PER_WHOLE, ArrangementSettings, PerformedNote, arrange_chord, arrange_melody

MUSICAL = (Note, Chord, ChordSymbol)


@dataclass(frozen=True)
class ScheduledNote:
    """A performed note placed on the session's beat grid."""

    start: Fraction  # beats since the session started
    note: PerformedNote

    @property
    def end(self) -> Fraction:
        return self.start + self.note.duration


class LivePlayer:
    """One tune at a time; start_beat is where on the session grid the tune begins."""

    def __init__(self, settings: ArrangementSettings, start_beat: Fraction = Fraction(0)):
        self.settings = settings
        self.start_beat = start_beat
        self.events: list[Event] = []
        self.finished = False
        self._melody_out = 0
        self._chords_out = 0
        self._played_until = Fraction(0)  # beats into the tune covered by handed-out melody
        self._held_chord_onset: Fraction | None = None  # beats into the tune of the chord not yet handed out

    @property
    def played_until(self) -> Fraction:
        """The session beat up to which settled melody has been handed out."""
        return self.start_beat + self._played_until

    @property
    def settled_until(self) -> Fraction:
        """The session beat up to which every note, chords included, has been handed out.

        The latest chord waits for the next chord symbol to say how long it
        lasts, so whoever keeps a lookahead must write on past its onset.
        """
        if self._held_chord_onset is None:
            return self.played_until
        return min(self.played_until, self.start_beat + self._held_chord_onset)

    def add(self, events: list[Event]) -> list[ScheduledNote]:
        """Take newly parsed events; returns the notes that became settled."""
        self.events += events
        self.finished = self.finished or any(isinstance(event, EndOfTune) for event in events)
        if not any(isinstance(event, MUSICAL + (EndOfTune,)) for event in events) and not self._repeat_closed(events):
            return []
        return self._settle()

    def _repeat_closed(self, events: list[Event]) -> bool:
        return any(getattr(event, "repeat_end", False) for event in events)

    def _settle(self) -> list[ScheduledNote]:
        played = play_order(self.events)
        items = timeline(played)
        melody = arrange_melody(items, self.settings)
        settled_melody = len(melody) if self.finished or not self._tie_open(played) else len(melody) - 1
        chords = [item for item in items if isinstance(item, TimedChordSymbol)]
        end = max((note.start + note.duration for note in melody), default=Fraction(0)) / BEATS_PER_WHOLE
        handed: list[PerformedNote] = melody[self._melody_out:max(self._melody_out, settled_melody)]
        self._melody_out = max(self._melody_out, settled_melody)
        settled_chords = len(chords) if self.finished else len(chords) - 1
        for index in range(self._chords_out, max(self._chords_out, settled_chords)):
            until = chords[index + 1].onset if index + 1 < len(chords) else end
            handed += arrange_chord(chords[index], until, self.settings)
        self._chords_out = max(self._chords_out, settled_chords)
        held = self.settings.chord_channel is not None and self._chords_out < len(chords)
        self._held_chord_onset = chords[self._chords_out].onset * BEATS_PER_WHOLE if held else None
        if handed:
            self._played_until = max(self._played_until, *(note.start + note.duration for note in handed
                                                           if note.channel == self.settings.melody_channel),
                                     Fraction(0))
        return [ScheduledNote(self.start_beat + note.start, note) for note in sorted(handed)]

    @staticmethod
    def _tie_open(played: list[Event]) -> bool:
        """Is the last note played tied forward (so its length is not known yet)?"""
        for event in reversed(played):
            if isinstance(event, Note) and not event.grace:
                return event.tie
            if isinstance(event, Chord) and not event.grace:
                return any(note.tie for note in event.notes)
        return False

    @property
    def tune_end_beat(self) -> Fraction:
        """Where the next tune can start: the end of everything handed out, on a whole beat."""
        end = self.played_until
        return Fraction(-(-end.numerator // end.denominator)) if end else self.start_beat
