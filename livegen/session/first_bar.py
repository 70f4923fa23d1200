"""A tune's place on the clock's bars: its first downbeat where a bar of the clock begins.

Following Ableton Link, a tune must start as a Link app launched mid-session
does: its first downbeat on a downbeat of the session's bars (Live's bars),
with the bar length of the tune's own metre. Where that downbeat is depends
on the pickup, the short bar some tunes open with, and the pickup is known
only once the first bar line is written. So the tune's first cues are held
until then (the model writes a bar in milliseconds, well inside the margin
before the tune is due), and then the tune is moved later, if need be, onto
the bar the clock names (Clock.bar_start). A clock with no bars of its own
names the beat it is given, and nothing moves. On a machine too busy for
that margin, a tune whose first note is already due starts a whole beat (or
bar) later, on time, rather than late and off the grid.
"""

from __future__ import annotations

import math
import time
from dataclasses import replace
from fractions import Fraction

from livegen.abc.parser import ParserState
from livegen.perform.live_player import Cue, LivePlayer
from livegen.realtime.clock import Clock

BEAT_RESOLUTION = 960  # a Link downbeat is a float: as a Fraction of the session's beats, to this denominator
QUEUE_MARGIN_S = 0.01  # a tune placed less than this before its first note is due starts on a later beat


class FirstBar:
    """For one tune: note_state() before each character, then pass the cues of each batch through release()."""

    def __init__(self, clock: Clock, player: LivePlayer):
        self._clock = clock
        self._player = player
        self._held: list[Cue] | None = []  # None once the tune is placed
        self._filled = Fraction(0)  # the time written in the bar open before this character (whole notes)
        self._bar_lines = 0

    @property
    def placed(self) -> bool:
        return self._held is None

    def note_state(self, state: ParserState) -> None:
        """Where the parser stands before the next character."""
        self._filled = state.bar_position + state.pending_length
        self._bar_lines = state.bar_number

    def release(self, cues: list[Cue], state: ParserState, finished: bool) -> list[Cue]:
        """The cues to schedule now: none while the first bar with notes in it is open, then every one held so
        far, moved onto the clock's bars, and from then on the cues as they come."""
        if self._held is None:
            return cues
        self._held += cues
        first_bar_closed = state.bar_number > self._bar_lines and self._filled > 0
        if not (first_bar_closed or finished):
            return []
        shift = self._shift(state, self._filled if first_bar_closed else Fraction(0))
        self._player.start_beat += shift
        held, self._held = self._held, None
        return [replace(cue, beat=cue.beat + shift) for cue in held]

    def _shift(self, state: ParserState, first_bar: Fraction) -> Fraction:
        start = self._player.start_beat
        late_by = self._beats_late(start)
        meter = state.meter
        if meter is None or not meter.bar_length:
            return late_by  # free metre: no bars to line up with
        pickup = first_bar * 4 if first_bar < meter.bar_length else Fraction(0)
        downbeat_wanted = start + late_by + pickup
        downbeat = self._clock.bar_start(float(downbeat_wanted), float(meter.bar_length * 4))
        return max(Fraction(0), Fraction(downbeat).limit_denominator(BEAT_RESOLUTION) - downbeat_wanted) + late_by

    def _beats_late(self, start: Fraction) -> Fraction:
        """Whole beats to move a tune whose first note is already due (none if the clock starts with it)."""
        earliest = self._clock.beat_at(time.monotonic() + QUEUE_MARGIN_S)
        return Fraction(math.ceil(earliest - start)) if earliest is not None and start < earliest else Fraction(0)
