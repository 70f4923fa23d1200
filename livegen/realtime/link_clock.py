"""Ableton Link: livegen as one more peer of a Link session (Live, Bitwig, Traktor, phone apps).

The session's timeline is the clock: its tempo is livegen's, and its beats
are livegen's beats, so notes fall on the beats every other peer plays. A
follower thread reads the session every few milliseconds (Link's tempo, beat
and start/stop state, and where Link's clock stands against time.monotonic())
and publishes a chain of lines, as InternalClock does, for readers that never
wait on Link.

The session's timeline can change at any moment: a peer changes tempo,
livegen proposes one, or livegen joins a session whose beat is elsewhere.
Notes already queued keep their times (the internal clock's rule): every beat
whose time this clock has given out (time_of) keeps it. From the last such
beat a short bridge, at most a quarter faster or slower than the session,
leads back onto the session's line, and from there livegen is in phase again.

With start/stop sync on, the session's transport starts and stops livegen:
time_of() is None while the session is stopped, and on_transport callbacks
hear of every start and stop (a stop silences livegen at once).

Link comes with the optional extra (pip install 'livegen[link]'), the
LinkPython-extern binding: see pyproject.toml for why that one.
"""

from __future__ import annotations

import importlib
import math
import threading
import time
from typing import NamedTuple

import mido

from livegen.errors import LivegenError
from livegen.realtime.clock import TransportCallback, _checked_tempo, _Line

INSTALL_HINT = "pip install 'livegen[link]'"
POLL_S = 0.01  # the follower reads the session this often: a peer's change is heard 10 ms later at most (1% of a core)
REALIGN_S = 50e-6  # a drift of the session's line from livegen's beyond this is bridged (Link's clock and
# time.monotonic() run at rates a few parts per million apart, so small drift is normal)
MIN_BRIDGE_BEATS = 1.0  # a bridge back onto the session's line lasts at least a beat ...
MAX_BEND = 0.25  # ... and longer where need be, so that its beats are at most this much shorter or longer
BEAT_QUANTUM = 1.0  # the session's beats, unshifted: bars are found with phase_at, for the quantum asked
PEER_WAIT_S = 2.0  # `livegen link`: how long to listen for peers
JOIN_WAIT_S = 1.0  # at start, Link takes about half a second to find a session: the first tune waits for it


def load_link():
    """The Link binding, or one line saying how to install it."""
    try:
        module = importlib.import_module("link")
    except ImportError:
        module = None
    if not hasattr(module, "Link"):  # another package may own the name `link`
        raise LivegenError(f"--clock link needs Ableton Link, which is not installed: {INSTALL_HINT}")
    return module


class SessionView(NamedTuple):
    """One reading of the Link session, in time.monotonic() seconds."""

    line: _Line  # the session's beats against monotonic time
    tempo_bpm: float
    playing: bool
    peers: int


