"""Does `livegen eval` take time in proportion to its input? Two inputs that used to grow quadratically.

1. One tune with many chord symbols (four per bar): issue 14 measured 111 s
   for 4,000 symbols (34 KB).
2. A tune of identical bars checked against a reference of identical bars
   (`--reference`): 202 s for 10 KB.

Each size runs `livegen eval FILE --reference REF --json` end to end in a
subprocess (abc2midi included when installed, and the reference judged
beside it), and the time per KB should stay flat as the size doubles.
With --in-process-mb, one tune of chord symbols of each size (1 and 20 MB,
say) is also judged in this process without abc2midi (which gives up on a
single tune that long): the form reader and copy check's CPU time and the
growth of peak memory.

    python bench/eval_scaling.py [--sizes 1000 2000 4000 8000 16000] [--in-process-mb 1 20]
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = "X:1\nT:{title}\nM:4/4\nL:1/8\nK:G\n"


def chord_symbols_tune(symbols: int) -> str:
    bars = ['"G"GA"C"Bc"D"dB"G"AG|' for _ in range(symbols // 4)]
    return HEADER.format(title="Chords") + "\n".join("".join(bars[i:i + 8]) for i in range(0, len(bars), 8)) + "\n"


def identical_bars_tune(bars: int, title: str, last_bar: str = "GABc dBAG|") -> str:
    lines = ["GABc dBAG|" * 8 for _ in range(bars // 8)]
    return HEADER.format(title=title) + "\n".join(lines) + "\n" + last_bar + "\n"


def time_eval(tune: str, reference: str) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as folder:
        tune_path, reference_path = Path(folder) / "tune.abc", Path(folder) / "reference.abc"
        tune_path.write_text(tune)
        reference_path.write_text(reference)
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "livegen", "eval", str(tune_path), "--reference", str(reference_path),
                        "--json"], check=True, capture_output=True, timeout=3600)
        return time.perf_counter() - start, len(tune) + len(reference)


def judge_in_process(megabytes: float) -> None:
    """Read from a file as `livegen eval FILE` reads it, then judged by the form reader and copy check."""
    from livegen.offline.copy_check import CopyIndex
    from livegen.offline.evaluate import judge_tune, read_abc_texts

    copies = CopyIndex([identical_bars_tune(64, "Reference")])
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "tune.abc"
        path.write_text(chord_symbols_tune(int(megabytes * 1e6 / 5.28)))  # 5.28 characters per symbol
        size = path.stat().st_size
        peak_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.process_time()
        for text in read_abc_texts(path):
            judge_tune(text, None, copies)
    seconds = time.process_time() - start
    grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - peak_before) / 1024
    print(f"| {size / 1e6:.1f} MB, one tune | {seconds:.1f} s CPU | peak memory +{grown:.0f} MB |", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 2000, 4000, 8000, 16000],
                        help="chord symbols in case 1, bars in case 2")
    parser.add_argument("--in-process-mb", type=float, nargs="*", default=[],
                        help="also judge one tune of each size in MB in this process (run the sizes smallest first)")
    arguments = parser.parse_args()
    small = identical_bars_tune(8, "Small")
    print("| case | size | input KB | seconds | ms per KB |")
    print("| --- | --- | --- | --- | --- |")
    for size in arguments.sizes:
        seconds, characters = time_eval(chord_symbols_tune(size), small)
        print(f"| chord symbols | {size:,} symbols | {characters / 1024:.0f} | {seconds:.2f} | "
              f"{1000 * seconds / (characters / 1024):.1f} |", flush=True)
    for size in arguments.sizes:
        seconds, characters = time_eval(identical_bars_tune(size, "Copy", last_bar="GABc d4|"),
                                        identical_bars_tune(size, "Reference"))
        print(f"| identical bars, --reference | {size:,} bars each | {characters / 1024:.0f} | {seconds:.2f} | "
              f"{1000 * seconds / (characters / 1024):.1f} |", flush=True)
    if arguments.in_process_mb:
        print("\n| input | form reader and copy check | peak memory |\n| --- | --- | --- |")
    for megabytes in arguments.in_process_mb:
        judge_in_process(megabytes)


if __name__ == "__main__":
    main()
