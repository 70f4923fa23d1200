"""`livegen run` as a subprocess on a JACK server (tests/conftest.py makes a fixture of it), and what its session holds.

Each process gets --osc-port 0 (any free port) unless the test names one, so
tests never fight over OSC port 9000; osc_port() reads the port it took from
its log.
"""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
from pathlib import Path

import mido

# Start-up (Python, onnxruntime, the model, JACK) is waited on as a condition; only a failing start waits
# this long, so it is generous for a machine busy with other work.
STARTUP_S = 60.0


class Livegen:
    """`livegen run` in a subprocess; its stderr is collected by a thread, so the test can wait for its start line.

    Waiting for the line (printed once the ports are open) rather than polling jack_lsp keeps extra JACK
    clients away from the server while livegen opens its own.
    """

    def __init__(self, record: Path, port: str, *options: str, python_options: tuple[str, ...] = ()):
        command = [sys.executable, *python_options, "-m", "livegen", "run", "--backend", "jack", "--port", port,
                   "--record", str(record), *options]
        if "--osc-port" not in options:
            command += ["--osc-port", "0"]
        self.process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.PIPE, text=True)
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        for line in self.process.stderr:
            with self._changed:
                self.lines.append(line)
                self._changed.notify_all()

    def wait_for_line(self, text: str, timeout: float) -> None:
        """Wait until a line on stderr contains `text`."""
        with self._changed:
            if not self._changed.wait_for(lambda: any(text in line for line in self.lines), timeout):
                raise AssertionError(f"livegen said no {text!r} within {timeout} s: {''.join(self.lines[-5:])}")

    def wait_started(self, timeout: float = STARTUP_S) -> None:
        self.wait_for_line("livegen: playing into", timeout)

    def osc_port(self) -> int:
        """The UDP port it listens on for OSC (from its log line)."""
        self.wait_for_line("listening for OSC on", STARTUP_S)
        with self._changed:
            found = (re.search(r"listening for OSC on \S+:(\d+)", line) for line in self.lines)
            (port,) = {int(match[1]) for match in found if match}
        return port

    def finish(self, timeout: float = 30.0) -> tuple[int, str]:
        """Wait for the exit; returns the status and everything on stderr."""
        self.process.wait(timeout)
        self._reader.join(timeout)
        return self.process.returncode, "".join(self.lines)

    def stop(self) -> None:
        """At teardown: SIGINT whatever still runs (a JACK client killed otherwise stalls the server)."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()



def session_folder(record: Path) -> Path:
    (folder,) = record.iterdir()
    return folder


def note_ons(received) -> list:
    return [record for record in received if record.message.type == "note_on" and record.message.velocity > 0]


def recorded_note_ons(folder: Path, tempo_bpm: float) -> list[tuple[float, int, int]]:
    """(seconds, channel, pitch) of every note-on in the session's MIDI file: when livegen sent it."""
    notes = []
    for track in mido.MidiFile(folder / "session.mid").tracks:
        seconds = 0.0
        for message in track:
            seconds += mido.tick2second(message.time, 480, mido.bpm2tempo(tempo_bpm))
            if message.type == "note_on" and message.velocity > 0:
                notes.append((seconds, message.channel, message.note))
    return notes
