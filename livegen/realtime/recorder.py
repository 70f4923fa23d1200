"""The session recording: each tune's ABC as it was written, and a MIDI file of what was actually sent.

A session is one folder holding session.abc and session.mid. The ABC is
appended and flushed as each tune ends; session.mid is rewritten at every
tune end and at exit (written beside and then renamed over the old one), so
a crash loses at most the tune being played.

What was sent is taken at the port (RecordingPort wraps the one the output
thread sends through), so the file holds what a listener heard: the
humanised times, the note-offs of a panic, the All Notes Off at the end.
The output thread only queues (time, bytes); a writer thread of its own
encodes them into per-channel MIDI track bytes as it goes, so memory grows
by a few bytes per message and a rewrite is one concatenation, however
long the session.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import time
from collections import deque
from datetime import datetime
from pathlib import Path

import mido
import platformdirs

from livegen.errors import LivegenError
from livegen.perform.midi_file import TICKS_PER_BEAT
from livegen.realtime.output import Port

log = logging.getLogger(__name__)


def default_sessions_folder() -> Path:
    """Where sessions go unless --record says otherwise: the per-user data folder of this OS."""
    return platformdirs.user_data_path("livegen", appauthor=False) / "sessions"


class SessionRecorder:
    """One session folder; tune_finished() and close() keep its files current."""

    def __init__(self, parent: Path | None, tempo_bpm: float):
        self.folder = _new_folder(parent if parent is not None else default_sessions_folder())
        self.abc_path = self.folder / "session.abc"
        self.midi_path = self.folder / "session.mid"
        self._tracks = _Tracks(tempo_bpm)
        self._sent: deque[tuple[float, bytes]] = deque()  # from the output thread, until the writer encodes them
        self._due = threading.Event()  # session.mid is behind
        self._closing = False
        self._writer = threading.Thread(target=self._write_when_due, name="livegen-recorder", daemon=True)
        self._writer.start()

    def port(self, port: Port) -> RecordingPort:
        return RecordingPort(port, self._sent)

    def tune_finished(self, text: str, finished: bool = True) -> None:
        """Append a tune's ABC (marked if it was cut short); session.mid follows on the writer thread."""
        text = text.rstrip("\n") + "\n"
        if not finished:
            text += "% unfinished: livegen stopped writing this tune here\n"
        with self.abc_path.open("a", encoding="utf-8") as abc:
            abc.write(text + "\n")
        self._due.set()

    def close(self) -> None:
        """Stop the writer and write session.mid a last time (after the output thread's final messages)."""
        self._closing = True
        self._due.set()
        self._writer.join()
        self._write_midi()

    def _write_when_due(self) -> None:
        while True:
            self._due.wait()
            self._due.clear()
            if self._closing:
                return
            self._write_midi()

    def _write_midi(self) -> None:
        while self._sent:
            self._tracks.add(*self._sent.popleft())
        partial = self.midi_path.with_suffix(".mid.partial")
        try:
            partial.write_bytes(self._tracks.file())
            os.replace(partial, self.midi_path)
        except OSError as error:
            log.error("could not write %s: %s", self.midi_path, error.strerror)


class RecordingPort:
    """A port that queues each message it sends, with its monotonic send time."""

    def __init__(self, port: Port, sent: deque[tuple[float, bytes]]):
        self._port = port
        self._sent = sent

    def send(self, message: mido.Message) -> None:
        self._port.send(message)
        self._sent.append((time.monotonic(), bytes(message.bytes())))

    def alive(self) -> bool:
        return self._port.alive()

    def close(self) -> None:
        self._port.close()


class _Tracks:
    """A type-1 standard MIDI file built up message by message: a conductor track, then one track per channel.

    Times count from the first message, in ticks at the nominal tempo (the
    session's --tempo; following MIDI clock, the seconds are still exact).
    """

    def __init__(self, tempo_bpm: float):
        self.ticks_per_second = tempo_bpm / 60.0 * TICKS_PER_BEAT
        name = b"livegen session"
        self.conductor = (b"\x00\xff\x03" + _variable(len(name)) + name
                          + b"\x00\xff\x51\x03" + mido.bpm2tempo(tempo_bpm).to_bytes(3, "big"))
        self.channels: dict[int, bytearray] = {}
        self.last_tick: dict[int, int] = {}
        self.origin: float | None = None

    def add(self, at: float, data: bytes) -> None:
        if data[0] >= 0xF0:  # not a channel message: the daemon sends none
            return
        if self.origin is None:
            self.origin = at
        channel = data[0] & 0x0F
        tick = max(round((at - self.origin) * self.ticks_per_second), self.last_tick.get(channel, 0))
        track = self.channels.setdefault(channel, bytearray())
        track += _variable(tick - self.last_tick.get(channel, 0)) + data
        self.last_tick[channel] = tick

    def file(self) -> bytes:
        tracks = [self.conductor, *(bytes(self.channels[channel]) for channel in sorted(self.channels))]
        chunks = b"".join(b"MTrk" + struct.pack(">I", len(track) + 4) + track + b"\x00\xff\x2f\x00"
                          for track in tracks)
        return b"MThd" + struct.pack(">IHHH", 6, 1, len(tracks), TICKS_PER_BEAT) + chunks


def _variable(value: int) -> bytes:
    """A MIDI variable-length quantity: 7 bits a byte, most significant first, high bit set on all but the last."""
    groups = [value & 0x7F]
    while value > 0x7F:
        value >>= 7
        groups.append(0x80 | (value & 0x7F))
    return bytes(reversed(groups))


def _new_folder(parent: Path) -> Path:
    """parent/<date-time>, with a number added if a session started in the same second."""
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    for attempt in range(1, 100):
        folder = parent / (stamp if attempt == 1 else f"{stamp}-{attempt}")
        try:
            folder.mkdir(parents=True)
            return folder
        except FileExistsError:
            continue
        except OSError as error:
            raise LivegenError(f"cannot create the session folder {folder}: {error.strerror}") from None
    raise LivegenError(f"cannot create a session folder under {parent}: too many sessions this second")
