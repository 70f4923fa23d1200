"""What the live player costs per character as a tune grows, fed one character at a time as the daemon feeds it.

    python bench/live_player.py          # a median-length, a long and the longest Nottingham tune

The live player recomputes the tune's played order and timeline whenever a
note arrives (repeats can replay any part), so its cost per character grows
with the tune; this prints, per tune, the total and worst time of
LivePlayer.add and the mean per character. For scale: one engine step of the
shipped model takes about 86 us (bench/step_latency.py).
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import datetime
from pathlib import Path

from livegen.abc import AbcStreamParser
from livegen.abc.collection import read_abc_file, split_tunes
from livegen.offline.default_corpus import DEFAULT_CORPUS
from livegen.perform.arrangement import ArrangementSettings
from livegen.perform.live_player import LivePlayer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    options = parser.parse_args()
    tunes = sorted((tune for path in sorted(options.corpus.glob("*.abc")) for tune in split_tunes(read_abc_file(path))),
                   key=len)
    print(f"{datetime.now():%Y-%m-%d %H:%M} {platform.node()} {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    for name, text in (("median", tunes[len(tunes) // 2]), ("long", tunes[-10]), ("longest", tunes[-1])):
        total, worst = cost(text)
        print(f"{name:8} tune, {len(text):5} characters: total {total * 1e3:6.0f} ms, worst add {worst * 1e3:5.1f} ms, "
              f"{total / len(text) * 1e6:5.0f} us per character")
    return 0


def cost(text: str) -> tuple[float, float]:
    """Total and worst seconds spent in LivePlayer.add over the tune."""
    parser, player = AbcStreamParser(), LivePlayer(ArrangementSettings())
    total = worst = 0.0
    for character in text + "\n\n":
        events = parser.feed(character)
        started = time.perf_counter()
        player.add(events)
        spent = time.perf_counter() - started
        total, worst = total + spent, max(worst, spent)
    return total, worst


if __name__ == "__main__":
    sys.exit(main())
