"""MIDI ports: which MIDI system to use, and opening named ports on it.

A port name given by the user means an existing port when one of that name is
there (loopMIDI on Windows, an IAC bus on macOS, a DAW's port on JACK), and a
new virtual port otherwise. Every failure a user can cause becomes one
LivegenError line that says what to install or start.

Outputs are mido ports. Inputs use python-rtmidi directly, polled: rtmidi
queues each message with its time on the MIDI system's own thread, without
Python, and the input's thread reads that queue, decodes and hands on: every
POLL_BUSY_S while messages are coming (MIDI clock, a knob being turned), every
POLL_IDLE_S after a quiet second, so an idle input costs next to nothing.
(A Python callback would run on JACK's process thread, which must
first take the GIL; on a busy machine that wait stalled the JACK graph, and
messages between other clients were lost and repeated. rtmidi's times make
the arrival times exact whatever the polling delay: see _ArrivalTimes.)

JACK needs care when its server goes away: sends keep "succeeding" into a dead
client, and libjack crashes when a dead client is closed after any new client
was opened. So every JACK port is watched (see _jack_server_watch: a SIGKILLed
server is noticed too), every client this module opens, probes included,
first closes the ports whose server died, and an input reopens itself once a
server is back, as the output thread does for outputs.
"""

from __future__ import annotations

import logging
import math
import os
import re
import socket
import sys
import threading
import time
import weakref
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import mido
import rtmidi

from livegen.errors import LivegenError
from livegen.realtime.output import RECONNECT_DELAYS_S, promote_current_thread

log = logging.getLogger(__name__)

BACKEND_APIS = {"alsa": "LINUX_ALSA", "jack": "UNIX_JACK", "coremidi": "MACOSX_CORE", "winmm": "WINDOWS_MM"}
BACKEND_CHOICES = ("auto", *BACKEND_APIS)
ALSA_SEQUENCER = Path("/dev/snd/seq")
JACK_SOCKET_DIR = Path("/dev/shm")
WATCH_INTERVAL_S = 0.5  # how often an input checks that its JACK server is still there (a lost one: within 1 s)
JACK_CYCLE_S = 0.1  # the longest JACK cycle allowed for (4,096 frames at 48 kHz): see open_output, OutputPort.close
POLL_BUSY_S = 0.002  # how often an input reads rtmidi's queue while messages come ...
POLL_IDLE_S = 0.02  # ... and once none came for QUIET_S: the most the first of a new burst waits
QUIET_S = 1.0
INPUT_PRIORITY = 2  # real-time, below the output thread: arrival times are pinned by the promptest reads

LOOPMIDI_URL = "https://www.tobias-erichsen.de/software/loopmidi.html"
HOW_TO_ENABLE = {
    "alsa": "load the ALSA sequencer (sudo modprobe snd-seq)",
    "jack": "start a JACK server (e.g. `jackd -d dummy`, or QjackCtl)",
    "coremidi": "CoreMIDI is part of macOS; check Audio MIDI Setup",
    "winmm": "Windows MIDI should always be there; check the MIDI drivers in Device Manager",
}

MessageCallback = Callable[[mido.Message, float], None]

_open_ports_lock = threading.RLock()  # held while opening or closing any client: see _client_guard
_open_ports: weakref.WeakSet[_Port] = weakref.WeakSet()
_dead_clients: list[_Port] = []  # closed by their owners after their JACK server died; see _Port.close


def compiled_backends() -> list[str]:
    """The backends this python-rtmidi build supports: the ones that make sense on this platform."""
    compiled = set(rtmidi.get_compiled_api())
    return [backend for backend in BACKEND_APIS if _api_id(backend) in compiled]


def resolve_backend(backend: str = "auto") -> str:
    """The concrete backend to use for `backend`, checked to be usable now."""
    if backend not in BACKEND_CHOICES:
        raise LivegenError(f"unknown MIDI backend {backend!r} (choose from {', '.join(BACKEND_CHOICES)})")
    if backend == "auto":
        return _auto_backend()
    if backend not in compiled_backends():
        raise LivegenError(f"MIDI backend {backend} is not available on this platform "
                           f"(available: {', '.join(compiled_backends())})")
    problem = _problem(backend)
    if problem:
        raise LivegenError(problem)
    return backend


