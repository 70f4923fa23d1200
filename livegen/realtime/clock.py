"""Clocks: where a beat falls in time.monotonic() seconds.

The player places music in beats (quarter notes); the output thread sends at
monotonic times. A clock maps one to the other, from its own tempo
(InternalClock) or by following the DAW's MIDI clock (MidiClockFollower).
The session uses every clock through the Clock protocol and makes one by
name with make_clock(), so a new kind of clock is one class and one entry in
CLOCK_KINDS.

Both answer None while stopped: a stopped transport reaches no beat at any
time, so the player holds its notes until the clock runs. Readers never take a
lock: each clock publishes its current mapping as immutable lines (the
follower one, the internal clock a short chain while a tempo change waits for
its beat), replaced whole, so the player thread can ask while another thread
changes tempo or feeds clock ticks.
"""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable
from typing import NamedTuple, Protocol, runtime_checkable

import mido
import numpy as np

CLOCKS_PER_BEAT = 24  # MIDI clock messages ("MIDI clocks") per quarter note
CLOCKS_PER_SIXTEENTH = 6  # the song position pointer counts sixteenths
FIT_TICKS = 24  # ticks in the tempo fit: one beat averages out jitter and still follows a tempo change within a beat
MAX_TICK_GAP_S = 0.25  # a longer silence (under 10 BPM) means the clock paused: restart the fit
OUTLIER_FACTOR = 4.0  # a tick further off the fitted line than this many robust deviations is ignored
MIN_OUTLIER_S = 0.0005  # ... and never one closer than this (sub-millisecond jitter is normal)
TEMPO_RANGE_BPM = (10.0, 1000.0)  # estimates outside this are noise, not tempo


TransportCallback = Callable[[bool], None]  # called with stopped=True when the transport stops, False otherwise


@runtime_checkable
class Clock(Protocol):
    """What the session needs from a clock.

    Reading (running, tempo_bpm, time_of, beat_at) never blocks. The rest are
    requests from livegen: a clock whose transport belongs to someone else (a
    DAW's MIDI clock) ignores those that are not its to follow.
    """

    @property
    def follows_transport(self) -> bool:
        """True: beats come from a transport outside livegen, which the session waits for; False: the session
        starts the clock itself, with its first notes."""

    @property
    def reads_midi(self) -> bool:
        """Whether the session opens the clock's MIDI input port and feeds it every message from it."""

    @property
    def running(self) -> bool: ...

    @property
    def tempo_bpm(self) -> float: ...

    def time_of(self, beat: float) -> float | None:
        """Monotonic time at which `beat` falls; None while stopped."""

    def beat_at(self, t: float) -> float | None:
        """Beat position at monotonic time `t`; None while stopped."""

    def start(self, beat: float, at: float) -> None:
        """livegen's first notes are ready: run with `beat` falling at monotonic time `at`."""

    def stop(self) -> None:
        """livegen stopped playing (the play control went off)."""

    def set_tempo(self, tempo_bpm: float, from_beat: float | None = None) -> None:
        """The tempo control moved: take it over from `from_beat` (default: now)."""

    def feed(self, message: mido.Message, arrival: float) -> None:
        """One MIDI message from the clock's input, with its arrival in monotonic seconds."""

    def on_transport(self, callback: TransportCallback) -> None:
        """Call callback(stopped) after the transport starts, stops or moves (never while holding a lock)."""

    @property
    def peers(self) -> int:
        """How many other apps share the clock's session (Ableton Link); 0 for a clock without one."""

    def bar_start(self, beat: float, beats_per_bar: float) -> float:
        """The first beat at or after `beat` where a bar of `beats_per_bar` beats may begin (where a tune starts)."""

    def close(self) -> None:
        """The session is over: let go of what the clock holds (a Link session's membership)."""

    @property
    def kind(self) -> str:
        """Its name for `livegen run --clock` (one of CLOCK_CHOICES), as feedback reports it."""

    @property
    def waiting_for(self) -> str:
        """What the status line says livegen waits for while a followed transport is stopped."""

    def describe(self) -> str:
        """The clock as the status line names it: its kind, and its session if it has one ("link, 2 peers")."""


class _OwnBars:
    """For a clock with no session of its own to share and no bar grid: a tune's bars begin where it does."""

    peers = 0
    kind = ""

    def bar_start(self, beat: float, beats_per_bar: float) -> float:
        return beat

    def describe(self) -> str:
        return self.kind

    def close(self) -> None:
        """Nothing held."""


class _Line(NamedTuple):
    """A running transport: `beat` falls at `time`, and every beat lasts `seconds_per_beat`."""

    beat: float
    time: float
    seconds_per_beat: float

    def time_of(self, beat: float) -> float:
        return self.time + (float(beat) - self.beat) * self.seconds_per_beat

    def beat_at(self, t: float) -> float:
        return self.beat + (t - self.time) / self.seconds_per_beat


