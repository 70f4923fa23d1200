"""The session recording: each tune's ABC as it was written, and a MIDI file of what was actually sent.

A session is one folder holding session.abc and session.mid. The ABC is
appended and flushed as each tune ends; the MIDI file is rebuilt from the
log of sent messages at every tune end and at exit (written beside and then
renamed over the old one), so a crash loses at most the tune being played.
The rebuild runs on a writer thread of its own: after an hour it takes a
good part of a second, which the generation thread can't spare.

The MIDI log is taken at the port (RecordingPort wraps the one the output
thread sends through), so the file holds what a listener heard: the
humanised times, the note-offs of a panic, the All Notes Off at the end.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from datetime import datetime
from pathlib import Path

import mido
import platformdirs

from livegen.errors import LivegenError
from livegen.midi_file import TICKS_PER_BEAT
from livegen.output import Port

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
        self.tempo_bpm = tempo_bpm  # the MIDI file's nominal tempo: it turns sent times into ticks
        self._sent: list[tuple[float, bytes]] = []  # appended by the output thread only; bytes: compact
        self._write = threading.Lock()
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

    def write_midi(self) -> None:
        """Rewrite session.mid from every message sent so far."""
        midi = sent_to_midi(list(self._sent), self.tempo_bpm)
        with self._write:
            partial = self.midi_path.with_suffix(".mid.partial")
            midi.save(partial)
            os.replace(partial, self.midi_path)

    def close(self) -> None:
        """Stop the writer and write session.mid a last time (after the output thread's final messages)."""
        self._closing = True
        self._due.set()
        self._writer.join()
        self._write_logged()

    def _write_when_due(self) -> None:
        while True:
            self._due.wait()
            self._due.clear()
            if self._closing:
                return
            self._write_logged()

    def _write_logged(self) -> None:
        try:
            self.write_midi()
        except OSError as error:
            log.error("could not write %s: %s", self.midi_path, error)


class RecordingPort:
    """A port that logs each message it sends, with its monotonic send time."""

    def __init__(self, port: Port, sent: list[tuple[float, bytes]]):
        self._port = port
        self._sent = sent

    def send(self, message: mido.Message) -> None:
        self._port.send(message)
        self._sent.append((time.monotonic(), bytes(message.bytes())))

    def alive(self) -> bool:
        return self._port.alive()

    def close(self) -> None:
        self._port.close()


def sent_to_midi(sent: list[tuple[float, bytes]], tempo_bpm: float) -> mido.MidiFile:
    """A type-1 file, one track per channel, times measured from the first message sent."""
    sent = [(at, mido.Message.from_bytes(data)) for at, data in sent]
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    midi.tracks.append(mido.MidiTrack([mido.MetaMessage("track_name", name="livegen session"),
                                       mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm))]))
    if not sent:
        return midi
    origin = sent[0][0]
    ticks_per_second = tempo_bpm / 60.0 * TICKS_PER_BEAT
    for channel in sorted({message.channel for _, message in sent if hasattr(message, "channel")}):
        track, previous = mido.MidiTrack(), 0
        for at, message in sent:
            if getattr(message, "channel", None) == channel:
                tick = round((at - origin) * ticks_per_second)
                track.append(message.copy(time=tick - previous))
                previous = tick
        midi.tracks.append(track)
    return midi


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