def open_output(name: str, backend: str = "auto") -> OutputPort:
    """The output port `name`: an existing one of that name, else a new virtual port (a JACK client named `name`)."""
    backend = resolve_backend(backend)
    ports = mido.Backend(_mido_backend_name(backend))
    with _client_guard():
        try:  # listing opens clients too: a JACK server gone since the probe fails here (SystemError)
            destinations, sources = ports.get_output_names(), ports.get_input_names()
            existing = _find_port(name, destinations, backend)
            if existing is None:
                _refuse_new_port(name, backend, taken_by=sources)
                port = ports.open_output(name, virtual=True, client_name=name)
            else:
                port = ports.open_output(existing)
        except LivegenError:
            raise
        except Exception as error:  # rtmidi raises several types, all meaning the same to the user
            raise LivegenError(_open_failure(f"MIDI port {name!r} on {backend}", backend, error)) from None
    if existing is not None and backend == "jack":
        time.sleep(JACK_CYCLE_S)  # a new connection carries messages only from the server's next cycle on
    return OutputPort(port, backend, existing is not None)


def open_input(name: str, callback: MessageCallback, backend: str = "auto") -> MidiInput:
    """The input port `name` (existing, else virtual); `callback(message, arrival)` runs on the input's own thread.

    Realtime messages (clock, start, stop, continue) are delivered; sysex and
    active sensing are not. `arrival` is in time.monotonic() seconds. If its
    JACK server goes away, the input reopens itself once one is back.
    """
    return MidiInput(name, resolve_backend(backend), callback)


def _open_input_client(name: str, backend: str) -> _InputClient:
    with _client_guard():
        try:
            midi_in = rtmidi.MidiIn(_api_id(backend), name, queue_size_limit=4096)
        except Exception as error:
            raise LivegenError(_open_failure(f"MIDI port {name!r} on {backend}", backend, error)) from None
        try:
            sources = midi_in.get_ports()
            existing = _find_port(name, sources, backend)
            if existing is None:
                _refuse_new_port(name, backend, taken_by=mido.Backend(_mido_backend_name(backend)).get_output_names())
                midi_in.open_virtual_port(name)
            else:
                midi_in.open_port(sources.index(existing))
        except Exception as error:
            midi_in.delete()
            if isinstance(error, LivegenError):
                raise
            raise LivegenError(_open_failure(f"MIDI port {name!r} on {backend}", backend, error)) from None
        midi_in.ignore_types(sysex=True, timing=False, active_sense=True)
        return _InputClient(midi_in, existing or name, backend)


@dataclass(frozen=True)
class BackendPorts:
    """What one backend offers: ports livegen can read from (inputs) and write to (outputs), or why it can't."""

    backend: str
    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    problem: str | None = None


def list_ports() -> dict[str, BackendPorts]:
    """Every backend of this platform with its ports; an unavailable backend carries its reason instead."""
    listing = {}
    for backend in compiled_backends():
        problem = _problem(backend)
        if problem:
            listing[backend] = BackendPorts(backend, problem=problem)
            continue
        ports = mido.Backend(_mido_backend_name(backend))
        with _client_guard():
            try:
                listing[backend] = BackendPorts(backend, tuple(ports.get_input_names()),
                                                tuple(ports.get_output_names()))
            except Exception as error:  # the server went away since the probe
                listing[backend] = BackendPorts(backend, problem=_open_failure(f"{backend} MIDI", backend, error))
    return listing


def format_ports(listing: dict[str, BackendPorts]) -> str:
    """`livegen ports`: one block per backend."""
    blocks = []
    for entry in listing.values():
        if entry.problem:
            blocks.append(f"{entry.backend}: not available: {entry.problem}")
            continue
        lines = [f"{entry.backend}:"]
        for label, names in (("inputs (livegen can read, e.g. a DAW's clock out)", entry.inputs),
                             ("outputs (livegen can play into)", entry.outputs)):
            lines.append(f"  {label}:")
            lines.extend(f"    {name}" for name in names)
            if not names:
                lines.append("    (none)")
        blocks.append("\n".join(lines))
    return "\n".join(blocks)


