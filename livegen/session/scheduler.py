"""Scheduling on the clock: settled cues become MIDI messages at clock times, and the generation thread waits.

The generation thread hands the Scheduler each batch of settled cues; it
starts a clock that livegen starts itself with the first notes, and holds
the cues until the playhead is within the lookahead of them: only then is a
cue timed on the clock (humanised if asked) and queued for the output
thread. A batch can reach far ahead (a repeat sign settles the whole strain
again at once); holding it keeps a tempo change, from a control or a Link
peer, audible within the lookahead, with no note already queued moved, and
a cue is voiced as it is queued, so the key and velocity faders reach it as
soon (its note-off goes to the pitch its note-on was voiced at).
Between characters the generation thread waits here until the playhead is
within the lookahead of what is settled, waking early for anything that
ends the tune being written (a stop request or an interruption), which
surfaces as Interrupted.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
from collections import defaultdict, deque
from fractions import Fraction

import mido
import numpy as np

from livegen.control.controls import Controls
from livegen.perform.live_player import Cue
from livegen.realtime.clock import Clock
from livegen.realtime.output import OutputThread

START_MARGIN_S = 0.1  # beat 0 (or the DAW's next beat) falls at least this long after the first notes are ready
MAX_WAIT_S = 0.02  # longest nap of the generation thread: it rechecks stop requests and the transport this often
# (0.1 s saved 1 point of a core's 2 at 180 BPM but put the onset p99 1.5 ms above a bare sender's, twice, where
# 0.02 s stays within 0.5 ms: bench/daemon_cpu.py, docs/BENCHMARKS.md; why is not known yet)
END_MARGIN_S = 0.05  # after the last note-off, before the port closes
HUMANISE_VELOCITY = 10  # at --humanise 1: velocity varies by up to this much either way ...
HUMANISE_DELAY_S = 0.010  # ... and a note starts up to this much late (never early, never past half its length)


class Interrupted(Exception):
    """The tune being written can't go on: livegen is stopping, or play was stopped, panic pressed, or the DAW's
    transport moved."""


class Scheduler:
    """Where the session stands in time, shared by the generation thread (schedule, waits) and the others
    (interrupt, set_tempo, request_stop, heard_note).

    `output` is set once the port is open, before the generation thread starts.
    """

    def __init__(self, clock: Clock, controls: Controls, lookahead_beats: float):
        self.clock = clock
        self.controls = controls
        self.lookahead_beats = lookahead_beats
        self.output: OutputThread | None = None
        self.stop_requested = False
        self.interruptions = 0  # stops, panics and transport moves so far
        self._interruption_count = itertools.count(1)
        self._wake = threading.Event()  # something moved: the generation thread looks again at once
        self._scheduling = threading.Lock()  # held while cues are timed and queued, and while the tempo changes
        self._queued_until = 0.0  # the last session beat queued for the output thread
        self._held: list[tuple[Fraction, bool, int, Cue]] = []  # a heap of cues beyond the lookahead, by beat
        self._held_count = itertools.count()  # ties broken in the order handed over
        self._sounding: dict[tuple[int, int], deque[int]] = defaultdict(deque)  # (channel, cue pitch): as voiced
        self._melody_onsets: deque[tuple[float, int]] = deque()  # (time, pitch) scheduled, not yet reported
        self._last_note: int | None = None
        self._humanise_rng = np.random.default_rng(controls["seed"])

    # Any thread.

    def request_stop(self) -> None:
        """Safe in a signal handler: sets a flag and takes no lock (the naps notice it within MAX_WAIT_S)."""
        self.stop_requested = True

    def wake(self) -> None:
        self._wake.set()

    def interrupt(self, silence: bool) -> None:
        """End the tune being written; with silence, also every note sounding or queued."""
        self.interruptions = next(self._interruption_count)
        if silence and self.output is not None:
            self.output.panic()
        self.wake()

    def set_tempo(self, tempo_bpm: float) -> None:
        """The tempo control moved: it takes over from the last beat queued, so those notes keep their times."""
        with self._scheduling:
            self.clock.set_tempo(tempo_bpm, from_beat=self._queued_until)

    def heard_note(self) -> int | None:
        """The last melody note whose time has come (on the main thread, which alone takes from the queue)."""
        now = time.monotonic()
        while self._melody_onsets and self._melody_onsets[0][0] <= now:
            self._last_note = self._melody_onsets.popleft()[1]
        return self._last_note

    # The generation thread.

    def schedule(self, cues: list[Cue]) -> None:
        """Take settled cues (starting the clock if livegen starts it); those within the lookahead are queued."""
        if not cues:
            return
        with self._scheduling:
            if not self.clock.running and not self.clock.follows_transport:
                self.clock.start(float(cues[0].beat), time.monotonic() + START_MARGIN_S)
                self._queued_until = float(cues[0].beat)
            for cue in cues:  # at one beat an end before a start, as the live player orders them
                heapq.heappush(self._held, (cue.beat, cue.starts, next(self._held_count), cue))
        self.release_due()

    def release_due(self) -> None:
        """Time and queue the held cues the playhead is now within the lookahead of (none while the DAW is
        stopped: they wait for its transport, or are discarded if it moved)."""
        with self._scheduling:
            playhead = self.clock.beat_at(time.monotonic())
            if playhead is None:
                return
            horizon = playhead + self.lookahead_beats
            while self._held and self._held[0][0] < horizon:
                cue = heapq.heappop(self._held)[3]
                self._queue(cue)
                self._queued_until = max(self._queued_until, float(cue.beat))

    def discard_held(self) -> None:
        """The tune was interrupted: what it had not queued yet is not played."""
        with self._scheduling:
            self._held.clear()
            self._sounding.clear()  # the panic that follows ends every note

    def _queue(self, cue: Cue) -> None:
        at = self.clock.time_of(cue.beat)
        if at is None:
            raise Interrupted  # the DAW stopped between two cues (the panic that follows ends what started)
        key = (cue.channel, cue.pitch)
        if not cue.starts:  # the pitch its start was voiced at, whatever the transposition is now
            voiced = self._sounding[key].popleft() if self._sounding[key] else cue.pitch
            self.output.schedule(mido.Message("note_off", channel=cue.channel, note=voiced), at)
            return
        pitch, velocity = cue.voiced(self.controls["transpose"], self.controls["velocity"])
        self._sounding[key].append(pitch)
        # A start's end is timed only to humanise it: a Link clock keeps every beat it has timed where it is,
        # and a chord's end (an "at least"), timed early, would hold back a tempo change for that long.
        until = self.clock.time_of(cue.beat + cue.lasts) if self.controls["humanise"] > 0 else None
        delay, velocity = self._humanised(velocity, until - at if until is not None else 0.0)
        if cue.channel == self.controls["melody_channel"] - 1:
            self._melody_onsets.append((at + delay, pitch))
        self.output.schedule(mido.Message("note_on", channel=cue.channel, note=pitch, velocity=velocity),
                             at + delay)

    def _humanised(self, velocity: int, length_s: float) -> tuple[float, int]:
        amount = self.controls["humanise"]
        if amount <= 0:
            return 0.0, velocity
        spread = round(amount * HUMANISE_VELOCITY)
        velocity += int(self._humanise_rng.integers(-spread, spread + 1))
        delay = float(self._humanise_rng.uniform(0.0, amount * HUMANISE_DELAY_S))
        return min(delay, length_s / 2), max(1, min(127, velocity))

    def next_start(self) -> Fraction:
        """Where a fresh tune begins, once playing: the running clock's next whole beat, else beat 0.

        A clock livegen starts itself starts with the first notes; a transport is waited for.
        """
        while True:
            moves = self.interruptions
            if self.controls["play"]:
                beat = self.clock.beat_at(time.monotonic() + START_MARGIN_S)
                if beat is not None:
                    return Fraction(math.ceil(beat))
                if not self.clock.follows_transport:
                    return Fraction(0)
            self._nap(MAX_WAIT_S, moves)

    def wait_until_needed(self, played_until: Fraction, moves: int) -> None:
        """Return once the playhead is within the lookahead of what has been settled."""
        lookahead = self.lookahead_beats
        self.release_due()
        while True:
            self.check(moves)
            now = time.monotonic()
            playhead = self.clock.beat_at(now)
            if playhead is None:
                if not self.clock.follows_transport:
                    return  # the clock starts with the first notes
                self._nap(MAX_WAIT_S, moves)
            elif played_until < playhead + lookahead:
                return
            else:
                due = self.clock.time_of(float(played_until) - lookahead)
                self._nap(min(MAX_WAIT_S, max(0.0, (due or now) - now)), moves)

    def wait_until_played(self, end: Fraction) -> None:
        """After the last tune: let its last notes sound before the port closes (unless stopped first)."""
        moves = self.interruptions
        try:
            while (end_time := self.clock.time_of(end)) is not None and time.monotonic() < end_time + END_MARGIN_S:
                self._nap(MAX_WAIT_S, moves)
        except Interrupted:
            pass

    def _nap(self, seconds: float, moves: int) -> None:
        self._wake.wait(seconds)
        self._wake.clear()
        self.check(moves)
        self.release_due()

    def check(self, moves: int) -> None:
        """Raise Interrupted if livegen is stopping or anything interrupted since `moves` was read."""
        if self.stop_requested or moves != self.interruptions:
            raise Interrupted
