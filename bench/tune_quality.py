"""Tune quality (issue 11): 200 tunes at each of three temperatures, judged by `livegen eval`, beside the corpus.

Each temperature runs `livegen eval -n 200 --seed 2026 --temperature T --json`
(a seed no test uses), so the tunes are written with the command's defaults
and judged as eval judges: abc2midi per tune and the independent form reader,
never the sampler's own rules. The corpus column is the same eval's reading of
the Nottingham corpus. Prints a Markdown table for docs/BENCHMARKS.md.

    nice -n 10 python bench/tune_quality.py [--count 200] [--seed 2026] [--temperatures 0.8 1.0 1.3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time

from livegen.offline.evaluate import LABELS, shown_value

TARGETS = {  # issue 11, at T=1.0
    "abc2midi_errors": "at most 2%",
    "abc2midi_bar_length_warnings_per_bar_line": "at most 0.35%",
    "regular_strains": "at least 80%",
    "ends_on_tonic": "at least 80%",
    "tunes_under_8_bars": "at most 1%",
    "tunes_copying_more_than_4_bars": "0",
}


def judged(count: int, seed: int, temperature: float, extra: list[str]) -> tuple[dict, float]:
    command = [sys.executable, "-m", "livegen", "eval", "-n", str(count), "--seed", str(seed),
               "--temperature", str(temperature), "--json", *extra]
    start = time.perf_counter()
    finished = subprocess.run(command, capture_output=True, text=True, timeout=3600)
    if finished.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{finished.stderr[-2000:]}")
    return json.loads(finished.stdout), time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--temperatures", type=float, nargs="+", default=[0.8, 1.0, 1.3])
    parser.add_argument("extra", nargs="*", help="more eval options after --, e.g. -- --form AABB")
    arguments = parser.parse_args()
    columns, corpus = [], None
    for temperature in arguments.temperatures:
        document, seconds = judged(arguments.count, arguments.seed, temperature, arguments.extra)
        print(f"T={temperature}: {seconds:.0f} s (composing and judging {arguments.count} tunes, and the corpus)",
              file=sys.stderr)
        columns.append((f"T={temperature}", document["summary"]))
        corpus = document["corpus"]
    if corpus is not None:
        columns.append(("corpus", corpus))
    print("| | " + " | ".join(name for name, _ in columns) + " | target at T=1.0 |")
    print("| --- " * (len(columns) + 2) + "|")
    for key, label in LABELS.items():
        print(f"| {label} | " + " | ".join(shown_value(key, summary[key]) for _, summary in columns)
              + f" | {TARGETS.get(key, '')} |")


if __name__ == "__main__":
    main()