class _Port:
    """An open client of a MIDI system, registered so that a dead JACK client is closed before any new one opens."""

    def __init__(self, name: str, backend: str):
        self.name = name
        self.backend = backend
        self._lock = threading.Lock()  # the client is used by one thread and may be closed from another
        self._closed = False
        self._watch = _jack_server_watch() if backend == "jack" else None
        with _open_ports_lock:
            _open_ports.add(self)

    def alive(self) -> bool:
        """False once closed, or once the JACK server it joined has stopped (rtmidi itself never notices)."""
        return not self._closed and (self._watch is None or self._watch())

    def close(self) -> None:
        """Close the client; one whose JACK server died is only marked closed, and really closed by the next
        _client_guard: libjack takes a second or more to close it, holding the GIL (python-rtmidi keeps it), so
        closing at once would freeze every thread, and delay the other ports' noticing the loss."""
        with _open_ports_lock, self._lock:
            if self._closed:
                return
            self._closed = True
            if self._watch is not None and not self._watch():
                _dead_clients.append(self)
                return
            _open_ports.discard(self)
            with _native_stderr_silenced():  # libjack reports a dead server again at close
                self._close_client()

    def _close_client(self) -> None:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()


class OutputPort(_Port):
    """An open output: send(message), alive(), close(). `existing` tells whether it joined a port or made one."""

    def __init__(self, port: mido.ports.BaseOutput, backend: str, existing: bool):
        super().__init__(port.name, backend)
        self.existing = existing
        self._port = port

    def send(self, message: mido.Message) -> None:
        """Send now; raises once the port is closed (including by a sweep after its JACK server died)."""
        with self._lock:
            if self._closed:
                raise OSError(f"MIDI port {self.name!r} is closed")
            self._port.send(message)

    def close(self) -> None:
        """Close once what was just sent is out: rtmidi's JACK output hands messages to JACK's next process
        cycle, and a port closed before it ran lost them (an exit's final note-offs: 1 close in 30 on a busy
        machine)."""
        if self.alive():
            time.sleep(JACK_CYCLE_S)
        super().close()

    def _close_client(self) -> None:
        self._port.close()


class _InputClient(_Port):
    """One open rtmidi input, read by polling (see the module docstring)."""

    def __init__(self, midi_in: rtmidi.MidiIn, name: str, backend: str):
        super().__init__(name, backend)
        self._midi_in = midi_in
        self.arrivals = _ArrivalTimes()  # per client: rtmidi's deltas start afresh with each

    def read(self) -> list[tuple[list[int], float, float]]:
        """What rtmidi queued since the last read: (message bytes, delta, read time) each; nothing once closed."""
        events = []
        with self._lock:  # close() takes it too: no read of a client being deleted
            while not self._closed and (event := self._midi_in.get_message()) is not None:
                events.append((*event, time.monotonic()))
        return events

    def _close_client(self) -> None:
        self._midi_in.close_port()
        self._midi_in.delete()


