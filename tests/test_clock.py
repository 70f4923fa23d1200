"""Clock maths: internal tempo changes, and following a MIDI clock stream with jitter."""

from __future__ import annotations

import time

import mido
import numpy as np
import pytest

from livegen.realtime.clock import CLOCK_KINDS, Clock, InternalClock, MidiClockFollower, make_clock

CLOCK = mido.Message("clock")


def ticks(follower: MidiClockFollower, start: float, bpm: float, count: int, jitter_s: float = 0.0,
          rng: np.random.Generator | None = None) -> float:
    """Feed `count` ticks at `bpm` from time `start` (plus late-only jitter); return when the next tick is due."""
    rng = rng or np.random.default_rng(0)
    interval = 60.0 / bpm / 24
    for i in range(count):
        follower.feed(CLOCK, start + i * interval + abs(rng.normal(0.0, jitter_s)))
    return start + count * interval


def test_both_clocks_satisfy_the_player_interface():
    assert isinstance(InternalClock(), Clock)
    assert isinstance(MidiClockFollower(), Clock)


def test_every_kind_of_clock_is_made_by_name_and_takes_the_sessions_requests():
    for kind in CLOCK_KINDS:
        clock = make_clock(kind, 90.0)
        assert isinstance(clock, Clock) and not clock.running and clock.tempo_bpm == 90.0, kind
        assert clock.kind == kind and clock.describe() == kind and clock.peers == 0, kind
    internal = make_clock("internal", 90.0)
    internal.start(4.0, 100.0)
    internal.set_tempo(180.0, from_beat=4.0)
    assert internal.running and not internal.follows_transport and internal.time_of(5.0) > 100.0
    internal.stop()
    assert not internal.running
    follower = make_clock("midi", 120.0)
    follower.start(0.0, 100.0)  # the DAW's transport, not livegen, starts a followed clock
    follower.set_tempo(60.0)
    assert not follower.running and follower.follows_transport and follower.reads_midi
    assert follower.waiting_for == "MIDI clock"
    assert follower.tempo_bpm == 120.0


def test_a_followed_transport_reports_its_moves_and_ticks_are_not_moves():
    follower = make_clock("midi", 120.0)
    moves = []
    follower.on_transport(moves.append)
    follower.feed(mido.Message("start"), 0.0)
    ticks(follower, 0.01, 120.0, 24)
    follower.feed(mido.Message("songpos", pos=16), 1.0)
    follower.feed(mido.Message("stop"), 1.1)
    follower.feed(mido.Message("continue"), 1.2)
    follower.feed(mido.Message("note_on"), 1.3)
    assert moves == [False, False, True, False]


def test_internal_clock_maps_beats_at_its_tempo_and_back():
    clock = InternalClock(90.0)
    clock.start(beat=4.0, at=100.0)
    assert clock.time_of(4.0) == pytest.approx(100.0)
    assert clock.time_of(7.0) == pytest.approx(102.0)
    assert clock.beat_at(103.0) == pytest.approx(8.5)
    assert clock.tempo_bpm == 90.0


def test_internal_clock_has_no_time_while_stopped():
    clock = InternalClock()
    assert not clock.running and clock.time_of(0) is None and clock.beat_at(time.monotonic()) is None
    clock.start()
    assert clock.running
    clock.stop()
    assert clock.time_of(1.0) is None


def test_tempo_change_keeps_time_continuous_and_only_moves_later_beats():
    clock = InternalClock(120.0)
    clock.start(at=time.monotonic() - 2.0)  # four beats ago
    before = clock.beat_at(time.monotonic())
    clock.set_tempo(60.0)
    after = time.monotonic()
    now_beat = clock.beat_at(after)
    assert now_beat == pytest.approx(before, abs=0.01)  # no jump
    assert clock.time_of(now_beat + 1.0) == pytest.approx(after + 1.0, abs=0.01)  # next beat a second away
    assert clock.time_of(now_beat + 2.0) - clock.time_of(now_beat + 1.0) == pytest.approx(1.0)


def test_tempo_change_from_a_later_beat_leaves_the_beats_before_it_alone():
    clock = InternalClock(120.0)
    clock.start(at=time.monotonic())  # beat 0 now, half a second a beat
    queued = [clock.time_of(beat) for beat in (0.5, 1.0, 2.0)]  # what the output thread already holds
    clock.set_tempo(240.0, from_beat=2.0)
    assert [clock.time_of(beat) for beat in (0.5, 1.0, 2.0)] == pytest.approx(queued)
    assert clock.time_of(3.0) - clock.time_of(2.0) == pytest.approx(0.25)  # the new tempo from beat 2
    assert clock.beat_at(clock.time_of(2.5)) == pytest.approx(2.5) and clock.tempo_bpm == 240.0
    clock.set_tempo(60.0, from_beat=3.0)  # a second change before the first took over: both stand
    assert clock.time_of(3.0) - clock.time_of(2.0) == pytest.approx(0.25)
    assert clock.time_of(4.0) - clock.time_of(3.0) == pytest.approx(1.0)
    clock.set_tempo(120.0, from_beat=1.5)  # earlier than the pending changes: they give way
    assert clock.time_of(4.0) - clock.time_of(2.0) == pytest.approx(1.0)
    clock.set_tempo(90.0, from_beat=-10.0)  # a beat already past: from now
    now = time.monotonic()
    assert clock.time_of(clock.beat_at(now) + 1.0) == pytest.approx(now + 60 / 90, abs=0.01)


