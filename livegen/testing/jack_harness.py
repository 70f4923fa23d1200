"""A private JACK server and a MIDI reader on it (tests/conftest.py makes fixtures of them; bench/ uses them directly).

The server runs the dummy driver in sync mode (-S: without it the dummy
driver drops and duplicates MIDI events) under a name of its own, passed to
every client through JACK_DEFAULT_SERVER. Its MIDI events are quantised to
its period: 32 frames at 48 kHz, 0.67 ms.

JACK clients started in subprocesses must be ended with SIGINT: a client
killed with SIGTERM stalls a sync-mode server for 5 s.
"""

from __future__ import annotations

import functools
import glob
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import mido

from livegen.realtime.midi_port import open_input

SAMPLE_RATE = 48000
PERIOD_FRAMES = 32
PERIOD_S = PERIOD_FRAMES / SAMPLE_RATE
START_TIMEOUT_S = 10.0
JACK_SHM_DIR = Path("/dev/shm")


@functools.cache
def clear_stale_jack_state() -> None:
    """Once per process, with no jackd running: remove what dead servers left in /dev/shm.

    A server that dies uncleanly keeps its slot in JACK's shared registry,
    which has eight; once they are taken every new server fails with "Too
    many servers already active", on this machine and in CI after it. Only
    before this process's first JACK client: libjack keeps the registry it
    first mapped.
    """
    if _jackd_running():
        return
    for leftover in [*JACK_SHM_DIR.glob("jack-*"), *JACK_SHM_DIR.glob("jack_db-*")]:
        if leftover.is_dir():
            shutil.rmtree(leftover, ignore_errors=True)
        else:
            leftover.unlink(missing_ok=True)


def _jackd_running() -> bool:
    for comm in Path("/proc").glob("[0-9]*/comm"):
        try:
            if comm.read_text().strip() == "jackd":
                return True
        except OSError:  # the process ended while we looked
            continue
    return False


class JackServer:
    """jackd on the dummy driver, started and stopped on demand; clients find it through JACK_DEFAULT_SERVER."""

    def __init__(self, name: str, realtime: bool = False, period_frames: int = PERIOD_FRAMES):
        self.name = name
        self.realtime = realtime
        self.period_frames = period_frames
        self._slot_held = False  # killed: its slot in JACK's registry of eight servers is still taken
        self._process: subprocess.Popen | None = None
        self._log = tempfile.TemporaryFile()

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "JACK_DEFAULT_SERVER": self.name}

    def start(self) -> None:
        """Start jackd and return once it answers jack_lsp."""
        clear_stale_jack_state()
        self._slot_held = False
        command = ["jackd", "-S", "-R" if self.realtime else "-r", "-n", self.name,
                   "-d", "dummy", "-r", str(SAMPLE_RATE), "-p", str(self.period_frames), "-C", "0", "-P", "0"]
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=self._log,
                                         stderr=subprocess.STDOUT, env=self.env)
        deadline = time.monotonic() + START_TIMEOUT_S
        while not self._answers():
            try:
                self._process.wait(timeout=0.02)  # a pause between polls that also notices jackd exiting
            except subprocess.TimeoutExpired:
                if time.monotonic() > deadline:
                    self.stop()
                    raise RuntimeError(f"jackd did not answer within {START_TIMEOUT_S} s:\n{self.output()}") from None
            else:
                raise RuntimeError(f"jackd exited with status {self._process.returncode}:\n{self.output()}")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.send_signal(signal.SIGINT)
        try:
            self._process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def kill(self) -> None:
        """SIGKILL jackd, as a crash would end it: its socket, shared memory and registry slot stay behind."""
        if self._process is not None:
            self._process.kill()
            self._process.wait()
            self._process = None
            self._slot_held = True

    def close(self) -> None:
        """Stop, and remove the semaphores of clients that outlived a server stopped under them (jackd leaves them).

        A killed server that was not started again is started and stopped once: a server of the same name takes
        the dead one's slot in JACK's registry and gives it back, where it would otherwise stay taken for good
        (eight servers at most, then "Too many servers already active")."""
        if self._slot_held and self._process is None:
            self.start()
        self.stop()
        for leftover in JACK_SHM_DIR.glob(f"jack_sem.*_{glob.escape(self.name)}_*"):
            leftover.unlink(missing_ok=True)

    def connect(self, source: str, destination: str) -> None:
        self._jack("jack_connect", source, destination)

    def disconnect(self, source: str, destination: str) -> None:
        self._jack("jack_disconnect", source, destination)

    def ports(self) -> list[str]:
        return self._jack("jack_lsp").splitlines()

    def output(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")

    def _answers(self) -> bool:
        return subprocess.run(["jack_lsp"], env=self.env, capture_output=True).returncode == 0

    def _jack(self, *command: str) -> str:
        result = subprocess.run(command, env=self.env, capture_output=True, text=True, timeout=10)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed: {result.stderr.strip() or result.stdout.strip()}")
        return result.stdout


class Received(NamedTuple):
    arrival: float  # time.monotonic() seconds
    message: mido.Message


class MidiReader:
    """A JACK client with one input port, named `name:name`, that records every message with its arrival time."""

    def __init__(self, name: str):
        self.name = name
        self.port = f"{name}:{name}"
        self._records: list[Received] = []
        self._changed = threading.Condition()
        self._input = open_input(name, self._record, backend="jack")

    def _record(self, message: mido.Message, arrival: float) -> None:
        with self._changed:
            self._records.append(Received(arrival, message))
            self._changed.notify_all()

    def received(self) -> list[Received]:
        with self._changed:
            return list(self._records)

    def messages(self) -> list[mido.Message]:
        return [record.message for record in self.received()]

    def wait_for(self, predicate: Callable[[list[Received]], bool], timeout: float = 5.0,
                 what: str = "the expected messages") -> list[Received]:
        """Wait until predicate(all received so far) holds; AssertionError, listing what came, at the deadline."""
        with self._changed:
            if not self._changed.wait_for(lambda: predicate(self._records), timeout):
                got = "\n  ".join(str(record.message) for record in self._records[-20:]) or "(nothing)"
                raise AssertionError(f"timed out after {timeout} s waiting for {what}; last received:\n  {got}")
            return list(self._records)

    def wait_for_count(self, count: int, timeout: float = 5.0) -> list[Received]:
        return self.wait_for(lambda records: len(records) >= count, timeout, f"{count} messages")

    def close(self) -> None:
        self._input.close()

