"""A tune's first notes on the clock: on the beat it was given, or, written too late for it, on a later one."""

from __future__ import annotations

import time
from fractions import Fraction

from livegen.abc.parser import AbcStreamParser
from livegen.perform.arrangement import ArrangementSettings
from livegen.perform.live_player import LivePlayer
from livegen.realtime.clock import InternalClock
from livegen.session.first_bar import FirstBar

TUNE = "X:1\nT:A\nM:4/4\nL:1/8\nK:G\nGABc defg|g"  # the bar line is read at the note after it
BPM = 120.0  # 0.5 s a beat


def first_onset(clock: InternalClock, start: Fraction) -> Fraction:
    """Write the tune's first bar as the generation thread does; the session beat its first note is placed on."""
    player = LivePlayer(ArrangementSettings(chord_channel=None), start)
    first_bar = FirstBar(clock, player)
    parser = AbcStreamParser()
    placed = []
    for character in TUNE:
        first_bar.note_state(parser.state)
        placed += first_bar.release(player.add(parser.feed(character)), parser.state, False)
    assert first_bar.placed
    return min(cue.beat for cue in placed)


def test_a_tune_written_in_time_starts_on_the_beat_it_was_given():
    clock = InternalClock(BPM)
    clock.start(0.0, time.monotonic() + 10.0)  # beat 0 is ten seconds away
    assert first_onset(clock, Fraction(0)) == 0


def test_a_tune_written_after_its_first_beat_was_due_starts_on_the_next_beat_not_late():
    clock = InternalClock(BPM)
    clock.start(0.0, time.monotonic() - 1.2)  # the playhead is at beat 2.4: beats 0, 1 and 2 have passed
    onset = first_onset(clock, Fraction(0))
    assert onset.denominator == 1 and clock.time_of(float(onset)) > time.monotonic()
    assert onset <= 4  # the next beat that can still be made, not a bar or more later


def test_a_clock_that_starts_with_the_tune_moves_nothing():
    assert first_onset(InternalClock(BPM), Fraction(5)) == 5
