"""Training throughput with 1 and 2 workers of MultiWorkerMirroredStrategy on this machine, same global batch.

    python bench/distributed_throughput.py                    # shipped model size, 300 tunes, 3 epochs each
    python bench/distributed_throughput.py --max-tunes 977 --epochs 4

Runs `livegen train` three ways with the same model, data and global batch
(64 sequences of 128 characters): the default strategy (one process), a
one-worker cluster and a two-worker cluster, the workers being processes on
127.0.0.1 (livegen/testing/local_cluster.py). Throughput is the chief's characters per
second of each epoch (history.json: the whole global batch, all workers
together, timed from the start to the end of the epoch's steps, validation
left out); the first epoch includes tracing, so the figure is the median of
the others. Prints the load average before and after: the workers share this
machine's cores with each other and with anything else running.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from livegen.offline.default_corpus import DEFAULT_CORPUS
from livegen.testing.local_cluster import ROOT, train_on_cluster

TIMEOUT_S = 1800


def steady_throughput(run: Path) -> tuple[float, list[float]]:
    speeds = [row["characters_per_second"] for row in json.loads((run / "history.json").read_text())]
    return statistics.median(speeds[1:] or speeds), speeds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--max-tunes", type=int, default=300)
    parser.add_argument("--epochs", type=int, default=3)
    arguments = parser.parse_args()

    print(f"{os.cpu_count()} CPU cores; load average before: {os.getloadavg()[0]:.2f}", flush=True)
    train = ["--data", str(arguments.data), "--max-tunes", str(arguments.max_tunes), "--epochs", str(arguments.epochs),
             "--patience", str(arguments.epochs)]
    results = {}
    with tempfile.TemporaryDirectory() as scratch:
        scratch = Path(scratch)
        subprocess.run([sys.executable, "-m", "livegen", "train", *train, "--out", str(scratch / "default")],
                       check=True, cwd=ROOT, timeout=TIMEOUT_S, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        results["default strategy, 1 process"] = steady_throughput(scratch / "default")
        for workers in (1, 2):
            run = scratch / f"workers-{workers}"
            train_on_cluster(workers, [*train, "--out", str(run)], scratch / f"logs-{workers}", TIMEOUT_S)
            results[f"multiworker, {workers} worker(s)"] = steady_throughput(run)
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    one_worker = results["multiworker, 1 worker(s)"][0]
    print(f"{'configuration':32} {'characters/s':>12} {'vs 1 worker':>11}  per epoch")
    for name, (median, speeds) in results.items():
        print(f"{name:32} {median:12,.0f} {median / one_worker:10.2f}x  {', '.join(f'{s:,.0f}' for s in speeds)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
