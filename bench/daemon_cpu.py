"""`livegen run`'s CPU share at 120 and 180 BPM, JACK's own threads apart, and its timing beside a bare sender.

    python bench/daemon_cpu.py                          # 60 s at each tempo, JACK period 256 frames
    python bench/daemon_cpu.py --seconds 30 --period 128

For each tempo: a private real-time JACK server (dummy driver, 48 kHz, the
given period), `livegen run` playing into a reader's port (OSC on, as by
default), and, over the measured window, a bare sender
(livegen.testing.bare_sender: nothing but sixteenths on a grid, through the
same server, half a sixteenth off livegen's beats) into a second reader.

CPU: each thread's run time from /proc/PID/task/TID/schedstat (ns), over the
window after a warm-up, as a share of one core. livegen names its threads for
the OS (livegen.realtime.output.name_os_thread); libjack's process threads
are unnamed and run under SCHED_FIFO above every livegen thread's priority
(the server's -P less one or so; livegen's stop at REALTIME_PRIORITY), so
"JACK" is the unnamed real-time threads above that priority, counted apart
(this also holds for versions of livegen that named no threads); "livegen"
is everything else, its main thread and unnamed helpers included. Target: livegen at most 3% of a
core at 180 BPM with a period of 256 frames.

Timing: livegen's onset jitter (bench/daemon_budgets.py's onset_errors_ms:
each note against where the session's ABC puts it, less its tune's offset)
and the bare sender's (each note against its grid, less the median offset),
p99 of both from the same window. Target: livegen's p99 at most 0.5 ms above
the bare sender's.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

import numpy as np
from daemon_budgets import jack_and_reader, launch, onset_errors_ms, stop

from livegen.realtime.output import REALTIME_PRIORITY
from livegen.testing import bare_sender
from livegen.testing.jack_harness import SAMPLE_RATE, MidiReader

WARM_UP_S = 10.0
TARGET_SHARE = 0.03
ABOVE_BARE_P99_MS = 0.5
SCHED_FIFO, SCHED_RR = 1, 2


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="measured window at each tempo")
    parser.add_argument("--period", type=int, default=256, help="JACK period in frames (at 48 kHz)")
    parser.add_argument("--tempos", type=float, nargs="+", default=[120.0, 180.0])
    options = parser.parse_args()

    results = []
    with jack_and_reader("cpu", period_frames=options.period) as reader, tempfile.TemporaryDirectory() as record:
        bare_reader = MidiReader("cpu-bare")
        try:
            for tempo in options.tempos:
                results.append((tempo, *measure(reader, bare_reader, Path(record) / f"{tempo:g}", tempo,
                                                options.seconds)))
        finally:
            bare_reader.close()

    print(f"livegen run CPU and timing, {datetime.now():%Y-%m-%d %H:%M}, {platform.node()}, {os.cpu_count()} CPUs, "
          f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    period_ms = options.period / SAMPLE_RATE * 1000
    print(f"  jackd -R -S, dummy driver, period {options.period} frames ({period_ms:.2f} ms); "
          f"{options.seconds:g} s measured at each tempo after {WARM_UP_S:g} s")
    ok = True
    for tempo, shares, daemon_p99, bare_p99, notes in results:
        own = sum(share for group, share in shares.items() if group != "JACK")
        print(f"  {tempo:g} BPM: livegen {own * 100:.2f}% of a core (target {TARGET_SHARE * 100:g}% at 180 BPM); "
              f"JACK's threads {shares.get('JACK', 0.0) * 100:.2f}%")
        for group, share in sorted(shares.items(), key=lambda item: -item[1]):
            print(f"      {group}: {share * 100:.2f}%")
        print(f"    onset p99: livegen {daemon_p99:.3f} ms over {notes} notes, bare sender {bare_p99:.3f} ms "
              f"(target: at most {ABOVE_BARE_P99_MS:g} ms above: "
              f"{'met' if daemon_p99 <= bare_p99 + ABOVE_BARE_P99_MS else 'NOT met'})")
        ok &= daemon_p99 <= bare_p99 + ABOVE_BARE_P99_MS and (tempo != 180.0 or own <= TARGET_SHARE)
    return 0 if ok else 1


def measure(reader: MidiReader, bare_reader: MidiReader, record: Path, tempo: float,
            seconds: float) -> tuple[dict[str, float], float, float, int]:
    """(CPU share per thread group, livegen's onset p99, the bare sender's p99, notes) for one tempo."""
    already, bare_already = len(reader.received()), len(bare_reader.received())
    process = launch(reader, record, tempo)
    try:
        reader.wait_for(lambda got: len(got) > already, 30.0, "the first note")
        start = time.monotonic() + WARM_UP_S
        count = int(seconds * tempo / 60 / bare_sender.STEP_BEATS)
        times = bare_sender.grid(start, tempo, count, offset_beats=bare_sender.STEP_BEATS / 2)
        bare = bare_sender.launch(bare_reader.port, start, tempo, count, bare_sender.STEP_BEATS / 2)
        time.sleep(max(0.0, start - time.monotonic()))
        before = thread_times(process.pid)
        began = time.monotonic()
        bare_sender.finish(bare, timeout=seconds + 30)
        after = thread_times(process.pid)
        elapsed = time.monotonic() - began
    finally:
        stop(process)
    shares: dict[str, float] = {}
    for tid, (group, ns) in after.items():
        shares[group] = shares.get(group, 0.0) + (ns - before.get(tid, (group, 0))[1]) / 1e9 / elapsed
    (session,) = record.iterdir()
    errors = onset_errors_ms(reader.received()[already:], session / "session.abc", tempo)
    window = errors[(errors[:, 0] >= start) & (errors[:, 0] <= start + seconds)]
    bare_ons = [r.arrival for r in bare_reader.received()[bare_already:] if r.message.type == "note_on"]
    offsets = np.array(bare_ons[:len(times)]) - np.array(times[:len(bare_ons)])
    bare_jitter = np.abs(offsets - np.median(offsets)) * 1000
    return shares, float(np.percentile(window[:, 1], 99)), float(np.percentile(bare_jitter, 99)), len(window)


def thread_times(pid: int) -> dict[int, tuple[str, int]]:
    """Each thread's group (see the module docstring) and run time so far in ns."""
    times = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            stat = (task / "stat").read_text()
            run_ns = int((task / "schedstat").read_text().split()[0])
        except (OSError, ValueError):  # the thread ended while we looked
            continue
        comm = stat[stat.index("(") + 1:stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2:].split()  # from field 3 of proc(5) on
        priority, policy = int(fields[37]), int(fields[38])  # fields 40 (rt_priority) and 41 (policy)
        tid = int(task.name)
        if tid == pid:
            group = "livegen: main thread"
        elif comm.startswith(("livegen", "midi-in")):
            group = f"livegen: {comm}"
        elif policy in (SCHED_FIFO, SCHED_RR) and priority > REALTIME_PRIORITY:
            group = "JACK"
        else:
            group = "livegen: unnamed threads"
        times[tid] = (group, run_ns)
    return times


if __name__ == "__main__":
    sys.exit(main())
