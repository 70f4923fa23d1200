"""Per-character cost of the streaming ABC parser over the whole Nottingham corpus.

The live loop feeds the parser one character per model step (about 100 us),
so the parser must stay under a tenth of that: 10 us per character.

    python bench/parser_speed.py [CORPUS_DIR]

Prints the best of several runs of feeding every file one character at a
time through ``feed`` (the live path) and all at once through ``feed_text``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from livegen.abc import AbcStreamParser
from livegen.offline.default_corpus import DEFAULT_CORPUS

BUDGET_US = 10.0
REPEATS = 5


def per_char_feed(texts: list[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        parser = AbcStreamParser()
        feed = parser.feed
        for char in text:
            feed(char)
        parser.flush()
    return time.perf_counter() - start


def whole_text_feed(texts: list[str]) -> float:
    start = time.perf_counter()
    for text in texts:
        parser = AbcStreamParser()
        parser.feed_text(text)
        parser.flush()
    return time.perf_counter() - start


def main() -> int:
    corpus = Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_CORPUS
    texts = [path.read_text(encoding="latin-1") for path in sorted(corpus.glob("*.abc"))]
    chars = sum(len(text) for text in texts)
    if not chars:
        print(f"no .abc files in {corpus}", file=sys.stderr)
        return 2
    feed_us = min(per_char_feed(texts) for _ in range(REPEATS)) / chars * 1e6
    text_us = min(whole_text_feed(texts) for _ in range(REPEATS)) / chars * 1e6
    print(f"{len(texts)} files, {chars} characters")
    print(f"feed(char):      {feed_us:.2f} us/char")
    print(f"feed_text(text): {text_us:.2f} us/char")
    print(f"budget:          {BUDGET_US:.2f} us/char ({'ok' if feed_us < BUDGET_US else 'OVER'})")
    return 0 if feed_us < BUDGET_US else 1


if __name__ == "__main__":
    sys.exit(main())
