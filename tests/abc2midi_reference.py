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
