"""`livegen render` on huge one-line tunes: time and peak memory grow at most linearly, memory stays bounded.

    python bench/render_scaling.py [SIZE_MB ...]   (default: 1 20)

Each size is a tune of that many megabytes written as one line of music
(chord symbols, notes, bar lines, a repeat), rendered by the `livegen render`
command in a child process; its wall time and peak resident memory are
reported. The parser reads the whole input (linear time); the tune is kept
to livegen.abc.collection.MAX_TUNE_EVENTS events, so what comes after the
parser holds a bounded amount.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BAR = '"G"GABc "D7"dcBA|'
HEADER = "X:1\nT:huge\nM:4/4\nL:1/8\nK:G\n|:"


def write_tune(path: Path, megabytes: float) -> int:
    bars = int(megabytes * 1_000_000) // len(BAR)
    text = HEADER + BAR * bars + ":|\n"
    path.write_text(text, encoding="latin-1")
    return len(text)


def render(path: Path, out: Path) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB, and the last line `livegen render` printed."""
    start = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "livegen.cli.main", "render", str(path), "-o", str(out)],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output = child.stdout.read()
    _, status, usage = os.wait4(child.pid, 0)
    child.returncode = os.waitstatus_to_exitcode(status)
    elapsed = time.perf_counter() - start
    if child.returncode:
        raise SystemExit(f"livegen render failed ({child.returncode}):\n{output}")
    return elapsed, usage.ru_maxrss / 1024, output.strip().splitlines()[-1]


def main() -> int:
    sizes = [float(argument) for argument in sys.argv[1:]] or [1.0, 20.0]
    with tempfile.TemporaryDirectory() as folder:
        for megabytes in sizes:
            path = Path(folder) / f"huge-{megabytes:g}mb.abc"
            characters = write_tune(path, megabytes)
            seconds, peak_mb, last = render(path, Path(folder) / "out")
            print(f"{megabytes:g} MB ({characters:,} characters): {seconds:.1f} s, "
                  f"{seconds / characters * 1e6:.2f} us/char, peak RSS {peak_mb:.0f} MB")
            print(f"    {last}")
            path.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
