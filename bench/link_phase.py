"""Phase of livegen's note onsets against an Ableton Link peer's beat grid, beside a bare Link-following sender's.

    python bench/link_phase.py                  # 60 s at 120 BPM (Linux, as root: a private network namespace)
    python bench/link_phase.py --seconds 30 --bpm 97

In one run, on a private network (livegen.testing.link_peer) and a private
real-time JACK server (dummy driver, 32 frames at 48 kHz: 0.67 ms a period):

- a judge peer (standing in for Live) holds the session's tempo;
- `livegen run --clock link` plays tunes into one reader's port;
- a bare sender, a thread with a Link peer of its own and nothing else,
  sends a note on every eighth of the session's beats at the time its Link
  says, scheduled as livegen.testing.bare_sender and livegen's output thread
  are (real-time where permitted, sleep, then spin the last SPIN_S), into a
  second reader's port.

Each note-on's arrival at its reader is placed against the judge's grid of
sixtieths of a beat (every onset the ABC writes falls on one: eighths,
sixteenths, triplets, quintuplets), and the error is the time from the
nearest grid point (unambiguous up to 4 ms at 120 BPM).
Prints p50, p99 and max of |error| for both senders. JACK hands MIDI over
once per period, so either sender is 0 to 0.67 ms late by quantisation alone.
"""

from __future__ import annotations

import argparse
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime

import numpy as np

from livegen.testing.jack_harness import PERIOD_S, JackServer, MidiReader
from livegen.testing.link_peer import DISCOVERY_S, LinkBareSender, LinkPeer, private_network, wait_until

GRID_BEATS = 1 / 60
WARM_UP_S = 3.0  # not measured: livegen's first tune, the readers' first messages


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long to measure")
    parser.add_argument("--bpm", type=float, default=120.0, help="the session's tempo")
    options = parser.parse_args()

    with private_network(), tempfile.TemporaryDirectory() as record:
        server = JackServer(f"livegen-link-bench-{os.getpid()}", realtime=True)
        server.start()
        os.environ["JACK_DEFAULT_SERVER"] = server.name  # for the readers, the sender and livegen
        judge = LinkPeer(options.bpm)
        livegen_reader, bare_reader = MidiReader("livegen-in"), MidiReader("bare-in")
        bare = LinkBareSender("Bare Link Sender", options.bpm)
        process = subprocess.Popen(
            [sys.executable, "-m", "livegen", "run", "--backend", "jack", "--port", livegen_reader.port,
             "--clock", "link", "--tempo", str(options.bpm), "--record", record, "--quiet", "--osc-port", "0"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            server.connect("Bare Link Sender:Bare Link Sender", bare_reader.port)
            wait_until(lambda: judge.peers >= 2, DISCOVERY_S + 10, "livegen and the bare sender in the session")
            judge.set_tempo(options.bpm)
            bare.start()
            started = time.monotonic()
            time.sleep(WARM_UP_S + options.seconds)
        finally:
            process.send_signal(signal.SIGINT)  # SIGINT, not SIGTERM: see livegen.testing.jack_harness
            _, stderr = process.communicate(timeout=15)
            bare.close()
        measured = {name: errors_ms(judge, reader, started + WARM_UP_S)
                    for name, reader in (("livegen --clock link", livegen_reader), ("bare Link sender", bare_reader))}
        for reader in (livegen_reader, bare_reader):
            reader.close()
        judge.close()
        server.close()
    if process.returncode != 0:
        print(stderr, file=sys.stderr)
        return 1
    report(options, measured)
    return 0


def errors_ms(judge: LinkPeer, reader: MidiReader, since: float) -> np.ndarray:
    arrivals = [record.arrival for record in reader.received()
                if record.message.type == "note_on" and record.message.velocity > 0 and record.arrival >= since]
    return np.array([judge.grid_error(arrival, GRID_BEATS) * 1000 for arrival in arrivals])


def report(options, measured: dict[str, np.ndarray]) -> None:
    print(f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.node()}, load average {os.getloadavg()[0]:.1f}, "
          f"{options.seconds:g} s at {options.bpm:g} BPM, JACK period {PERIOD_S * 1000:.2f} ms")
    print("| sender | notes | p50 |error| | p99 |error| | max |error| | mean (signed; + late) |")
    print("| --- | --- | --- | --- | --- | --- |")
    for name, errors in measured.items():
        size = np.abs(errors)
        print(f"| {name} | {len(errors)} | {np.percentile(size, 50):.3f} ms | {np.percentile(size, 99):.3f} ms | "
              f"{size.max():.3f} ms | {errors.mean():+.3f} ms |")


if __name__ == "__main__":
    sys.exit(main())