class LinkClock:
    """A clock that is a peer of the Link session on the local network: it joins when made, and runs once joined.

    Without start/stop sync the session's timeline always runs, and livegen
    plays whenever its play control is on. The session moves on its own, so
    follows_transport is True: the daemon never starts it, it only waits for it.
    """

    kind = "link"
    follows_transport = True
    reads_midi = False
    waiting_for = "the Link session to start"

    def __init__(self, tempo_bpm: float = 120.0, start_stop_sync: bool = False):
        link = load_link()
        self._link = link.Link(_checked_tempo(tempo_bpm))
        self._link.startStopSyncEnabled = start_stop_sync
        self._start_stop_sync = start_stop_sync
        self._link.enabled = True
        self._on_transport: list[TransportCallback] = []
        self._joining_until = time.monotonic() + JOIN_WAIT_S  # not running before: see running
        self._promise = threading.Lock()  # time_of against the follower's republishing: see _follow
        self._promised_until = -math.inf  # the latest beat whose time has been given out
        self._view = self._read_session()
        self._lines: tuple[_Line, ...] = (self._view.line,)  # in order of beat; the last one is the session's
        self._closing = threading.Event()
        self._follower = threading.Thread(target=self._follow, name="livegen-link", daemon=True)
        self._follower.start()

    # Reading: from any thread, never waiting on Link.

    @property
    def running(self) -> bool:
        """Whether the session's transport runs (always, without start/stop sync); never before the session has
        been found (or JOIN_WAIT_S has passed alone), so that the first tune starts on the session's bars."""
        if self._joining_until is not None:
            return False
        return self._view.playing or not self._start_stop_sync

    @property
    def tempo_bpm(self) -> float:
        """The session's tempo."""
        return self._view.tempo_bpm

    @property
    def peers(self) -> int:
        """How many other Link peers share the session."""
        return self._view.peers

    def describe(self) -> str:
        return f"link, {self.peers} peers"

    def time_of(self, beat: float) -> float | None:
        """Monotonic time of `beat`, None while the session's transport is stopped; this time is kept from now on."""
        if not self.running:
            return None
        beat = float(beat)
        with self._promise:
            self._promised_until = max(self._promised_until, beat)
            return _line_for_beat(self._lines, beat).time_of(beat)

    def beat_at(self, t: float) -> float | None:
        if not self.running:
            return None
        return _line_for_time(self._lines, t).beat_at(t)

    def bar_start(self, beat: float, beats_per_bar: float) -> float:
        """The first beat at or after `beat` where a bar of `beats_per_bar` beats begins in the session.

        Link shares phase against a quantum, so this is where every peer with
        the same bar length has its downbeats (Live's bars, in 4/4).
        """
        state = self._link.captureAppSessionState()
        now = self._link.clock().micros()
        downbeat = state.beatAtTime(now, BEAT_QUANTUM) - state.phaseAtTime(now, beats_per_bar)
        return downbeat + math.ceil((float(beat) - downbeat) / beats_per_bar - 1e-9) * beats_per_bar

    # Requests from livegen.

    def set_tempo(self, tempo_bpm: float, from_beat: float | None = None) -> None:
        """Propose a tempo to the session, as any peer may; notes up to `from_beat` keep their times."""
        tempo_bpm = _checked_tempo(tempo_bpm)
        with self._promise:
            if from_beat is not None:
                self._promised_until = max(self._promised_until, float(from_beat))
        state = self._link.captureAppSessionState()
        state.setTempo(tempo_bpm, self._link.clock().micros())
        self._link.commitAppSessionState(state)

    def start(self, beat: float, at: float) -> None:
        """The session's timeline runs by itself: nothing to start."""

    def stop(self) -> None:
        """livegen's play control is its own: the session's transport goes on for the other peers."""

    def feed(self, message: mido.Message, arrival: float) -> None:
        """No MIDI input: Link comes over the network."""

    def on_transport(self, callback: TransportCallback) -> None:
        self._on_transport.append(callback)

    def close(self) -> None:
        """Leave the session (the other peers see one peer fewer)."""
        self._closing.set()
        if self._follower.is_alive() and self._follower is not threading.current_thread():
            self._follower.join()
        self._link.enabled = False

    # The follower thread.

    def _follow(self) -> None:
        while not self._closing.wait(POLL_S):
            view = self._read_session()
            was_running = self.running
            with self._promise:
                self._lines = _rejoined(self._lines, view.line, self._promised_until, time.monotonic())
                self._view = view
            if self._joining_until is not None and (view.peers or time.monotonic() > self._joining_until):
                self._joining_until = None
            if self.running != was_running:
                for callback in self._on_transport:
                    callback(not self.running)

    def _read_session(self) -> SessionView:
        state = self._link.captureAppSessionState()
        offset = self._monotonic_minus_link()
        now = self._link.clock().micros()
        beat = state.beatAtTime(now, BEAT_QUANTUM)
        seconds_per_beat = (state.timeAtBeat(beat + 1.0, BEAT_QUANTUM) - state.timeAtBeat(beat, BEAT_QUANTUM)) / 1e6
        line = _Line(beat, now / 1e6 + offset, seconds_per_beat)
        return SessionView(line, state.tempo(), state.isPlaying(), self._link.numPeers())

    def _monotonic_minus_link(self) -> float:
        """Where Link's clock (CLOCK_MONOTONIC_RAW on Linux) stands against time.monotonic(), in seconds.

        Of three readings the one taken fastest is kept: the least delay
        between the two clocks' reads.
        """
        best = None
        for _ in range(3):
            before = time.monotonic()
            link_now = self._link.clock().micros() / 1e6
            after = time.monotonic()
            if best is None or after - before < best[0]:
                best = (after - before, (before + after) / 2 - link_now)
        return best[1]


def _line_for_beat(lines: tuple[_Line, ...], beat: float) -> _Line:
    return next((line for line in reversed(lines) if beat >= line.beat), lines[0])


def _line_for_time(lines: tuple[_Line, ...], t: float) -> _Line:
    return next((line for line in reversed(lines) if t >= line.time), lines[0])


def _rejoined(lines: tuple[_Line, ...], session: _Line, promised_until: float, now: float) -> tuple[_Line, ...]:
    """livegen's lines after reading the session's: unchanged while in step, else bridged from the promised beat.

    Beats up to `promised_until` keep their times. When none ahead of now
    has been given out, livegen simply takes the session's line. Otherwise a
    bridge from the last promised beat meets the session's line, with beats at
    most MAX_BEND shorter or longer than the session's, and the session's line
    goes on from there.
    """
    last = lines[-1]
    held = max(promised_until, _line_for_time(lines, now).beat_at(now))
    if all(abs(last.time_of(beat) - session.time_of(beat)) < REALIGN_S for beat in (held, held + 1.0)):
        return lines
    if promised_until <= _line_for_time(lines, now).beat_at(now):
        return (session,)
    held_time = _line_for_beat(lines, held).time_of(held)
    lag = held_time - session.time_of(held)
    length = max(MIN_BRIDGE_BEATS, abs(lag) / (MAX_BEND * session.seconds_per_beat))
    joined = held + length
    bridge = _Line(held, held_time, (session.time_of(joined) - held_time) / length)
    kept = tuple(line for line in lines if line.beat < held)
    spent = [index for index, line in enumerate(kept) if line.time <= now]
    kept = kept[spent[-1] if spent else 0:]  # lines before the one in force now are spent
    return (*kept, bridge, _Line(joined, session.time_of(joined), session.seconds_per_beat))


def describe_session(wait_s: float = PEER_WAIT_S) -> str:
    """`livegen link`: join the session for a moment and say what is there (Link gives peers no names)."""
    clock = LinkClock(start_stop_sync=True)
    try:
        deadline = time.monotonic() + wait_s
        while time.monotonic() < deadline and clock.peers == 0:
            time.sleep(POLL_S)
        time.sleep(min(0.2, max(0.0, deadline - time.monotonic())))  # the session's tempo follows the peers found
        peers = clock.peers
        transport = "playing" if clock.running else "stopped"
        return (f"Link session: {peers} peer{'' if peers == 1 else 's'} besides livegen, "
                f"{clock.tempo_bpm:.2f} BPM, transport {transport}")
    finally:
        clock.close()
