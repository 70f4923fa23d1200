"""Note timing while an OSC client floods `livegen run` with bad packets, against the same session unflooded.

    python bench/osc_flood.py                       # 20 s quiet, then 20 s of 10,000 packets a second
    python bench/osc_flood.py --seconds 60 --rate 20000

One daemon session on a private real-time JACK server (as bench/daemon_budgets.py
runs it): first a quiet phase, then a phase in which this process sends
malformed packets, wrong types, NaN, infinities and unknown addresses (the
flood test's mix from livegen/testing/bad_osc.py, less the out-of-range
values, which would change the music being timed) at --rate packets a
second. Prints, per phase, the onset jitter of the notes due in it (see
daemon_budgets.onset_errors_ms), the daemon's CPU time, and the ratio
flooded/quiet; then whether the daemon is still alive and playing. The
daemon's token bucket admits 2,000 packets a second; the rest is dropped
before parsing, which is what keeps the cost of a flood small.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import re
import socket
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
from daemon_budgets import jack_and_reader, launch, onset_errors_ms, stop

from livegen.testing.bad_osc import flood_packets

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="length of each phase")
    parser.add_argument("--rate", type=int, default=10_000, help="packets a second while flooding")
    parser.add_argument("--tempo", type=float, default=180.0)
    options = parser.parse_args()

    with jack_and_reader("flood") as reader, tempfile.TemporaryDirectory() as record:
        process = launch(reader, Path(record), options.tempo)
        try:
            port = osc_port(process)
            reader.wait_for(lambda got: any(r.message.type == "note_on" for r in got), 30.0, "the first note")
            quiet = phase(process, options.seconds, None)
            flooded = phase(process, options.seconds, (port, options.rate))
            alive = process.poll() is None
        finally:
            stop(process)
        (session,) = Path(record).iterdir()
        errors = onset_errors_ms(reader.received(), session / "session.abc", options.tempo)

    print(f"{datetime.now():%Y-%m-%d %H:%M} {platform.node()} {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}, {options.tempo:g} BPM")
    summaries = {}
    for name, (start, end, cpu, sent) in (("quiet", quiet), ("flooded", flooded)):
        in_phase = errors[(errors[:, 0] >= start) & (errors[:, 0] < end), 1]
        summaries[name] = (np.percentile(in_phase, 99), cpu / (end - start))
        print(f"{name:8} {end - start:5.1f} s, {sent / (end - start):7.0f} packets/s: {len(in_phase)} notes, onset "
              f"jitter p50 {np.percentile(in_phase, 50):.3f} ms, p99 {summaries[name][0]:.3f} ms, max "
              f"{in_phase.max():.3f} ms; daemon CPU {100 * summaries[name][1]:.0f}%")
    print(f"flooded/quiet: p99 jitter x{summaries['flooded'][0] / summaries['quiet'][0]:.2f}, "
          f"CPU x{summaries['flooded'][1] / summaries['quiet'][1]:.2f}; daemon {'alive' if alive else 'DEAD'}")
    return 0 if alive else 1


def osc_port(process) -> int:
    for line in process.stderr:
        if match := re.search(r"listening for OSC on \S+:(\d+)", line):
            return int(match[1])
    raise RuntimeError("livegen never said which OSC port it listens on")


def phase(process, seconds: float, flood: tuple[int, int] | None) -> tuple[float, float, float, int]:
    """(start, end, daemon CPU seconds, packets sent) of one phase; floods (port, rate) if given."""
    cpu_before, start = cpu_seconds(process.pid), time.monotonic()
    sent = 0
    packets = flood_packets(random.Random(7), clamped=False)  # nothing that changes the music being timed
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as client:
        while (elapsed := time.monotonic() - start) < seconds:
            if flood is not None:
                while sent < flood[1] * elapsed:
                    client.sendto(packets[sent % len(packets)], ("127.0.0.1", flood[0]))
                    sent += 1
            time.sleep(0.002)
    return start, time.monotonic(), cpu_seconds(process.pid) - cpu_before, sent


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time of a process, from /proc (Linux only)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


if __name__ == "__main__":
    sys.exit(main())
