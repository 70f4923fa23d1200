"""Performed notes as a standard MIDI file (what `generate`, `render` and the session recording write).

One track per channel after a conductor track with the tempo and metre, so a
DAW that imports the file puts melody and chords on tracks of their own.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import mido

from livegen.perform.arrangement import PerformedNote

TICKS_PER_BEAT = 480  # divisible by 2, 3, 4, 5, 6, 8, 16: tuplets land on whole ticks


def performance_to_midi(notes: list[PerformedNote], tempo_bpm: float, title: str = "",
                        meter: tuple[int, int] | None = None) -> mido.MidiFile:
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    conductor = mido.MidiTrack()
    if title:
        conductor.append(mido.MetaMessage("track_name", name=title[:120]))
    conductor.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(tempo_bpm)))
    if meter is not None:
        conductor.append(mido.MetaMessage("time_signature", numerator=meter[0], denominator=meter[1]))
    midi.tracks.append(conductor)
    for channel in sorted({note.channel for note in notes}):
        midi.tracks.append(_channel_track([note for note in notes if note.channel == channel]))
    return midi


def write_midi(notes: list[PerformedNote], path: Path, tempo_bpm: float, title: str = "",
               meter: tuple[int, int] | None = None) -> None:
    performance_to_midi(notes, tempo_bpm, title, meter).save(path)


def _channel_track(notes: list[PerformedNote]) -> mido.MidiTrack:
    """Note-offs sort before note-ons at the same tick, so repeated pitches re-strike cleanly."""
    timed = []
    for note in notes:
        timed.append((_ticks(note.start), 1, mido.Message("note_on", channel=note.channel, note=note.pitch,
                                                           velocity=note.velocity)))
        timed.append((_ticks(note.start + note.duration), 0,
                      mido.Message("note_off", channel=note.channel, note=note.pitch, velocity=0)))
    timed.sort(key=lambda item: (item[0], item[1]))
    track = mido.MidiTrack()
    previous = 0
    for tick, _, message in timed:
        track.append(message.copy(time=tick - previous))
        previous = tick
    return track


def _ticks(beats: Fraction) -> int:
    return round(beats * TICKS_PER_BEAT)
