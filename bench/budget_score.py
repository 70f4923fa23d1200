"""A `livegen train` run's best validation within a wall-clock budget, from its history.json.

    python bench/budget_score.py runs/aug-256-plateau --minutes 40

For comparing training procedures at the same budget (bench/seed_baseline.py
--minutes trains the seed's way for whole epochs within one): counts the
run's whole epochs, in order, while their summed time fits the budget, and
prints the best validation bits/char among them. Epoch times are as logged,
so a run that shared the CPU shows it here as it did there.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="a run folder of `livegen train` (its history.json)")
    parser.add_argument("--minutes", type=float, required=True, help="the wall-clock budget")
    arguments = parser.parse_args()
    rows = json.loads((arguments.run / "history.json").read_text())
    spent, within = 0.0, []
    for row in rows:
        spent += row["seconds"]
        if spent > arguments.minutes * 60:
            break
        within.append(row)
    if not within:
        print(f"{arguments.run}: its first epoch took longer than {arguments.minutes:g} minutes", file=sys.stderr)
        return 1
    best = min(within, key=lambda row: row["validation_bits_per_char"])
    print(f"{arguments.run}: best validation {best['validation_bits_per_char']:.3f} bits/char at epoch "
          f"{best['epoch']} of the {len(within)} that fit in {arguments.minutes:g} minutes "
          f"(of {len(rows)} run; all of them: {min(row['validation_bits_per_char'] for row in rows):.3f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
