"""The session recording: each tune's ABC as it is written, and a MIDI file of what was actually sent.

A session is one folder holding session.abc and session.mid, written ahead:
the ABC grows character by character as the model writes it, and both files
are brought up to date at every bar line the model writes (about a bar
before it sounds) and at least every FLUSH_S. A
SIGKILL at any moment therefore loses at most the last bar, and every file
left behind opens: session.abc is only ever appended to, and session.mid is
rewritten whole beside the old one and renamed over it, so at every instant
it is either the previous complete file or the new complete one. (Patching
the length fields of a growing file in place would be cheaper, but a kill
between writing the events and patching the lengths leaves a file no reader
opens; a rewrite of the few hundred kilobytes an hour of music makes costs
well under a millisecond per bar.) Nothing is fsynced: a killed process
loses nothing the kernel already holds, and a power cut is not this
module's to survive.

A folder that can't be written (read-only, full, removed) is a warning, not
an error: the music goes on, what could not be written is kept in memory,
and the next flush that succeeds writes all of it, with a second warning
saying recording has resumed.

What was sent is taken at the port (RecordingPort wraps the one the output
thread sends through), so the file holds what a listener heard: the
humanised times, the note-offs of a panic, the All Notes Off at the end.
The output thread only queues (time, bytes) and the generation thread only
queues characters; the writer thread does all the file work, so a slow or
failing disk never delays a note. It encodes sent messages into per-channel
MIDI track bytes as it goes, so memory grows by a few bytes per message and
a rewrite is one concatenation, however long the session.
"""

from __future__ import annotations

import contextlib
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
from livegen.realtime.output import Port, name_os_thread

log = logging.getLogger(__name__)

FLUSH_S = 1.0  # longest time anything sent or written waits for the files (bar lines flush sooner)
BAR_ENDS = frozenset("|\n")  # characters after which the files are brought up to date


def default_sessions_folder() -> Path:
    """Where sessions go unless --record says otherwise: the per-user data folder of this OS."""
    return platformdirs.user_data_path("livegen", appauthor=False) / "sessions"


class SessionRecorder:
    """One session folder, kept current by a writer thread of its own; see the module docstring."""

    def __init__(self, parent: Path | None, tempo_bpm: float):
        self.folder = _new_folder(parent if parent is not None else default_sessions_folder())
        self.abc_path = self.folder / "session.abc"
        self.midi_path = self.folder / "session.mid"
        self._tracks = _Tracks(tempo_bpm)
        self._sent: deque[tuple[float, bytes]] = deque()  # from the output thread, until the writer encodes them
        self._abc: deque[str] = deque()  # from the generation thread, until the writer takes them
        self._tune_characters = 0  # how many characters of the tune being written are in self._abc already
        self._abc_unwritten = bytearray()  # taken by the writer, not yet in session.abc (the folder failed)
        self._midi_behind = False  # session.mid lacks messages the writer has encoded
        self._failing: str | None = None  # why the last flush failed; None while the files are current
        self._due = threading.Event()  # a bar line was written, a tune ended, or the session is closing
        self._closing = False
        self._writer = threading.Thread(target=self._write_when_due, name="livegen-recorder", daemon=True)
        self._writer.start()

    def port(self, port: Port) -> RecordingPort:
        return RecordingPort(port, self._sent)

    def tune_progress(self, characters: list[str]) -> None:
        """The tune being written, so far (the same list, grown): its new characters go to session.abc,
        at once when they end a bar or a line. Newlines at its end wait: a tune's last ones are not its own
        (tune_finished puts one blank line between tunes, whatever the model wrote)."""
        new = characters[self._tune_characters:]
        end = len(characters)
        while end > self._tune_characters and characters[end - 1] == "\n":
            end -= 1
        if end > self._tune_characters:
            self._abc.append("".join(characters[self._tune_characters:end]))
            self._tune_characters = end
        if not BAR_ENDS.isdisjoint(new):
            self._due.set()

    def tune_finished(self, text: str, finished: bool = True) -> None:
        """The whole tune (what tune_progress has not had yet is added), marked if it was cut short, and a
        blank line after it."""
        rest = text[self._tune_characters:].rstrip("\n")
        self._tune_characters = 0
        marker = "" if finished else "% unfinished: livegen stopped writing this tune here\n"
        self._abc.append(rest + "\n" + marker + "\n")
        self._due.set()

    def write_error_log(self, text: str) -> Path | None:
        """error.log in the session folder; None (and a warning) where it can't be written."""
        path = self.folder / "error.log"
        try:
            path.write_text(text, encoding="utf-8")
        except OSError as error:
            log.warning("could not write %s: %s", path, error.strerror or error)
            return None
        return path

    def close(self) -> None:
        """Stop the writer and bring the files up to date a last time (after the output thread's final messages)."""
        self._closing = True
        self._due.set()
        self._writer.join()
        self._flush()
        if self._failing is not None:
            log.warning("the session recording in %s is incomplete: %s", self.folder, self._failing)

    def _write_when_due(self) -> None:
        name_os_thread()
        while not self._closing:
            self._due.wait(FLUSH_S)  # a wake a second at most: messages sent after the last bar line (a stop's
            self._due.clear()  # note-offs) must not wait for the next one
            if not self._closing:
                self._flush()

    def _flush(self) -> None:
        while self._sent:
            self._tracks.add(*self._sent.popleft())
            self._midi_behind = True
        while self._abc:
            self._abc_unwritten += self._abc.popleft().encode("utf-8")
        try:
            self._write_abc()
            self._write_midi()
        except OSError as error:
            reason = f"{error.filename or self.folder}: {error.strerror or error}"
            if self._failing is None:
                log.warning("recording paused, the music goes on: could not write %s; "
                            "recording resumes once the folder can be written", reason)
            self._failing = reason
            return
        if self._failing is not None:
            log.warning("recording resumed: %s is up to date again", self.folder)
            self._failing = None

    def _write_abc(self) -> None:
        """Append what is unwritten; what a full disk refuses stays for the next flush."""
        if not self._abc_unwritten:
            return
        with open(self.abc_path, "ab", buffering=0) as abc:
            while self._abc_unwritten:
                written = abc.write(self._abc_unwritten)
                del self._abc_unwritten[:written]

    def _write_midi(self) -> None:
        """A complete new file beside the old one, then renamed over it: never half a file under its name."""
        if not self._midi_behind:
            return
        partial = self.midi_path.with_suffix(".mid.partial")
        try:
            partial.write_bytes(self._tracks.file())
            os.replace(partial, self.midi_path)
        except OSError:
            with contextlib.suppress(OSError):
                partial.unlink()  # a full disk leaves a truncated one, which nothing can read
            raise
        self._midi_behind = False


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
