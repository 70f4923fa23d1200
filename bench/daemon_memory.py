"""Where the live session's memory grows: tracemalloc snapshots of a daemon playing fast, compared.

    python bench/daemon_memory.py                      # 10 minutes at 300 BPM, a snapshot a minute
    python bench/daemon_memory.py --minutes 3 --tempo 240
    python bench/daemon_memory.py --no-trace        # RSS only, by kind of mapping, without tracemalloc's weight
    python bench/daemon_memory.py --no-trace --trim # the same, malloc_trim(0) before each sample

Runs a Daemon in this process (on a thread, on a private JACK server, as
`livegen run` would), takes a tracemalloc snapshot every --every seconds,
and prints the traced Python memory and RSS over time with their slopes,
(OSC on, as `livegen run` has it by default, unless --no-osc),
then the allocation sites that grew most between the first snapshot after
warm-up and the last. A fast tempo packs an hour's worth of tunes into a
few minutes: growth per tune is what matters, so the slope is also given
per 1,000 messages sent. tracemalloc itself weighs on RSS; --no-trace leaves it
off and says instead which kind of mapping grew (the malloc heap and arenas,
JACK's shared memory, files), from /proc/self/smaps. --trim asks glibc to
give back the free memory it holds (malloc_trim) before each sample: what
still grows then is memory in use, not memory freed and kept.
"""

from __future__ import annotations

import argparse
import ctypes
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
    parser.add_argument("--no-trace", action="store_true", help="RSS by kind of mapping, without tracemalloc")
    parser.add_argument("--trim", action="store_true", help="malloc_trim(0) before each sample (glibc)")
    parser.add_argument("--no-osc", action="store_true", help="no OSC server and feedback (`livegen run --no-osc`)")
    options = parser.parse_args()

    if not options.no_trace:
        tracemalloc.start(8)
    server = JackServer(f"livegen-memory-{os.getpid()}", realtime=True)
    server.start()
    os.environ["JACK_DEFAULT_SERVER"] = server.name
    samples = []  # (seconds, traced MB, RSS MB, messages sent)
    try:
        with tempfile.TemporaryDirectory() as record:
            daemon = Daemon(DaemonOptions(port="LiveGen Memory", backend="jack", record=Path(record),
                                          parameters={"tempo": options.tempo},
                                          osc=None if options.no_osc else OscOptions(port=0)))
            playing = threading.Thread(target=daemon.run, name="daemon", daemon=True)
            started = time.monotonic()
            playing.start()
            time.sleep(WARM_UP_S)
            if options.trim:
                ctypes.CDLL("libc.so.6").malloc_trim(0)
            first = snapshot()
            while (elapsed := time.monotonic() - started) < options.minutes * 60:
                if options.trim:
                    ctypes.CDLL("libc.so.6").malloc_trim(0)
                samples.append((elapsed, tracemalloc.get_traced_memory()[0] / 2**20, rss_mb(),
                                daemon.scheduler.output.stats().sent))
                time.sleep(min(options.every, max(0.1, options.minutes * 60 - elapsed)))
            if options.trim:
                ctypes.CDLL("libc.so.6").malloc_trim(0)
            samples.append((time.monotonic() - started, tracemalloc.get_traced_memory()[0] / 2**20, rss_mb(),
                            daemon.scheduler.output.stats().sent))
            last = snapshot()
            daemon.request_stop()
            playing.join(30)
    finally:
        server.close()
    report(options, samples, first, last)
    return 0


def snapshot():
    """tracemalloc's snapshot when tracing, else RSS in KB per kind of mapping."""
    if tracemalloc.is_tracing():
        return tracemalloc.take_snapshot()
    kinds: dict[str, int] = {}
    kind = ""
    for line in Path("/proc/self/smaps").read_text().splitlines():
        head = line.split()
        if not head[0].endswith(":"):  # a mapping's first line: address perms offset dev inode [path]
            path = head[5] if len(head) > 5 else ""
            kind = ("JACK shared memory" if path.startswith("/dev/shm") else path if path.startswith("[")
                    else "anonymous (malloc arenas, thread stacks, onnxruntime)" if not path else "files")
        elif head[0] == "Rss:":
            kinds[kind] = kinds.get(kind, 0) + int(head[1])
    return kinds


def rss_mb() -> float:
    """This process's RSS less shared memory (JACK's port buffers), in MB."""
    fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    return (int(fields["VmRSS"].split()[0]) - int(fields["RssShmem"].split()[0])) / 1024


def report(options, samples, first, last) -> None:
    seconds, traced, rss, sent = (np.array(column, dtype=float) for column in zip(*samples))
    hours = seconds / 3600
    print(f"livegen daemon memory, {datetime.now():%Y-%m-%d %H:%M}, {options.minutes:g} min at {options.tempo:g} "
          f"BPM, {int(sent[-1] - sent[0])} messages sent after the first minute"
          f"{', malloc_trim before each sample' if options.trim else ''}")
    for name, values in (("traced Python memory", traced), ("RSS less shared memory", rss)):
        per_hour = np.polyfit(hours, values, 1)[0]
        per_thousand = np.polyfit(sent, values, 1)[0] * 1000 * 1024
        print(f"  {name}: {values[0]:.2f} -> {values[-1]:.2f} MB; slope {per_hour:+.2f} MB/hour, "
              f"{per_thousand:+.1f} KB per 1,000 messages")
    if isinstance(first, dict):
        print("  RSS growth by kind of mapping (after the first minute):")
        for kind in sorted(last, key=lambda k: first.get(k, 0) - last[k]):
            print(f"    {(last[kind] - first.get(kind, 0)) / 1024:+8.2f} MB  {kind} (now {last[kind] / 1024:.1f} MB)")
        return
    print("  top growth sites (after the first minute):")
    for stat in last.compare_to(first, "traceback")[:TOP_SITES]:
        frames = list(reversed(stat.traceback))  # the allocating frame first
        site = f"{frames[0].filename}:{frames[0].lineno}"
        print(f"    {stat.size_diff / 1024:+9.1f} KB {stat.count_diff:+7d} blocks  {site}")
        for caller in frames[1:5]:
            print(f"        from {caller.filename}:{caller.lineno}")


if __name__ == "__main__":
    sys.exit(main())
