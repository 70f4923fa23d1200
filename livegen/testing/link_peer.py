"""A second Ableton Link peer for tests and benchmarks, on a private network of its own.

Link finds peers by multicast on every network interface. Tests and
benchmarks must neither join a musician's real session on the local network
(the peer sets tempos and stops the transport) nor send anything past this
machine, so private_network() moves the calling thread, and every thread and
process it starts from then on, into a new network namespace that has only
its own loopback interface (Linux, as root), and back again at the end.
"""

from __future__ import annotations

import ctypes
import math
import os
import socket
import struct
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import mido

from livegen.realtime.midi_port import open_output
from livegen.realtime.output import SPIN_S, promote_current_thread

CLONE_NEWNET = 0x40000000  # from <sched.h>
SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1  # from <linux/sockios.h> and <net/if.h>
DISCOVERY_S = 3.0  # two Link peers on one machine find each other in about half a second
BARE_STEP_BEATS = 0.5


class NoPrivateNetwork(Exception):
    """The thread could not be given a network of its own (not Linux, or not allowed)."""


@contextmanager
def private_network() -> Iterator[None]:
    """Run the block in a fresh network namespace with its loopback interface up; NoPrivateNetwork if impossible."""
    libc = ctypes.CDLL(None, use_errno=True)
    try:
        home = os.open(f"/proc/self/task/{threading.get_native_id()}/ns/net", os.O_RDONLY)
    except OSError as error:
        raise NoPrivateNetwork(f"no network namespaces here ({error.strerror})") from None
    try:
        if libc.unshare(CLONE_NEWNET) != 0:
            raise NoPrivateNetwork(f"unshare(CLONE_NEWNET) failed: {os.strerror(ctypes.get_errno())} (needs root)")
        _loopback_up()
        yield
    finally:
        libc.setns(home, CLONE_NEWNET)
        os.close(home)


def _loopback_up() -> None:
    import fcntl  # Unix only, as network namespaces are Linux only

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
        request = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(probe, SIOCGIFFLAGS, request))[1]
        fcntl.ioctl(probe, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def wait_until(condition, timeout: float, what: str, poll_s: float = 0.002) -> float:
    """Wait for condition() with a deadline; returns the seconds it took, AssertionError naming `what` after."""
    start = time.monotonic()
    while not condition():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"no {what} within {timeout} s")
        time.sleep(poll_s)
    return time.monotonic() - start


class LinkPeer:
    """Another app in the Link session (standing in for Live): reads and changes tempo, beat and transport."""

    def __init__(self, tempo_bpm: float = 120.0, start_stop_sync: bool = False):
        import link

        self.link = link.Link(tempo_bpm)
        self.link.startStopSyncEnabled = start_stop_sync
        self.link.enabled = True

    @property
    def peers(self) -> int:
        return self.link.numPeers()

    @property
    def tempo_bpm(self) -> float:
        return self.link.captureAppSessionState().tempo()

    def set_tempo(self, tempo_bpm: float) -> None:
        state = self.link.captureAppSessionState()
        state.setTempo(tempo_bpm, self.link.clock().micros())
        self.link.commitAppSessionState(state)

    def set_playing(self, playing: bool) -> None:
        state = self.link.captureAppSessionState()
        state.setIsPlaying(playing, self.link.clock().micros())
        self.link.commitAppSessionState(state)

    def monotonic_minus_link(self) -> float:
        before = time.monotonic()
        link_now = self.link.clock().micros() / 1e6
        return (before + time.monotonic()) / 2 - link_now

    def time_of(self, beat: float) -> float:
        """Monotonic time of the session's `beat` (in this peer's beats)."""
        return self.link.captureAppSessionState().timeAtBeat(beat, 1.0) / 1e6 + self.monotonic_minus_link()

    def beat_at(self, t: float) -> float:
        return self.link.captureAppSessionState().beatAtTime(self._micros(t), 1.0)

    def grid_error(self, t: float, quantum: float = 1.0) -> float:
        """Seconds from the nearest start of a quantum in the session to monotonic time `t` (positive: late).

        A quantum of a beat or more is a bar, whose phase Link shares; a
        fraction of a beat (1/2, 1/12) divides the session's beats.
        """
        state = self.link.captureAppSessionState()
        micros = self._micros(t)
        if quantum >= 1.0:
            phase = state.phaseAtTime(micros, quantum)
        else:
            phase = state.beatAtTime(micros, 1.0) % quantum
        beats = phase if phase < quantum / 2 else phase - quantum
        return beats * 60.0 / state.tempo()

    def _micros(self, t: float) -> int:
        return round((t - self.monotonic_minus_link()) * 1e6)

    def close(self) -> None:
        self.link.enabled = False


class LinkBareSender(threading.Thread):
    """A bare Link-following sender: a note on every eighth of the session's beats, sent at the time its own Link
    peer says, scheduled as livegen's output thread and livegen.testing.bare_sender are (real-time where
    permitted, sleep, then spin the last SPIN_S), and nothing else. Livegen's timing is judged beside it."""

    def __init__(self, port: str, bpm: float):
        super().__init__(name="bare-link-sender", daemon=True)
        self.peer = LinkPeer(bpm)
        self.output = open_output(port, backend="jack")
        self.stop = threading.Event()

    def run(self) -> None:
        promote_current_thread()
        beat = math.ceil(self.peer.beat_at(time.monotonic() + 0.05) / BARE_STEP_BEATS) * BARE_STEP_BEATS
        while not self.stop.is_set():
            due = self.peer.time_of(beat)
            pause = due - SPIN_S - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            while time.monotonic() < due:
                pass
            self.output.send(mido.Message("note_off", note=60))
            self.output.send(mido.Message("note_on", note=60, velocity=64))
            beat += BARE_STEP_BEATS

    def close(self) -> None:
        self.stop.set()
        self.join(5)
        self.output.send(mido.Message("note_off", note=60))
        self.output.close()
        self.peer.close()