class _LineClock:
    """The reading half of a clock that publishes a single line (MidiClockFollower): everything follows from it."""

    _line: _Line | None = None

    @property
    def running(self) -> bool:
        return self._line is not None

    def time_of(self, beat: float) -> float | None:
        line = self._line
        return None if line is None else line.time_of(beat)

    def beat_at(self, t: float) -> float | None:
        line = self._line
        return None if line is None else line.beat_at(t)


class InternalClock(_OwnBars):
    """A clock at a tempo livegen sets itself; created stopped.

    A tempo change can wait for a given beat: music up to that beat has
    already been handed to the output thread at times of the old tempo, and
    moving it would rush or drag notes already queued (or overlap them with
    the next ones). So the clock is a short chain of lines, each from the beat
    where a tempo took over; lines whose successor has begun are dropped.
    """

    kind = "internal"
    follows_transport = False  # livegen starts and stops it
    reads_midi = False
    waiting_for = ""  # never waits

    def __init__(self, tempo_bpm: float = 120.0):
        self._tempo_bpm = _checked_tempo(tempo_bpm)
        self._lines: tuple[_Line, ...] = ()  # in order of beat (and so of time); empty while stopped
        self._write = threading.Lock()

    @property
    def running(self) -> bool:
        return bool(self._lines)

    @property
    def tempo_bpm(self) -> float:
        """The tempo asked for last (it may take over at a later beat)."""
        return self._tempo_bpm

    def time_of(self, beat: float) -> float | None:
        lines = self._lines
        if not lines:
            return None
        line = next((line for line in reversed(lines) if beat >= line.beat), lines[0])
        return line.time_of(beat)

    def beat_at(self, t: float) -> float | None:
        lines = self._lines
        if not lines:
            return None
        line = next((line for line in reversed(lines) if t >= line.time), lines[0])
        return line.beat_at(t)

    def start(self, beat: float = 0.0, at: float | None = None) -> None:
        """Run, with `beat` falling at monotonic time `at` (default: now; later gives the player a head start)."""
        with self._write:
            self._lines = (_Line(float(beat), time.monotonic() if at is None else at, 60.0 / self._tempo_bpm),)

    def stop(self) -> None:
        with self._write:
            self._lines = ()

    def set_tempo(self, tempo_bpm: float, from_beat: float | None = None) -> None:
        """Change tempo from `from_beat` (default, or if it has passed: from now); time never jumps."""
        with self._write:
            self._tempo_bpm = _checked_tempo(tempo_bpm)
            if not self._lines:
                return
            now = time.monotonic()
            beat = max(self.beat_at(now), float(from_beat) if from_beat is not None else -math.inf)
            kept = tuple(line for line in self._lines if line.beat < beat)
            current = [index for index, line in enumerate(kept) if line.time <= now]
            kept = kept[current[-1] if current else 0:]  # lines before the one in force now are spent
            self._lines = (*kept, _Line(beat, self.time_of(beat), 60.0 / self._tempo_bpm))

    def feed(self, message: mido.Message, arrival: float) -> None:
        """No MIDI input: nothing to read."""

    def on_transport(self, callback: TransportCallback) -> None:
        """Its transport moves only when livegen asks (start, stop), so there is nothing to report."""