class MidiInput:
    """An input that lasts: each message and its arrival time (monotonic seconds) go to the callback on the
    input's own thread, which reads the port (see POLL_BUSY_S) and checks its JACK server every WATCH_INTERVAL_S."""

    def __init__(self, name: str, backend: str, callback: MessageCallback):
        self.backend = backend
        self._callback = callback
        self._client: _InputClient | None = _open_input_client(name, backend)
        self.name = self._client.name
        self._stopping = threading.Event()
        self._attempts = 0  # reopening attempts since the client was lost
        self._next_attempt = 0.0
        self._thread = threading.Thread(target=self._run, name=f"midi-in {name}", daemon=True)
        self._thread.start()

    def alive(self) -> bool:
        """Whether it can receive now: open, on a JACK server that is still there."""
        client = self._client
        return client is not None and client.alive()

    def close(self) -> None:
        self._stopping.set()
        if self._thread is not threading.current_thread():
            self._thread.join()
        self._drop_client()

    def __enter__(self):
        return self

    def __exit__(self, *_):
        self.close()

    def _run(self) -> None:
        promote_current_thread(INPUT_PRIORITY)
        next_watch = time.monotonic() + WATCH_INTERVAL_S
        last_message = -math.inf
        while not self._stopping.wait(POLL_BUSY_S if time.monotonic() - last_message < QUIET_S else POLL_IDLE_S):
            client = self._client
            if client is not None:
                for data, delta, read_at in client.read():
                    self._deliver(data, client.arrivals.of(delta, read_at))
                    last_message = read_at
            if time.monotonic() >= next_watch:
                self._watch()
                next_watch = time.monotonic() + (WATCH_INTERVAL_S if self._client is not None
                                                 else max(0.0, self._next_attempt - time.monotonic()))

    def _deliver(self, data: list[int], arrival: float) -> None:
        try:
            message = mido.Message.from_bytes(data)
        except ValueError:
            return  # a malformed message from the other side is not ours to act on
        try:
            self._callback(message, arrival)
        except Exception:
            log.exception("MIDI input %r: callback failed", self.name)

    def _watch(self) -> None:
        """Notice a JACK server gone; reopen once one is back, with the output thread's backoff."""
        if self._client is not None:
            if self._client.alive():
                return
            log.warning("MIDI input %r lost: its JACK server stopped; it reopens when a server is back", self.name)
            self._drop_client()
            self._attempts = 0
            self._next_attempt = time.monotonic() + RECONNECT_DELAYS_S[0]
            return
        if time.monotonic() < self._next_attempt:
            return
        try:
            self._client = _open_input_client(self.name, self.backend)
        except LivegenError as error:
            delay = RECONNECT_DELAYS_S[min(self._attempts, len(RECONNECT_DELAYS_S) - 1)]
            self._attempts += 1
            self._next_attempt = time.monotonic() + delay
            log.debug("MIDI input %r still gone (%s); next try in %.2f s", self.name, error, delay)
            return
        log.warning("MIDI input %r is back after %d attempts", self.name, self._attempts + 1)

    def _drop_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()


class _ArrivalTimes:
    """rtmidi stamps each message with the time since the previous one, taken when it arrived; this makes them absolute.

    The running sum of deltas has exact spacing but an unknown origin. A message
    is never read before it arrives, so the smallest (read time - sum) seen so
    far pins the sum to time.monotonic(), within the fastest read of any
    message. Both clocks are the system's monotonic clock, so they don't drift.
    """

    def __init__(self):
        self._sum = 0.0
        self._offset = math.inf

    def of(self, delta: float, read_at: float) -> float:
        self._sum += delta
        self._offset = min(self._offset, read_at - self._sum)
        return self._offset + self._sum


def _auto_backend() -> str:
    if sys.platform == "darwin":
        candidates = ["coremidi", "jack"]
    elif sys.platform == "win32":
        candidates = ["winmm"]
    else:
        candidates = ["alsa", "jack"]
    available = compiled_backends()
    problems = {backend: _problem(backend) for backend in candidates if backend in available}
    for backend, problem in problems.items():
        if problem is None:
            return backend
    if sys.platform.startswith("linux") and set(problems) == {"alsa", "jack"}:
        raise LivegenError("no MIDI system found: the ALSA sequencer is not loaded and no JACK server is running; "
                           "load snd-seq (sudo modprobe snd-seq), or start JACK (e.g. `jackd -d dummy`) "
                           "and pass --backend jack")
    if not problems:
        raise LivegenError("this python-rtmidi has no MIDI backend for this platform; reinstall python-rtmidi")
    raise LivegenError("no MIDI system found: " + "; ".join(problems.values()))


def _problem(backend: str) -> str | None:
    """Why `backend` can't be used now, as a one-line fix; None when it can."""
    if backend == "alsa" and not ALSA_SEQUENCER.exists():
        return f"the ALSA sequencer is not loaded ({ALSA_SEQUENCER} is missing): {HOW_TO_ENABLE['alsa']}"
    with _client_guard():
        try:
            probe = rtmidi.MidiOut(_api_id(backend))
        except Exception as error:
            if backend == "jack":
                server = os.environ.get("JACK_DEFAULT_SERVER")
                running = f"no JACK server named {server!r} is running" if server else "no JACK server is running"
                return f"{running}: {HOW_TO_ENABLE['jack']}"
            return _open_failure(f"{backend} MIDI", backend, error)
        probe.delete()
    return None


