"""The live player: a tune's events, as they are written, become note starts and ends at beat positions.

Repeats are played as written: when the model writes ``:|`` the part is
played again before anything written after it. This uses the same repeat
expansion, timeline and arrangement as `livegen render`, recomputed over
the tune so far whenever new music arrives. The played order only ever
grows at its end as text is added (a part is replayed where its ``:|``
stands), so what has been handed out never moves.

What is handed out are cues: a note's start or its end. A melody note is
handed out, start and end together, once nothing written later can lengthen
it (a tie still open can). A chord symbol is held until the next one, which
may be written bars later; waiting for it would hold back the lookahead by
as much, so a chord's start is handed out as soon as the melody passes its
onset (then it is sure to last: the next chord symbol can only come later),
and its end once the next chord symbol (or the end of the tune) is written.
A chord symbol followed at once by another sounds nothing, as in `render`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from fractions import Fraction

from livegen.abc import Chord, ChordSymbol, EndOfTune, Event, Note, TimedChordSymbol, play_order, timeline
from livegen.perform.arrangement import (
    BEATS_PER_WHOLE,
    ArrangementSettings,
    arrange_melody,
    chord_pitches,
    clamp_velocity,
    fit_range,
)

MUSICAL = (Note, Chord, ChordSymbol)


@dataclass(frozen=True)
class Cue:
    """A note starting (velocity above 0) or ending (velocity 0) at a beat of the session."""

    beat: Fraction
    channel: int
    pitch: int
    velocity: int = 0
    lasts: Fraction = Fraction(0)  # a start: beats until its end (a melody note), or at least (a chord)
    settings: ArrangementSettings | None = field(default=None, compare=False, repr=False)  # as arranged

    @property
    def starts(self) -> bool:
        return self.velocity > 0

    def voiced(self, transpose: int, melody_velocity: int) -> tuple[int, int]:
        """Its pitch and velocity under the transposition and velocity controls as they are now.

        A repeat settles a whole strain at once, bars ahead of the playhead: a
        cue is voiced again as it is queued, so the key and velocity faders
        reach it within the lookahead, not after the repeat.
        """
        arranged = self.settings
        if arranged is None:
            return self.pitch, self.velocity
        pitch = self.pitch + transpose - arranged.transpose
        if self.channel != arranged.melody_channel:
            return fit_range(pitch, 0, 127), self.velocity
        return (fit_range(pitch, arranged.lowest, arranged.highest),
                clamp_velocity(self.velocity + melody_velocity - arranged.velocity))


class LivePlayer:
    """One tune at a time; start_beat is where on the session grid the tune begins."""

    def __init__(self, settings: ArrangementSettings, start_beat: Fraction = Fraction(0)):
        self.settings = settings
        self.start_beat = start_beat
        self.events: list[Event] = []
        self.finished = False
        self._melody_out = 0
        self._played_until = Fraction(0)  # beats into the tune covered by handed-out melody
        self._chords_done = 0  # chord symbols whose end (or silence) has been handed out
        self._chord_sounding: list[Cue] = []  # the starts handed out for chord symbol number _chords_done
        self._chord_started = False

    @property
    def played_until(self) -> Fraction:
        """The session beat up to which every note's start has been handed out."""
        return self.start_beat + self._played_until

    def add(self, events: list[Event]) -> list[Cue]:
        """Take newly parsed events; returns the cues that became settled, in order of their beats."""
        self.events += events
        self.finished = self.finished or any(isinstance(event, EndOfTune) for event in events)
        if not any(isinstance(event, MUSICAL + (EndOfTune,)) for event in events) and not self._repeat_closed(events):
            return []
        return self._settle()

    def _repeat_closed(self, events: list[Event]) -> bool:
        return any(getattr(event, "repeat_end", False) for event in events)

    def _settle(self) -> list[Cue]:
        played = play_order(self.events)
        items = timeline(played)
        cues = self._settle_melody(arrange_melody(items, self.settings, first=self._melody_out), played)
        cues += self._settle_chords([item for item in items if isinstance(item, TimedChordSymbol)])
        return sorted(cues, key=lambda cue: (cue.beat, cue.starts))  # at the same beat, an end before a start

    def _settle_melody(self, fresh, played: list[Event]) -> list[Cue]:
        """Cues for the melody notes not handed out yet, but the last while a tie may still lengthen it."""
        if fresh and not self.finished and self._tie_open(played):
            fresh = fresh[:-1]
        cues = []
        for note in fresh:
            start = self.start_beat + note.start
            cues += [Cue(start, note.channel, note.pitch, note.velocity, note.duration, self.settings),
                     Cue(start + note.duration, note.channel, note.pitch, settings=self.settings)]
            self._played_until = max(self._played_until, note.start + note.duration)
        self._melody_out += len(fresh)
        return cues

    def _settle_chords(self, chords: list[TimedChordSymbol]) -> list[Cue]:
        """Start each chord once the melody has passed its onset; end it where the next begins."""
        cues = []
        while self._chords_done < len(chords):
            chord = chords[self._chords_done]
            onset = chord.onset * BEATS_PER_WHOLE  # beats into the tune
            if self._chords_done + 1 < len(chords):
                until = chords[self._chords_done + 1].onset * BEATS_PER_WHOLE
            else:
                until = self._played_until if self.finished else None  # None: not known yet
            if not self._chord_started:
                if until is None and self._played_until <= onset:
                    break  # it may yet turn out to sound nothing
                if until is None or until > onset:
                    lasts = (self._played_until if until is None else until) - onset
                    self._chord_sounding = [Cue(self.start_beat + onset, self.settings.chord_channel, pitch,
                                                self.settings.chord_velocity, lasts, self.settings)
                                            for pitch in chord_pitches(chord.symbol, self.settings)]
                    cues += self._chord_sounding
                self._chord_started = True
            if until is None:
                break
            cues += [Cue(self.start_beat + until, cue.channel, cue.pitch, settings=cue.settings)
                     for cue in self._chord_sounding]
            self._chord_sounding, self._chord_started = [], False
            self._chords_done += 1
        return cues

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
