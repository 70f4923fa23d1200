"""The scheduler holds settled cues until the playhead is within the lookahead: a tempo change is heard soon.

A repeat sign settles a whole strain at once; were it all timed and queued
then, a tempo change (a fader, a Link peer) would wait for the strain's end.
The output thread here only records what it is given and when it is due:
what is under test is which times the scheduler gives, not how they are sent.
"""

from __future__ import annotations

import time
from fractions import Fraction

import mido

from livegen.control.controls import Controls
from livegen.perform.live_player import Cue
from livegen.realtime.clock import InternalClock
from livegen.session.scheduler import Scheduler

BEATS = 24
LOOKAHEAD_BEATS = 1.0


class QueuedMessages:
    """What the output thread would have been asked to send, and at what monotonic time."""

    def __init__(self):
        self.scheduled: list[tuple[float, mido.Message]] = []

    def schedule(self, message: mido.Message, at: float) -> None:
        self.scheduled.append((at, message))

    def onsets(self) -> list[float]:
        return sorted(at for at, message in self.scheduled if message.type == "note_on")


def a_strain_settled_at_once(scheduler: Scheduler) -> None:
    """Crotchets for BEATS beats, handed over in one batch as a closing repeat sign hands them."""
    cues = []
    for beat in range(BEATS):
        cues += [Cue(Fraction(beat), 0, 60, 90, Fraction(1)), Cue(Fraction(beat + 1), 0, 60)]
    scheduler.schedule(sorted(cues, key=lambda cue: (cue.beat, cue.starts)))


def play_out(scheduler: Scheduler, output: QueuedMessages, deadline_s: float = 20.0) -> None:
    """Release held cues as the generation thread's naps do, until every onset is queued."""
    deadline = time.monotonic() + deadline_s
    while len(output.onsets()) < BEATS:
        assert time.monotonic() < deadline, f"only {len(output.onsets())} of {BEATS} onsets queued"
        scheduler.release_due()
        time.sleep(0.005)


def test_only_the_cues_within_the_lookahead_are_queued_at_once():
    scheduler = Scheduler(InternalClock(600.0), Controls({"humanise": 0.0}), LOOKAHEAD_BEATS)
    output = scheduler.output = QueuedMessages()
    a_strain_settled_at_once(scheduler)
    queued_beats = len(output.onsets())
    assert 1 <= queued_beats <= 3, queued_beats  # beat 0, and what the start margin lets in
    play_out(scheduler, output)
    gaps = [b - a for a, b in zip(output.onsets(), output.onsets()[1:])]
    assert max(gaps) - min(gaps) < 1e-6  # held or not, every beat keeps its time at one tempo


def test_a_tempo_change_takes_over_within_the_lookahead_of_a_strain_settled_at_once():
    clock = InternalClock(300.0)  # 0.2 s a beat
    scheduler = Scheduler(clock, Controls({"humanise": 0.0}), LOOKAHEAD_BEATS)
    output = scheduler.output = QueuedMessages()
    a_strain_settled_at_once(scheduler)
    scheduler.set_tempo(600.0)  # asked before the first note sounds
    play_out(scheduler, output)
    gaps = [b - a for a, b in zip(output.onsets(), output.onsets()[1:])]
    slow = [gap for gap in gaps if abs(gap - 0.2) < 1e-6]
    fast = [gap for gap in gaps if abs(gap - 0.1) < 1e-6]
    assert len(slow) + len(fast) == len(gaps), gaps  # each beat at one tempo or the other: none rushed
    assert fast and gaps[-1] == fast[-1] and len(slow) <= LOOKAHEAD_BEATS + 2, gaps  # the old tempo only for what
    # was within the lookahead when it changed (all 23 gaps stayed slow when the strain was queued at once)