class MidiClockFollower(_LineClock, _OwnBars):
    """Follows a DAW's MIDI clock: feed it every realtime message with its arrival time.

    Tempo comes from a straight-line fit of tick arrival times over the last
    beat (ticks far off the line are left out), so jitter in delivery averages
    out rather than wobbling the tempo. Ticks count for tempo even while the
    transport is stopped (many DAWs send clock all the time).

    Position follows the MIDI rules: after Start the next tick is beat 0; after
    Continue the next tick is where the transport was, or where a song position
    pointer (in sixteenths: beat = pointer / 4) put it. From the first tick
    after Start or Continue until Stop, time_of() predicts from the fitted line
    through the latest tick; before that first tick, and while stopped, it is
    None. Until three ticks have come, the tempo is the one given (or learnt
    before).
    """

    kind = "midi"
    follows_transport = True  # the DAW's transport: Start, Stop, Continue, song position
    reads_midi = True
    waiting_for = "MIDI clock"

    def __init__(self, tempo_bpm: float = 120.0):
        self._seconds_per_tick = 60.0 / _checked_tempo(tempo_bpm) / CLOCKS_PER_BEAT
        self._ticks: deque[tuple[int, float]] = deque(maxlen=FIT_TICKS)  # (tick count, arrival)
        self._tick_count = 0
        self._playing = False
        self._next_position = 0  # in ticks: where the next tick lands while playing
        self._write = threading.Lock()
        self._on_transport: list[TransportCallback] = []

    @property
    def tempo_bpm(self) -> float:
        return 60.0 / (self._seconds_per_tick * CLOCKS_PER_BEAT)

    def feed(self, message: mido.Message, arrival: float) -> None:
        """Take one message and when it arrived (monotonic seconds); messages that aren't transport are ignored."""
        with self._write:
            if message.type == "clock":
                self._tick(arrival)
                return
            if message.type == "start":
                self._relocate(0, playing=True)
            elif message.type == "continue":
                self._relocate(self._next_position, playing=True)
            elif message.type == "stop":
                self._relocate(self._next_position, playing=False)
            elif message.type == "songpos":
                self._relocate(message.pos * CLOCKS_PER_SIXTEENTH, playing=self._playing)
            else:
                return
        for callback in self._on_transport:
            callback(message.type == "stop")

    def on_transport(self, callback: TransportCallback) -> None:
        self._on_transport.append(callback)

    def start(self, beat: float, at: float) -> None:
        """The DAW's transport starts it: ignored."""

    def stop(self) -> None:
        """The DAW's transport stops it: ignored."""

    def set_tempo(self, tempo_bpm: float, from_beat: float | None = None) -> None:
        """The DAW's tempo rules: ignored."""

    @property
    def running(self) -> bool:
        """Whether the transport plays (from Start or Continue until Stop), even before time_of() can answer."""
        return self._playing

    def _relocate(self, position: int, playing: bool) -> None:
        """Until the next tick says when `position` is, the transport's place in time is unknown.

        A DAW may restart its clock's phase with its transport, so the fit
        starts afresh (keeping the tempo it found) whenever the transport moves.
        """
        self._next_position = position
        self._playing = playing
        self._line = None
        if playing:
            self._ticks.clear()

    def _tick(self, arrival: float) -> None:
        if self._ticks and arrival - self._ticks[-1][1] > MAX_TICK_GAP_S:
            self._ticks.clear()
        self._tick_count += 1
        self._ticks.append((self._tick_count, arrival))
        tick_time = self._fit()
        if self._playing:
            beat = self._next_position / CLOCKS_PER_BEAT
            self._line = _Line(beat, tick_time, self._seconds_per_tick * CLOCKS_PER_BEAT)
            self._next_position += 1

    def _fit(self) -> float:
        """Update the tempo from the recent ticks; return the fitted time of the latest one."""
        counts, arrivals = (np.array(column, dtype=float) for column in zip(*self._ticks))
        if len(counts) < 3:  # one interval says too little through jitter: keep the tempo known so far
            return float(arrivals[-1])
        ticks_ago = counts - counts[-1]  # fit around the latest tick: its fitted time is the intercept
        slope, latest = _fit_line(ticks_ago, arrivals)
        residuals = arrivals - (latest + slope * ticks_ago)
        spread = 1.4826 * np.median(np.abs(residuals))  # a standard deviation that ignores outliers
        keep = np.abs(residuals) <= max(OUTLIER_FACTOR * spread, MIN_OUTLIER_S)
        if keep.sum() >= 3 and not keep.all():
            slope, latest = _fit_line(ticks_ago[keep], arrivals[keep])
        self._accept(slope)
        return float(latest)

    def _accept(self, seconds_per_tick: float) -> None:
        low, high = TEMPO_RANGE_BPM
        if 60.0 / high <= seconds_per_tick * CLOCKS_PER_BEAT <= 60.0 / low:
            self._seconds_per_tick = float(seconds_per_tick)


def _link_clock(tempo_bpm: float, link_start_stop: bool) -> Clock:
    """Ableton Link comes with an optional extra, so its module is imported only when asked for."""
    from livegen.realtime.link_clock import LinkClock

    return LinkClock(tempo_bpm, start_stop_sync=link_start_stop)


CLOCK_KINDS: dict[str, Callable[[float], Clock]] = {clock.kind: clock for clock in (InternalClock, MidiClockFollower)}
CLOCK_CHOICES = (*CLOCK_KINDS, "link")  # Link joins a network session, so it is made apart (tests/test_link.py)


def make_clock(kind: str, tempo_bpm: float, link_start_stop: bool = False) -> Clock:
    """A stopped clock of a kind `livegen run --clock` names (one of CLOCK_CHOICES), at `tempo_bpm` at first;
    `link_start_stop`: a Link session's transport starts and stops it."""
    if kind == "link":
        return _link_clock(tempo_bpm, link_start_stop)
    return CLOCK_KINDS[kind](tempo_bpm)


def _fit_line(x: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """Least-squares slope and value at x = 0 (np.polyfit does the same, ten times slower)."""
    x_mean, y_mean = x.mean(), y.mean()
    dx = x - x_mean
    slope = float(np.dot(dx, y - y_mean) / np.dot(dx, dx))
    return slope, float(y_mean - slope * x_mean)


def _checked_tempo(tempo_bpm: float) -> float:
    low, high = TEMPO_RANGE_BPM
    if not low <= tempo_bpm <= high:
        raise ValueError(f"tempo {tempo_bpm} BPM is outside {low:g}-{high:g}")
    return float(tempo_bpm)
