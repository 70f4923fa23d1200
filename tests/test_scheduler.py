"""The scheduler holds settled cues until the playhead is within the lookahead: a control change is heard soon.

A repeat sign settles a whole strain at once; were it all timed, voiced and
queued then, a tempo change (a fader, a Link peer), a transposition or a new
velocity would wait for the strain's end.
The output thread here only records what it is given and when it is due:
what is under test is which times the scheduler gives, not how they are sent.
"""

from __future__ import annotations

import time
from fractions import Fraction

import mido

from livegen.control.controls import Controls
from livegen.perform.arrangement import ArrangementSettings
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


def a_strain_settled_at_once(scheduler: Scheduler, settings: ArrangementSettings | None = None) -> None:
    """Crotchets for BEATS beats, handed over in one batch as a closing repeat sign hands them."""
    cues = []
    for beat in range(BEATS):
        cues += [Cue(Fraction(beat), 0, 60, 90, Fraction(1), settings),
                 Cue(Fraction(beat + 1), 0, 60, settings=settings)]
    scheduler.schedule(sorted(cues, key=lambda cue: (cue.beat, cue.starts)))


def play_out(scheduler: Scheduler, output: QueuedMessages, deadline_s: float = 20.0) -> None:
    """Release held cues as the generation thread's naps do, until every note-on and note-off is queued."""
    deadline = time.monotonic() + deadline_s
    while len(output.scheduled) < 2 * BEATS:
        assert time.monotonic() < deadline, f"only {len(output.scheduled)} of {2 * BEATS} messages queued"
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


def test_a_transposition_and_a_velocity_reach_a_strain_settled_at_once_and_every_note_ends():
    arranged = ArrangementSettings(velocity=90, transpose=0)
    controls = Controls({"humanise": 0.0, "velocity": 90, "transpose": 0})
    scheduler = Scheduler(InternalClock(300.0), controls, LOOKAHEAD_BEATS)
    output = scheduler.output = QueuedMessages()
    a_strain_settled_at_once(scheduler, arranged)
    queued_before = len(output.onsets())
    controls.set("transpose", 2)
    controls.set("velocity", 110)
    play_out(scheduler, output)
    onsets = [message for _, message in sorted(output.scheduled, key=lambda entry: entry[0])
              if message.type == "note_on"]
    assert [(message.note, message.velocity) for message in onsets[:queued_before]] == [(60, 90)] * queued_before
    assert {(message.note, message.velocity) for message in onsets[queued_before:]} == {(62, 110)}
    assert queued_before <= LOOKAHEAD_BEATS + 2  # the rest of the strain, transposed (none was before)
    for pitch in (60, 62):  # each note-off goes to the pitch its note-on sounded at: none is left hanging
        sounded = [message.type for _, message in output.scheduled if message.note == pitch]
        assert sounded.count("note_on") == sounded.count("note_off") > 0, (pitch, sounded)
