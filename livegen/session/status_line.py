"""The daemon's status in the terminal: one line rewritten in place on a TTY, one line per tune elsewhere.

A log handler that knows about the line (LineAwareHandler) clears it before
a message, so logs and the status never end up on the same line.
"""

from __future__ import annotations

import logging
import shutil
import sys
import threading
from dataclasses import dataclass
from typing import TextIO

CLEAR_LINE = "\r\x1b[K"


@dataclass(frozen=True)
class Status:
    tune: int  # 1 for the first tune of the session; 0 before any
    title: str
    key: str
    meter: str
    tempo_bpm: float
    temperature: float
    bar: int  # bar being heard, counted from 1 in the tune as played (repeats count again)
    state: str  # "playing", "waiting for MIDI clock", "MIDI port lost" ...
    clock: str = ""  # the clock and its session: "internal", "midi", "link, 2 peers"

    def line(self) -> str:
        tune = f"{self.tune}. {self.title or '(untitled)'}" if self.tune else "-"
        clock = f"{self.clock} | " if self.clock else ""
        return (f"{self.state} | {clock}{self.tempo_bpm:5.1f} BPM | temp {self.temperature:.2f} | "
                f"{self.key or '?'} {self.meter or '?'} | bar {self.bar:3d} | {tune}")


class StatusLine:
    """show(status) a few times a second; close() once at the end."""

    def __init__(self, stream: TextIO | None = None, enabled: bool = True):
        self.stream = stream if stream is not None else sys.stdout
        self.enabled = enabled
        self.in_place = enabled and self.stream.isatty()
        self._lock = threading.Lock()
        self._shown = ""  # the in-place line on screen, if any
        self._announced = 0  # the last tune given a line of its own (not in place)

    def show(self, status: Status) -> None:
        if not self.enabled:
            return
        with self._lock:
            if self.in_place:
                text = status.line()[:shutil.get_terminal_size().columns - 1]
                if text == self._shown:
                    return
                self.stream.write(CLEAR_LINE + text)
                self._shown = text
            elif status.tune > self._announced and status.title:
                self.stream.write(status.line() + "\n")
                self._announced = status.tune
            else:
                return
            self.stream.flush()

    def clear(self) -> None:
        """Take the in-place line off the screen (before a log message, and at the end)."""
        with self._lock:
            if self._shown:
                self.stream.write(CLEAR_LINE)
                self.stream.flush()
                self._shown = ""

    def close(self) -> None:
        self.clear()


class LineAwareHandler(logging.StreamHandler):
    """A stderr handler that clears the status line first when both share a terminal."""

    def __init__(self, status: StatusLine):
        super().__init__(sys.stderr)
        self.status = status

    def emit(self, record: logging.LogRecord) -> None:
        if self.status.in_place:
            self.status.clear()
        super().emit(record)
