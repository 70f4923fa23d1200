"""Does a 2-worker run learn what a 1-worker run learns? Validation bits/char after the same steps, same global batch.

    python bench/distributed_equivalence.py            # small model, 200 tunes, 8 epochs, four runs
    python bench/distributed_equivalence.py --epochs 4

Trains a small model (embedding 64, 2 x LSTM(128), global batch 32 of 64
characters) with `livegen train --strategy multiworker` four times: one
worker and two workers, each with seeds 0 and 1, on 127.0.0.1
(livegen/testing/local_cluster.py). Each epoch is the same number of steps of the same
global batch in every run. Two workers draw other windows than one (each
worker its own), so the runs cannot agree to the bit; the two seeds of the
same set-up show how far apart noise alone puts them.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from livegen.offline.default_corpus import DEFAULT_CORPUS
from livegen.testing.local_cluster import train_on_cluster

SMALL = ["--embedding", "64", "--units", "128", "--layers", "2", "--batch-size", "32", "--sequence-length", "64"]
TIMEOUT_S = 1800


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--max-tunes", type=int, default=200)
    parser.add_argument("--epochs", type=int, default=8)
    arguments = parser.parse_args()

    train = ["--data", str(arguments.data), "--max-tunes", str(arguments.max_tunes), "--epochs", str(arguments.epochs),
             "--patience", str(arguments.epochs), *SMALL]
    final = {}
    with tempfile.TemporaryDirectory() as scratch:
        for workers in (1, 2):
            for seed in (0, 1):
                run = Path(scratch) / f"workers-{workers}-seed-{seed}"
                train_on_cluster(workers, [*train, "--seed", str(seed), "--out", str(run)],
                                 Path(scratch) / f"{run.name}-logs", TIMEOUT_S)
                scores = [row["validation_bits_per_char"] for row in json.loads((run / "history.json").read_text())]
                final[workers, seed] = scores[-1]
                print(f"{workers} worker(s), seed {seed}: validation bits/char by epoch "
                      f"{', '.join(f'{score:.4f}' for score in scores)}", flush=True)
    means = {workers: (final[workers, 0] + final[workers, 1]) / 2 for workers in (1, 2)}
    print(f"validation bits/char after {arguments.epochs} epochs:  seed 0  seed 1    mean")
    for workers in (1, 2):
        print(f"{workers} worker(s){'':27}{final[workers, 0]:.4f}  {final[workers, 1]:.4f}  {means[workers]:.4f}")
    print(f"2 workers - 1 worker: {means[2] - means[1]:+.4f} bits/char; seed 1 - seed 0: "
          f"{final[1, 1] - final[1, 0]:+.4f} (1 worker), {final[2, 1] - final[2, 0]:+.4f} (2 workers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
