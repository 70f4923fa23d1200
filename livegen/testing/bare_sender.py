"""A bare sender: nothing but notes on a grid, through the same JACK server, in a process of its own.

A timing figure for livegen means something only beside what the machine
and the JACK server allow at that moment: on a shared machine a sender doing
nothing else showed p99 errors from 0.5 ms to 9 ms from one minute to the
next. So benchmarks and timing tests run this beside livegen and report
both. It sends through livegen's own port wrapper (open_output) with the
same scheduling (real-time where permitted, sleep then spin the last
SPIN_S), so what differs from livegen is everything livegen does besides.

    python -m livegen.testing.bare_sender PORT START BPM COUNT [OFFSET_BEATS]

plays COUNT sixteenth notes (each held for half its length) into the
existing port PORT, the first at monotonic time START + OFFSET_BEATS beats.
The grid is known to the reader in advance (grid()), so nothing needs to be
sent back.
"""

from __future__ import annotations

import subprocess
import sys
import time

import mido
import numpy as np

from livegen.realtime.midi_port import open_output
from livegen.realtime.output import SPIN_S, promote_current_thread

STEP_BEATS = 0.25
PITCH = 100  # high above any tune, so its notes are told apart wherever they are read


def grid(start: float, bpm: float, count: int, offset_beats: float = 0.0) -> list[float]:
    """The note-on times, in monotonic seconds."""
    seconds_per_beat = 60.0 / bpm
    return [start + (offset_beats + i * STEP_BEATS) * seconds_per_beat for i in range(count)]


def messages(times: list[float], bpm: float) -> list[tuple[float, mido.Message]]:
    """Each note-on at its grid time and its note-off half a step later, in time order."""
    hold = STEP_BEATS / 2 * 60.0 / bpm
    return sorted([(at, mido.Message("note_on", note=PITCH, velocity=64)) for at in times]
                  + [(at + hold, mido.Message("note_off", note=PITCH)) for at in times], key=lambda e: e[0])


def launch(port: str, start: float, bpm: float, count: int, offset_beats: float = 0.0) -> subprocess.Popen:
    """Start one in a subprocess (JACK_DEFAULT_SERVER from the environment); end it with finish()."""
    return subprocess.Popen([sys.executable, "-m", "livegen.testing.bare_sender", port, repr(start), repr(bpm),
                             str(count), repr(offset_beats)], stdin=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True)


def finish(process: subprocess.Popen, timeout: float) -> None:
    _, stderr = process.communicate(timeout=timeout)
    if process.returncode != 0:
        raise RuntimeError(f"the bare sender failed ({process.returncode}): {stderr}")


class BareRun:
    """A bare sender playing in the background, into `reader`'s port (a MidiReader of its own), while a test
    does its own timing; lags_s() says how late each of its notes arrived (arrival - grid time)."""

    def __init__(self, reader, seconds: float, bpm: float = 240.0, lead_s: float = 1.5):
        self.reader = reader
        self.count = max(2, int(seconds * bpm / 60 / STEP_BEATS))
        self.seconds = seconds
        self.times = grid(time.monotonic() + lead_s, bpm, self.count)  # lead: time for the process to start
        self._process = launch(reader.port, self.times[0], bpm, self.count)

    def lags_s(self) -> list[float]:
        """Waits for the run to end."""
        finish(self._process, timeout=self.seconds + 30)
        received = self.reader.wait_for(lambda records: len(records) >= 2 * self.count, 10.0,
                                        "the bare sender's notes")
        ons = [record.arrival for record in received if record.message.type == "note_on"]
        return [arrival - at for arrival, at in zip(ons, self.times)]

    def worst_lag_s(self) -> float:
        return max(map(abs, self.lags_s()))


def errors_ms(arrivals: list[float], times: list[float]) -> np.ndarray:
    """|arrival - grid time| in ms for the notes that came, matched in order."""
    return np.abs(np.array(arrivals[:len(times)]) - np.array(times[:len(arrivals)])) * 1000


def play(port_name: str, times: list[float], bpm: float) -> None:
    promote_current_thread()
    with open_output(port_name, backend="jack") as port:
        for at, message in messages(times, bpm):
            pause = at - SPIN_S - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            while time.monotonic() < at:
                pass
            port.send(message)


def main(arguments: list[str]) -> int:
    port, start, bpm, count, *offset = arguments
    play(port, grid(float(start), float(bpm), int(count), float(offset[0]) if offset else 0.0), float(bpm))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
