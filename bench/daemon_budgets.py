"""`livegen run` against two budgets, through a real JACK port: start to first note, and memory over time.

    python bench/daemon_budgets.py                   # 3 starts, then 3 minutes of playing at 180 BPM
    python bench/daemon_budgets.py --starts 5 --minutes 60

Start to first note: from launching `python -m livegen run` (interpreter start,
imports, model load, port open, the first tune's header written) to the first
note-on arriving at a second JACK client. Budget: 1 s.
Onset jitter: during that run, each note-on's arrival against where the
session's ABC puts it (tunes follow each other on whole beats), after taking
out each tune's constant offset (JACK's period and the start margin), so it
measures jitter, not latency; bench/timing.py measures against the schedule
itself. Tunes whose offset differs from the first tune's by more than 5 ms
(a tune that began off the beat grid) are counted. Of the last tune, cut off
by the stop, only the notes played count.

Memory: the daemon's resident set size, sampled while it plays tune after
tune. Budget: 150 MB, flat (the slope is printed per hour). A JACK client
maps the server's shared memory (port buffers: about 100 MB for this server),
which counts in its RSS but is the server's, the same in every client; so
the budget is judged on the daemon's own part (RSS less that shared memory),
and full RSS is printed beside it.

The daemon plays into the reader's existing port, so no note is lost to a
connection made after it started. The JACK server runs with real-time
scheduling, as a DAW's does. The server and reader come from
livegen/testing/jack_harness.py.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import numpy as np

from livegen.abc import parse_tunes
from livegen.abc.collection import read_abc_file
from livegen.perform.render import perform
from livegen.testing.jack_harness import PERIOD_FRAMES, JackServer, MidiReader

FIRST_NOTE_BUDGET_S = 1.0
RSS_BUDGET_MB = 150.0
SAMPLE_S = 2.0
TUNE_START_TOLERANCE_MS = 5.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--starts", type=int, default=3, help="launches timed to the first note")
    parser.add_argument("--minutes", type=float, default=3.0, help="how long to watch memory")
    parser.add_argument("--tempo", type=float, default=180.0)
    options = parser.parse_args()

    with jack_and_reader("budgets") as reader, tempfile.TemporaryDirectory() as record:
        first_notes = [first_note_s(reader, Path(record), options.tempo) for _ in range(options.starts)]
        already = len(reader.received())
        rss = watch_memory(reader, Path(record) / "memory", options.tempo, options.minutes * 60)
        (session,) = (Path(record) / "memory").iterdir()
        jitter = onset_jitter_ms(reader.received()[already:], session / "session.abc", options.tempo)

    print(f"{datetime.now():%Y-%m-%d %H:%M} {platform.node()} {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    print(f"start to first note: {', '.join(f'{s:.3f}' for s in first_notes)} s "
          f"(worst {max(first_notes):.3f} s; budget {FIRST_NOTE_BUDGET_S} s)")
    minutes = np.array([t for t, _, _ in rss]) / 60
    megabytes = np.array([own for _, own, _ in rss])
    full = np.array([total for _, _, total in rss])
    half = len(minutes) // 2
    slope = np.polyfit(minutes[half:], megabytes[half:], 1)[0] * 60 if len(minutes) - half >= 2 else float("nan")
    print(f"RSS less JACK's shared memory, over {minutes[-1]:.1f} min at {options.tempo:g} BPM: "
          f"first {megabytes[0]:.1f} MB, max {megabytes.max():.1f} MB, last {megabytes[-1]:.1f} MB, "
          f"second-half slope {slope:+.1f} MB/hour (budget {RSS_BUDGET_MB:g} MB, flat)")
    print(f"full RSS (with JACK's shared memory): first {full[0]:.1f} MB, max {full.max():.1f} MB")
    print(f"onset jitter over {jitter[3]} notes: p50 {jitter[0]:.3f} ms, p99 {jitter[1]:.3f} ms, "
          f"max {jitter[2]:.3f} ms; tunes starting off the beat grid: {jitter[4]}")
    ok = max(first_notes) <= FIRST_NOTE_BUDGET_S and megabytes.max() <= RSS_BUDGET_MB
    print("within budget" if ok else "OVER BUDGET")
    return 0 if ok else 1


@contextlib.contextmanager
def jack_and_reader(name: str, period_frames: int = PERIOD_FRAMES) -> Iterator[MidiReader]:
    """A private real-time JACK server (as a DAW's runs) for this process and the livegen it launches, and a
    reader on it whose port livegen plays into."""
    server = JackServer(f"livegen-{name}-{datetime.now():%H%M%S}", realtime=True, period_frames=period_frames)
    server.start()
    reader = None
    try:
        os.environ["JACK_DEFAULT_SERVER"] = server.name  # for the reader and for livegen
        reader = MidiReader(name)
        yield reader
    finally:
        if reader is not None:
            reader.close()
        server.close()


def launch(reader: MidiReader, record: Path, tempo: float, *options: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "livegen", "run", "--backend", "jack", "--port", reader.port,
                             "--tempo", str(tempo), "--record", str(record), "--quiet", "--osc-port", "0", *options],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def stop(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGINT)  # SIGINT, not SIGTERM: see livegen/testing/jack_harness.py
    _, stderr = process.communicate(timeout=15)
    if process.returncode != 0:
        raise RuntimeError(f"livegen exited with {process.returncode}: {stderr}")


def first_note_s(reader: MidiReader, record: Path, tempo: float) -> float:
    already = len(reader.received())
    launched = time.monotonic()
    process = launch(reader, record, tempo)
    try:
        records = reader.wait_for(lambda got: any(r.message.type == "note_on" and r.arrival > launched
                                                  for r in got[already:]), 30.0, "the first note")
    finally:
        stop(process)
    return next(r.arrival for r in records[already:] if r.message.type == "note_on") - launched


def watch_memory(reader: MidiReader, record: Path, tempo: float, seconds: float) -> list[tuple[float, float, float]]:
    """(seconds since launch, RSS less shared memory, RSS) in MB, every SAMPLE_S."""
    process = launch(reader, record, tempo)
    samples = []
    started = time.monotonic()
    try:
        while (elapsed := time.monotonic() - started) < seconds:
            time.sleep(SAMPLE_S)
            if process.poll() is not None:
                raise RuntimeError(f"livegen exited with {process.returncode}: {process.stderr.read()}")
            samples.append((elapsed + SAMPLE_S, *rss_mb(process.pid)))
    finally:
        stop(process)
    return samples


def onset_jitter_ms(received, abc: Path, tempo: float) -> tuple[float, float, float, int, int]:
    """p50, p99 and max of the onset errors (see onset_errors_ms), how many notes, and how many tunes began off
    the beat grid the session's ABC puts them on (by more than TUNE_START_TOLERANCE_MS)."""
    errors = onset_errors_ms(received, abc, tempo)
    late_tunes = int(np.sum(np.abs(np.unique(errors[:, 2])) > TUNE_START_TOLERANCE_MS))
    jitter = errors[:, 1]
    return (float(np.percentile(jitter, 50)), float(np.percentile(jitter, 99)), float(jitter.max()), len(jitter),
            late_tunes)


def onset_errors_ms(received, abc: Path, tempo: float) -> np.ndarray:
    """(due time, jitter in ms, the offset of its tune in ms) per note played.

    A note's jitter is |arrival - written onset - its tune's median offset|.
    Taking the offset out per tune (each tune starts on the next whole beat
    after the last) keeps one tune that began a beat off, if it ever happens,
    from spoiling every figure after it; the tunes' offsets, less the first
    tune's, say whether that happened. Notes the session wrote but never
    played (those of the last tune after the stop) are left out: only notes
    due before the last arrival count.
    """
    seconds_per_beat = 60.0 / tempo
    arrivals: dict[tuple[int, int], list[float]] = {}
    for record in received:
        if record.message.type == "note_on" and record.message.velocity > 0:
            arrivals.setdefault((record.message.channel, record.message.note), []).append(record.arrival)
    origin = min(min(times) for times in arrivals.values())
    last = max(max(times) for times in arrivals.values())
    rows, start, first_offset = [], 0.0, None  # start: the beat where the next tune begins
    for events in parse_tunes(read_abc_file(abc)):
        notes = perform(events, tempo_bpm=tempo).notes
        due = [origin + (start + float(note.start)) * seconds_per_beat for note in notes]
        offsets = np.array([min((at - when for at in arrivals.get((note.channel, note.pitch), [])), key=abs,
                                default=np.inf) for note, when in zip(notes, due) if when < last])
        if len(offsets):
            tune_offset = float(np.median(offsets))
            first_offset = tune_offset if first_offset is None else first_offset
            rows += [(when, abs(offset - tune_offset) * 1000, (tune_offset - first_offset) * 1000)
                     for when, offset in zip(due, offsets)]
        start = float(np.ceil(start + max((float(note.start + note.duration) for note in notes
                                           if note.channel == 0), default=0.0)))
    return np.array(rows)


def rss_mb(pid: int) -> tuple[float, float]:
    """(RSS less shared memory, RSS) in MB, from /proc (Linux only)."""
    fields = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name in ("VmRSS", "RssShmem"):
            fields[name] = int(value.split()[0]) / 1024
    return fields["VmRSS"] - fields["RssShmem"], fields["VmRSS"]


if __name__ == "__main__":
    sys.exit(main())