def test_tempo_set_while_stopped_applies_from_the_next_start():
    clock = InternalClock(120.0)
    clock.set_tempo(150.0)
    clock.start(at=10.0)
    assert clock.time_of(1.0) == pytest.approx(10.4)


def test_impossible_tempo_is_refused():
    with pytest.raises(ValueError):
        InternalClock(0.0)


def test_follower_estimates_tempo_through_jitter():
    follower = MidiClockFollower(tempo_bpm=100.0)
    follower.feed(mido.Message("start"), 0.0)
    ticks(follower, 50.0, 137.0, 96, jitter_s=0.0007)
    assert follower.tempo_bpm == pytest.approx(137.0, rel=0.005)


def test_follower_predicts_the_beat_grid_after_start():
    follower = MidiClockFollower()
    bpm, jitter = 128.0, 0.0005
    follower.feed(mido.Message("start"), 9.99)
    assert follower.running and follower.time_of(0) is None  # until the first tick, beat 0 has no time
    ticks(follower, 10.0, bpm, 24 * 4 + 1, jitter_s=jitter)  # through the downbeat of beat 4
    for beat in (4, 5, 8):
        assert follower.time_of(beat) == pytest.approx(10.0 + beat * 60 / bpm, abs=0.002)
    assert follower.beat_at(10.0 + 5 * 60 / bpm) == pytest.approx(5.0, abs=0.005)


def test_a_late_tick_does_not_move_the_grid():
    follower = MidiClockFollower()
    follower.feed(mido.Message("start"), 0.0)
    interval = 60.0 / 120.0 / 24
    next_tick = ticks(follower, 1.0, 120.0, 48)
    follower.feed(CLOCK, next_tick + 0.008)  # delivered 8 ms late
    assert follower.time_of(2.0) == pytest.approx(1.0 + 48 * interval, abs=0.0005)
    assert follower.tempo_bpm == pytest.approx(120.0, rel=0.002)


def test_follower_follows_a_tempo_change_within_two_beats():
    follower = MidiClockFollower()
    follower.feed(mido.Message("start"), 0.0)
    t = ticks(follower, 1.0, 120.0, 96)
    ticks(follower, t, 150.0, 48)
    assert follower.tempo_bpm == pytest.approx(150.0, rel=0.005)


def test_song_position_and_continue_land_on_bar_nine():
    follower = MidiClockFollower()
    follower.feed(mido.Message("start"), 0.0)
    t = ticks(follower, 1.0, 120.0, 48)  # two beats in
    follower.feed(mido.Message("stop"), t)
    assert follower.time_of(0) is None
    ticks(follower, t + 0.5, 120.0, 24)  # the DAW keeps sending clock while stopped
    follower.feed(mido.Message("songpos", pos=128), t + 1.0)  # bar 9 in 4/4: 8 bars x 16 sixteenths
    follower.feed(mido.Message("continue"), t + 1.01)
    assert follower.time_of(32) is None
    first = t + 1.02
    second = ticks(follower, first, 120.0, 1)
    assert follower.time_of(32) == pytest.approx(first)
    assert follower.time_of(33) == pytest.approx(first + 0.5, abs=0.001)  # the tempo learnt while stopped
    ticks(follower, second, 120.0, 24 * 3, jitter_s=0.0005)
    assert follower.beat_at(first + 1.0) == pytest.approx(34.0, abs=0.002)


def test_continue_without_song_position_resumes_where_it_stopped():
    follower = MidiClockFollower()
    follower.feed(mido.Message("start"), 0.0)
    t = ticks(follower, 1.0, 120.0, 30)  # ticks 0..29: the next tick is position 30
    follower.feed(mido.Message("stop"), t)
    follower.feed(mido.Message("continue"), t + 5.0)
    ticks(follower, t + 5.01, 120.0, 1)
    assert follower.time_of(30 / 24) == pytest.approx(t + 5.01)


def test_start_restarts_at_zero_and_stop_has_no_time():
    follower = MidiClockFollower()
    follower.feed(mido.Message("start"), 0.0)
    t = ticks(follower, 1.0, 120.0, 48)
    follower.feed(mido.Message("start"), t)
    ticks(follower, t + 0.001, 120.0, 1)  # the DAW may restart its clock's phase with the transport
    assert follower.time_of(0) == pytest.approx(t + 0.001)
    follower.feed(mido.Message("stop"), t + 0.1)
    assert not follower.running and follower.time_of(1) is None and follower.beat_at(t) is None
