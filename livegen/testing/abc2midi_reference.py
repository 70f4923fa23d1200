"""What abc2midi, the reference ABC player, makes of a tune.

Tests compare livegen's own reading of ABC (the corpus normaliser, the
streaming parser) against the notes abc2midi writes, so this module runs the
real program on a temporary file and reads its MIDI back with mido.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mido


@dataclass(frozen=True)
class ReferenceNote:
    track: int
    channel: int
    pitch: int
    on_tick: int
    off_tick: int


@dataclass(frozen=True)
class ReferenceMidi:
    ticks_per_beat: int
    notes: tuple[ReferenceNote, ...]

    def track_notes(self, track: int) -> list[ReferenceNote]:
        return [note for note in self.notes if note.track == track]

    def channel_notes(self, *channels: int) -> list[ReferenceNote]:
        """Notes on the given channels: 0 is the melody; 1 (bass) and 2 (chords) the gchord accompaniment.

        A tune without chord symbols comes out as a one-track file, so the
        channel, not the track, is what tells the melody apart.
        """
        return [note for note in self.notes if note.channel in channels]


def abc2midi_available() -> bool:
    return shutil.which("abc2midi") is not None


def render_with_abc2midi(abc_text: str) -> ReferenceMidi:
    """Run abc2midi on one tune and return every note it wrote, in order."""
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "tune.abc"
        target = Path(tmp) / "tune.mid"
        source.write_text(abc_text, encoding="latin-1", errors="replace")
        subprocess.run(
            ["abc2midi", str(source), "-o", str(target), "-silent"],
            check=True,
            capture_output=True,
            timeout=30,
        )
        midi = mido.MidiFile(target)
    return ReferenceMidi(midi.ticks_per_beat, tuple(_paired_notes(midi)))


def render_tunes_with_abc2midi(abc_text: str) -> dict[int, ReferenceMidi]:
    """Run abc2midi once on a text of many tunes; the notes of each, by X: number.

    One run per file is much faster than one per tune: without -o abc2midi
    writes a MIDI file for every X: it finds.
    """
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "tunes.abc"
        source.write_text(abc_text, encoding="latin-1", errors="replace")
        subprocess.run(
            ["abc2midi", source.name, "-silent"],
            cwd=tmp,
            check=False,  # it reports trouble in single tunes with a non-zero status
            capture_output=True,
            timeout=120,
        )
        rendered = {}
        for target in Path(tmp).glob("tunes*.mid"):
            number = target.stem.removeprefix("tunes")
            if number.isdigit():
                rendered[int(number)] = read_midi_notes(target.read_bytes())
    return rendered


def read_midi_notes(data: bytes) -> ReferenceMidi:
    """The notes of a Standard MIDI File, as render_with_abc2midi reads them with mido.

    A plain reader of note-on/off events, several times faster than mido:
    reading a thousand tunes with mido takes longer than everything else in
    the corpus comparison together.
    """
    if data[:4] != b"MThd":
        raise ValueError("not a Standard MIDI File")
    header_length = int.from_bytes(data[4:8], "big")
    ticks_per_beat = int.from_bytes(data[12:14], "big")
    position = 8 + header_length
    track_index = 0
    notes: list[ReferenceNote] = []
    while position + 8 <= len(data):
        length = int.from_bytes(data[position + 4 : position + 8], "big")
        if data[position : position + 4] == b"MTrk":
            notes.extend(_track_notes(data[position + 8 : position + 8 + length], track_index))
            track_index += 1
        position += 8 + length
    return ReferenceMidi(ticks_per_beat, tuple(notes))


_DATA_BYTES = {0x8: 2, 0x9: 2, 0xA: 2, 0xB: 2, 0xC: 1, 0xD: 1, 0xE: 2}


def _track_notes(track: bytes, track_index: int) -> list[ReferenceNote]:
    tick = 0
    position = 0
    status = 0
    sounding: dict[tuple[int, int], list[int]] = {}
    finished = []
    while position < len(track):
        delta, position = _variable_length(track, position)
        tick += delta
        if track[position] & 0x80:
            status = track[position]
            position += 1
        if status == 0xFF:
            length, position = _variable_length(track, position + 1)
            position += length
            continue
        if status in (0xF0, 0xF7):
            length, position = _variable_length(track, position)
            position += length
            continue
        kind, channel = status >> 4, status & 0x0F
        payload = track[position : position + _DATA_BYTES[kind]]
        position += _DATA_BYTES[kind]
        if kind not in (0x8, 0x9):
            continue
        key = (channel, payload[0])
        if kind == 0x9 and payload[1] > 0:
            sounding.setdefault(key, []).append(tick)
        elif sounding.get(key):
            finished.append(ReferenceNote(track_index, channel, payload[0], sounding[key].pop(0), tick))
    finished.sort(key=lambda note: (note.on_tick, note.channel, note.pitch))
    return finished


def _variable_length(data: bytes, position: int) -> tuple[int, int]:
    value = 0
    while True:
        byte = data[position]
        position += 1
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, position


def _paired_notes(midi: mido.MidiFile):
    for track_index, track in enumerate(midi.tracks):
        tick = 0
        sounding: dict[tuple[int, int], list[int]] = {}
        finished = []
        for message in track:
            tick += message.time
            if message.type not in ("note_on", "note_off"):
                continue
            key = (message.channel, message.note)
            if message.type == "note_on" and message.velocity > 0:
                sounding.setdefault(key, []).append(tick)
            elif sounding.get(key):
                on_tick = sounding[key].pop(0)
                finished.append(ReferenceNote(track_index, message.channel, message.note, on_tick, tick))
        finished.sort(key=lambda note: (note.on_tick, note.channel, note.pitch))
        yield from finished