def _find_port(name: str, available: list[str], backend: str) -> str | None:
    """The one port in `available` that `name` means: its full name, else a short form of it."""
    if name in available:
        return name
    matches = [port for port in available if name in _short_names(port)]
    if len(matches) > 1:
        raise LivegenError(f"MIDI port name {name!r} matches several {backend} ports ({', '.join(matches)}): "
                           f"give the full name")
    return matches[0] if matches else None


def _short_names(port: str) -> set[str]:
    """Names a user may give for a port: without ALSA's "128:0" numbers or rtmidi's Windows index,
    or one side of "client:port"."""
    bare = re.sub(r" \d+:\d+$", "", port)
    names = {bare, re.sub(r" \d+$", "", bare)}
    if ":" in bare:
        names.update(part.strip() for part in bare.split(":", 1))
    return names


def _refuse_new_port(name: str, backend: str, taken_by: list[str]) -> None:
    """A virtual port can't be made on Windows, nor under a name another program's port already has."""
    if backend == "winmm":
        raise LivegenError(f"no MIDI port named {name!r}: Windows has no virtual MIDI ports, so create one named "
                           f"{name!r} in loopMIDI ({LOOPMIDI_URL}) and try again")
    clash = [port for port in taken_by if name in _short_names(port)]
    if clash:
        raise LivegenError(f"the MIDI port name {name!r} is already taken on {backend} by {clash[0]!r} "
                           f"(another livegen running?): choose another port name")


def _open_failure(what: str, backend: str, error: Exception) -> str:
    reason = str(error).splitlines()[0] if str(error) else type(error).__name__
    return f"could not open {what} ({reason}): {HOW_TO_ENABLE[backend]}"


def _api_id(backend: str) -> int:
    return getattr(rtmidi, f"API_{BACKEND_APIS[backend]}")


def _mido_backend_name(backend: str) -> str:
    return f"mido.backends.rtmidi/{BACKEND_APIS[backend]}"


@contextmanager
def _client_guard():
    """Around anything that opens a client: close ports whose JACK server died first, since libjack
    crashes when a dead client is closed after a new one was opened; and silence the C libraries,
    which print their own diagnostics when a probe fails (the user gets our one line instead)."""
    with _open_ports_lock:
        for port in list(_open_ports):
            if not port.alive():
                port.close()
        with _native_stderr_silenced():
            while _dead_clients:
                dead = _dead_clients.pop()
                _open_ports.discard(dead)
                dead._close_client()
            yield


@contextmanager
def _native_stderr_silenced():
    """Point file descriptor 2 at /dev/null for a moment (alsa-lib and libjack write there directly)."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError):  # no stderr at all: nothing to silence
        yield
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _jack_server_watch() -> Callable[[], bool] | None:
    """A check that the JACK server this process joins is still there, and the same one; None where it can't tell.

    jack2 on Linux serves its clients through a socket in /dev/shm named after
    the server and the user; a restarted server makes a new one, and a killed
    one (SIGKILL included) leaves its socket file behind with nobody listening.
    So the check is: the same file, and a connection to it is accepted (and
    closed at once: libjack's own jack_server_check does the same, and the
    server takes it for that). rtmidi never tells its client that the server
    went away, so this is how livegen notices.
    """
    if not sys.platform.startswith("linux"):
        return None
    server = os.environ.get("JACK_DEFAULT_SERVER") or "default"
    path = JACK_SOCKET_DIR / f"jack_{server}_{os.getuid()}_0"
    try:
        joined = path.stat()
    except OSError:
        return None

    def same_server() -> bool:
        try:
            now = path.stat()
        except OSError:
            return False
        return (now.st_dev, now.st_ino) == (joined.st_dev, joined.st_ino) and _accepts_connections(path)

    return same_server


def _accepts_connections(path: Path) -> bool:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        try:
            probe.connect(str(path))
        except OSError:
            return False
    return True
