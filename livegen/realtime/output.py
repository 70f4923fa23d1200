"""The output thread: sends each scheduled MIDI message at its monotonic time, and leaves no note sounding.

One thread owns the port. Other threads hand it (message, time) pairs; it
sleeps until just before the earliest is due, spins the last fraction of a
millisecond (a sleeping thread wakes late by tens of microseconds, more on a
busy machine), and sends. It keeps track of the notes it has started, so that
panic, close, and a port that comes back after going away can end each of them.

Punctuality in Python has two enemies besides the OS scheduler: the GIL (a
thread waking to send must first get it from whichever thread is running
Python) and a busy machine. The thread asks for real-time scheduling where the
OS permits it, and start() lowers the interpreter's GIL switch interval for the
whole process to SWITCH_INTERVAL_S, so that the output thread waits at most
that long for the GIL instead of the default 5 ms. That bound fails when the
thread holding the GIL is itself preempted by other work on the machine: then
the output thread waits as long as that thread does (tens of milliseconds on a
loaded machine). promote_current_thread() in the daemon's other busy threads
prevents that.
"""

from __future__ import annotations

import atexit
import ctypes
import enum
import heapq
import itertools
import logging
import os
import select
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple, Protocol

import mido

log = logging.getLogger(__name__)

SPIN_S = 0.0003  # wake this long before a message is due and spin the rest
LATE_S = 0.001  # a message sent later than this after its time counts as late
WATCH_INTERVAL_S = 0.5  # how often to ask the port whether it is still there (the idle thread's only wake-up)
# Between attempts to reopen a lost port; the last repeats. The first waits until every port has watched its
# server once (WATCH_INTERVAL_S, here and in midi_port): reopening first closes the dead JACK clients, which
# freezes every thread for a second each, and the other ports would notice the loss only after that.
RECONNECT_DELAYS_S = (0.6, 1.0, 2.0)
SWITCH_INTERVAL_S = 0.0005
REALTIME_PRIORITY = 3  # SCHED_FIFO: above every ordinary thread, below JACK's own threads
ALL_NOTES_OFF = 123


class Port(Protocol):
    """What the thread needs of a port (livegen.realtime.midi_port.OutputPort is one)."""

    def send(self, message: mido.Message) -> None: ...

    def alive(self) -> bool: ...

    def close(self) -> None: ...


class PortState(enum.Enum):
    OPEN = "open"
    LOST = "lost"  # went away; messages are dropped while the thread tries to reopen it
    CLOSED = "closed"


@dataclass(frozen=True)
class OutputStats:
    """Counters for the status line: messages sent, late (and the worst lateness), dropped, reconnections."""

    sent: int
    late: int
    worst_late_s: float
    dropped: int
    reconnects: int
    state: PortState
    realtime: bool  # whether the thread got real-time scheduling


class _Entry(NamedTuple):
    at: float
    rank: int  # note-offs (0) before everything else (1) at the same time
    order: int  # then first scheduled, first sent
    message: mido.Message


