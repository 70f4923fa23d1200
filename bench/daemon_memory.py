"""Where the live session's memory grows: tracemalloc snapshots of a daemon playing fast, compared.

    python bench/daemon_memory.py                      # 10 minutes at 300 BPM, a snapshot a minute
    python bench/daemon_memory.py --minutes 3 --tempo 240

Runs a Daemon in this process (on a thread, on a private JACK server, as
`livegen run` would), takes a tracemalloc snapshot every --every seconds,
and prints the traced Python memory and RSS over time with their slopes,
(OSC on, as `livegen run` has it by default),
then the allocation sites that grew most between the first snapshot after
warm-up and the last. A fast tempo packs an hour's worth of tunes into a
few minutes: growth per tune is what matters, so the slope is also given
per 1,000 notes sent.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import tracemalloc
from datetime import datetime
from pathlib import Path

import numpy as np

from livegen.session.daemon import Daemon, DaemonOptions, OscOptions
from livegen.testing.jack_harness import JackServer

WARM_UP_S = 60.0
TOP_SITES = 12


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--tempo", type=float, default=300.0)
    parser.add_argument("--every", type=float, default=60.0, help="seconds between snapshots")
    options = parser.parse_args()

    tracemalloc.start(8)
    server = JackServer(f"livegen-memory-{os.getpid()}", realtime=True)
    server.start()
    os.environ["JACK_DEFAULT_SERVER"] = server.name
    samples = []  # (seconds, traced MB, RSS MB, notes sent)
    try:
        with tempfile.TemporaryDirectory() as record:
            daemon = Daemon(DaemonOptions(port="LiveGen Memory", backend="jack", record=Path(record),
                                          parameters={"tempo": options.tempo}, osc=OscOptions(port=0)))
            playing = threading.Thread(target=daemon.run, name="daemon", daemon=True)
            started = time.monotonic()
            playing.start()
            time.sleep(WARM_UP_S)
            first = tracemalloc.take_snapshot()
            while (elapsed := time.monotonic() - started) < options.minutes * 60:
                samples.append((elapsed, tracemalloc.get_traced_memory()[0] / 2**20, rss_mb(),
                                daemon.scheduler.output.stats().sent))
                time.sleep(min(options.every, max(0.1, options.minutes * 60 - elapsed)))
            samples.append((time.monotonic() - started, tracemalloc.get_traced_memory()[0] / 2**20, rss_mb(),
                            daemon.scheduler.output.stats().sent))
            last = tracemalloc.take_snapshot()
            daemon.request_stop()
            playing.join(30)
    finally:
        server.close()
    report(options, samples, first, last)
    return 0


def rss_mb() -> float:
    """This process's RSS less shared memory (JACK's port buffers), in MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return (int(fields["VmRSS"].split()[0]) - int(fields["RssShmem"].split()[0])) / 1024


def report(options, samples, first, last) -> None:
    seconds, traced, rss, sent = (np.array(column, dtype=float) for column in zip(*samples))
    hours = seconds / 3600
    print(f"livegen daemon memory, {datetime.now():%Y-%m-%d %H:%M}, {options.minutes:g} min at {options.tempo:g} "
          f"BPM, {int(sent[-1] - sent[0])} messages sent after the first minute")
    for name, values in (("traced Python memory", traced), ("RSS less shared memory", rss)):
        per_hour = np.polyfit(hours, values, 1)[0]
        per_thousand = np.polyfit(sent, values, 1)[0] * 1000 * 1024
        print(f"  {name}: {values[0]:.2f} -> {values[-1]:.2f} MB; slope {per_hour:+.2f} MB/hour, "
              f"{per_thousand:+.1f} KB per 1,000 messages")
    print("  top growth sites (after the first minute):")
    for stat in last.compare_to(first, "traceback")[:TOP_SITES]:
        frames = list(reversed(stat.traceback))  # the allocating frame first
        site = f"{frames[0].filename}:{frames[0].lineno}"
        print(f"    {stat.size_diff / 1024:+9.1f} KB {stat.count_diff:+7d} blocks  {site}")
        for caller in frames[1:5]:
            print(f"        from {caller.filename}:{caller.lineno}")


if __name__ == "__main__":
    sys.exit(main())
