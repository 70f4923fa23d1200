"""Warnings about bad input that can't flood the log: one line per kind per interval.

A controller sending garbage (or a flood of it) must never drown the status
line or slow the process with logging, yet the musician should learn that
something is wrong: the first problem of each kind is logged at once, the
rest are counted and summed up in the next line of that kind. Every line is
cut to MAX_LINE_CHARS, whatever a client managed to put in it.
"""

from __future__ import annotations

import logging
import threading
import time

INTERVAL_S = 5.0
MAX_LINE_CHARS = 300


class RateLimitedLog:
    def __init__(self, logger: logging.Logger, interval_s: float = INTERVAL_S):
        self._logger = logger
        self._interval_s = interval_s
        self._last: dict[str, float] = {}  # kind: when its last line was logged
        self._suppressed: dict[str, int] = {}
        self._lock = threading.Lock()

    def warn(self, kind: str, text: str) -> None:
        now = time.monotonic()
        with self._lock:
            if now - self._last.get(kind, -self._interval_s) < self._interval_s:
                self._suppressed[kind] = self._suppressed.get(kind, 0) + 1
                return
            self._last[kind] = now
            suppressed = self._suppressed.pop(kind, 0)
        if len(text) > MAX_LINE_CHARS:
            text = f"{text[:MAX_LINE_CHARS]}... ({len(text) - MAX_LINE_CHARS:,} more characters)"
        more = f" ({suppressed} more like it since the last report)" if suppressed else ""
        self._logger.warning("%s%s", text, more)