class OutputThread:
    """Owns an output port and sends scheduled messages on time; see the module docstring.

    open_port() makes the port: once in start() (its LivegenError reaches the
    caller), and again, with backoff, whenever the port is lost.
    on_state(state), if given, is called on every change of port state (from
    the output thread, except for the first OPEN).
    """

    def __init__(self, open_port: Callable[[], Port], on_state: Callable[[PortState], None] | None = None):
        self._open_port = open_port
        self._on_state = on_state
        self._lock = threading.Lock()  # guards the queue; never taken by panic() or close(), see panic()
        self._wake_read, self._wake_write = os.pipe()  # a byte in it: look at the queue and the flags again
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._queue: list[_Entry] = []
        self._order = itertools.count()
        self._port: Port | None = None
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._panic_requested = False
        self._sounding: set[tuple[int, int]] = set()  # (channel, note) the receiver is holding
        self._channels: set[int] = set()  # every channel a message went out on
        self._sent = self._late = self._dropped = self._reconnects = 0
        self._worst_late_s = 0.0
        self._realtime = False
        self._state = PortState.CLOSED
        self._attempts = 0  # reopening attempts since the port was lost
        self._next_attempt = 0.0

    def start(self) -> OutputThread:
        """Open the port (raising its LivegenError here) and start sending."""
        self._port = self._open_port()
        self._set_state(PortState.OPEN)
        if sys.getswitchinterval() > SWITCH_INTERVAL_S:
            sys.setswitchinterval(SWITCH_INTERVAL_S)
        self._thread = threading.Thread(target=self._run, name="livegen-output", daemon=True)
        self._thread.start()
        atexit.register(self.close)
        return self

    def schedule(self, message: mido.Message, at: float) -> None:
        """Send `message` at monotonic time `at` (at once if that has passed). Not for signal handlers."""
        rank = 0 if _is_note_off(message) else 1
        with self._lock:
            if self._stopping:
                return
            entry = _Entry(at, rank, next(self._order), message)
            heapq.heappush(self._queue, entry)
            earliest = self._queue[0] is entry
        if earliest:
            self._wake()

    def panic(self) -> None:
        """End every sounding note, send All Notes Off on every channel used, and drop everything pending.

        Safe in a signal handler: it only sets a flag and writes a byte to the
        thread's wake-up pipe, never taking a lock, so the thread acts on it at
        once even if the handler interrupted a thread holding the queue's lock.
        """
        self._panic_requested = True
        self._wake()

    def close(self, timeout: float = 5.0) -> None:
        """Panic, close the port and stop the thread; waits for it at most `timeout` seconds.

        Safe in a signal handler, like panic(); but if the handler interrupted
        schedule(), the thread can only finish once the handler returns.
        """
        self._stopping = True
        self._wake()
        thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
            if thread.is_alive():
                log.warning("the MIDI output thread did not stop within %.1f s", timeout)
            else:
                self._close_wake_pipe()
        atexit.unregister(self.close)

    def stats(self) -> OutputStats:
        return OutputStats(self._sent, self._late, self._worst_late_s, self._dropped, self._reconnects,
                           self._state, self._realtime)

    def __enter__(self) -> OutputThread:
        return self.start()

    def __exit__(self, *_) -> None:
        self.close()

    def _wake(self) -> None:
        fd = self._wake_write
        if fd < 0:  # closed: the thread has ended
            return
        try:
            os.write(fd, b"\0")
        except BlockingIOError:  # the pipe is full of wake-ups already
            pass

    def _close_wake_pipe(self) -> None:
        fds, (self._wake_read, self._wake_write) = (self._wake_read, self._wake_write), (-1, -1)
        for fd in fds:
            if fd >= 0:
                os.close(fd)

    def _run(self) -> None:
        self._realtime = promote_current_thread()
        next_watch = 0.0
        try:
            while not self._stopping:
                if self._panic_requested:
                    self._panic_requested = False
                    self._drop_pending()
                    self._silence()
                if time.monotonic() >= next_watch:
                    self._watch_port()
                    next_watch = time.monotonic() + WATCH_INTERVAL_S
                    if self._port is None:  # lost: look again when the next reopening is due
                        next_watch = min(next_watch, max(self._next_attempt, time.monotonic()))
                entry = self._next_due(next_watch)
                if entry is not None:
                    while time.monotonic() < entry.at:
                        pass
                    self._deliver(entry.message, entry.at)
        except Exception:
            log.exception("the MIDI output thread failed")
        finally:
            self._stopping = True
            self._drop_pending()
            self._silence()
            self._close_port()
            self._set_state(PortState.CLOSED)

    def _next_due(self, next_watch: float) -> _Entry | None:
        """The earliest message once it is within SPIN_S of its time; None when woken, or at `next_watch`.

        Between messages the thread sleeps on its wake-up pipe, so an idle one
        wakes only for the port's watch, every WATCH_INTERVAL_S.
        """
        with self._lock:
            entry = self._pop_due()
            wake_at = min(self._queue[0].at - SPIN_S, next_watch) if self._queue else next_watch
        if entry is None and not (self._stopping or self._panic_requested):
            wait = wake_at - time.monotonic()
            if wait > 0:
                select.select([self._wake_read], [], [], wait)
            self._drain_wake_ups()
            with self._lock:
                entry = self._pop_due()
        return entry

    def _drain_wake_ups(self) -> None:
        try:
            while os.read(self._wake_read, 256):
                pass
        except BlockingIOError:
            pass

    def _pop_due(self) -> _Entry | None:
        if self._stopping or self._panic_requested:
            return None
        if self._queue and self._queue[0].at - SPIN_S <= time.monotonic():
            return heapq.heappop(self._queue)
        return None

    def _deliver(self, message: mido.Message, at: float | None = None) -> None:
        if self._port is None:
            self._dropped += 1
            return
        now = time.monotonic()
        try:
            self._port.send(message)
        except Exception as error:  # rtmidi and mido raise several types; all mean the port is gone
            self._dropped += 1
            self._lose_port(f"sending failed: {error}")
            return
        self._sent += 1
        if at is not None and now - at > LATE_S:
            self._late += 1
            self._worst_late_s = max(self._worst_late_s, now - at)
        self._track(message)

    def _track(self, message: mido.Message) -> None:
        if not hasattr(message, "channel"):
            return
        self._channels.add(message.channel)
        if message.type == "note_on" and message.velocity > 0:
            self._sounding.add((message.channel, message.note))
        elif _is_note_off(message):
            self._sounding.discard((message.channel, message.note))

    def _silence(self) -> None:
        """A note-off for every note still sounding, then All Notes Off on every channel used."""
        for channel, note in sorted(self._sounding):
            self._deliver(mido.Message("note_off", channel=channel, note=note))
        for channel in sorted(self._channels):
            self._deliver(mido.Message("control_change", channel=channel, control=ALL_NOTES_OFF, value=0))

    def _drop_pending(self) -> None:
        with self._lock:
            self._dropped += len(self._queue)
            self._queue.clear()

    def _watch_port(self) -> None:
        """Notice a port that went away silently; reopen a lost one when its next attempt is due."""
        if self._port is not None:
            if not self._port.alive():
                self._lose_port("the MIDI system behind it stopped")
            return
        if time.monotonic() < self._next_attempt:
            return
        try:
            self._port = self._open_port()
        except Exception as error:
            delay = RECONNECT_DELAYS_S[min(self._attempts, len(RECONNECT_DELAYS_S) - 1)]
            self._attempts += 1
            self._next_attempt = time.monotonic() + delay
            log.debug("MIDI port still gone (%s); next try in %.2f s", error, delay)
            return
        self._reconnects += 1
        log.warning("MIDI port is back after %d attempts; ending the notes that were sounding", self._attempts + 1)
        self._set_state(PortState.OPEN)
        self._silence()

    def _lose_port(self, reason: str) -> None:
        log.warning("MIDI port lost (%s): dropping notes until it is back", reason)
        self._set_state(PortState.LOST)  # before closing, which can take a while on a dead server
        self._close_port()  # before any reopening: a dead JACK client must be closed before a new one opens
        self._attempts = 0
        self._next_attempt = time.monotonic() + RECONNECT_DELAYS_S[0]

    def _close_port(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            try:
                port.close()
            except Exception:
                log.exception("closing the MIDI port failed")

    def _set_state(self, state: PortState) -> None:
        if state is self._state:
            return
        self._state = state
        if self._on_state is not None:
            try:
                self._on_state(state)
            except Exception:
                log.exception("on_state callback failed")


def _is_note_off(message: mido.Message) -> bool:
    return message.type == "note_off" or (message.type == "note_on" and message.velocity == 0)


def promote_current_thread(priority: int = REALTIME_PRIORITY) -> bool:
    """Give the calling thread real-time scheduling (SCHED_FIFO at `priority`) where the OS permits it
    (root, or an rtprio limit); else, on Linux, the finest timer slack, so its sleeps end when asked
    rather than up to 50 us later. Returns whether it is real-time now. Names the thread for the OS too.

    The daemon should call this (with priority 1) in every thread that runs Python often, the
    generation thread above all: a thread that the OS preempts while it holds the GIL holds up the
    output thread too, for as long as the OS keeps it waiting.
    """
    name_os_thread()
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))  # 0: this thread, on Linux
        return True
    except (AttributeError, OSError):  # no such call on macOS and Windows; not permitted
        pass
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None, use_errno=True).prctl(29, 1, 0, 0, 0)  # PR_SET_TIMERSLACK, 1 ns
        except (OSError, AttributeError):
            pass
    return False


def name_os_thread() -> None:
    """Give the calling thread its Python name in the OS too (Linux: /proc/PID/task/TID/comm, 15 bytes), so
    that top -H and bench/daemon_cpu.py tell livegen's threads from those libjack starts in the process."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).prctl(15, threading.current_thread().name.encode()[:15], 0, 0, 0)  # PR_SET_NAME
        except (OSError, AttributeError):
            pass
