"""Performed notes as a standard MIDI file (what `generate`, `render` and the session recording write).

One track per channel after a conductor track with the tempo and metre, so a
DAW that imports the file puts melody and chords on tracks of their own.

ABC can say things a MIDI file cannot hold (M:300/4, M:5/7, Q:1/9999=1, a
note a million beats long). Those are written as near as the file allows,
each with one warning line, rather than failing after the work of composing.
"""

from __future__ import annotations

import logging
from fractions import Fraction
from pathlib import Path

import mido

from livegen.abc.fields import Meter
from livegen.perform.arrangement import PerformedNote

log = logging.getLogger(__name__)

TICKS_PER_BEAT = 480  # divisible by 2, 3, 4, 5, 6, 8, 16: tuplets land on whole ticks
MAX_NUMERATOR = 255  # a time signature's numerator is one byte ...
MAX_DENOMINATOR_POWER = 255  # ... and its denominator a power of 2, stored as the exponent
MAX_TEMPO_US = 0xFFFFFF  # microseconds per quarter note, three bytes: about 3.58 BPM at the slowest
MIN_TEMPO_US = 1
MAX_DELTA_TICKS = 0x0FFFFFFF  # the longest time between two events: a variable-length number of four bytes


def time_signature(meter: Meter) -> tuple[int, int] | None:
    """The (numerator, denominator) of an ABC metre as written (6/8 stays 6/8); None for free metre."""
    if meter.bar_length is None or not meter.numerator:
        return None
    return meter.numerator, (meter.bar_length / meter.numerator).denominator


def time_signature_problem(signature: tuple[int, int]) -> str | None:
    """Why a MIDI file cannot hold this time signature, or None when it can."""
    numerator, denominator = signature
    if numerator > MAX_NUMERATOR:
        return f"a MIDI file holds numerators up to {MAX_NUMERATOR}"
    if denominator & (denominator - 1) or denominator.bit_length() - 1 > MAX_DENOMINATOR_POWER:
        return "a MIDI file holds only denominators that are powers of 2"
    return None


def performance_to_midi(notes: list[PerformedNote], tempo_bpm: float, title: str = "",
                        meter: tuple[int, int] | None = None, where: str = "MIDI file") -> mido.MidiFile:
    """The file; what it cannot hold is adjusted with a warning naming `where`."""
    midi = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    conductor = mido.MidiTrack()
    if title:
        conductor.append(mido.MetaMessage("track_name", name=title[:120]))
    conductor.append(mido.MetaMessage("set_tempo", tempo=_tempo(tempo_bpm, where)))
    if meter is not None:
        problem = time_signature_problem(meter)
        if problem is None:
            conductor.append(mido.MetaMessage("time_signature", numerator=meter[0], denominator=meter[1]))
        else:
            log.warning("%s: the metre %d/%d is left out: %s", where, *meter, problem)
    midi.tracks.append(conductor)
    for channel in sorted({note.channel for note in notes}):
        midi.tracks.append(_channel_track([note for note in notes if note.channel == channel], where))
    return midi


def write_midi(notes: list[PerformedNote], path: Path, tempo_bpm: float, title: str = "",
               meter: tuple[int, int] | None = None) -> None:
    performance_to_midi(notes, tempo_bpm, title, meter, where=str(path)).save(path)


def _tempo(tempo_bpm: float, where: str) -> int:
    """Microseconds per quarter note, clamped to what the set_tempo message holds."""
    microseconds = round(60_000_000 / tempo_bpm)
    clamped = min(max(microseconds, MIN_TEMPO_US), MAX_TEMPO_US)
    if clamped != microseconds:
        log.warning("%s: the tempo %.4g BPM is %s than a MIDI file can hold: written as %.4g BPM", where,
                    tempo_bpm, "slower" if microseconds > clamped else "faster", 60_000_000 / clamped)
    return clamped


def _channel_track(notes: list[PerformedNote], where: str) -> mido.MidiTrack:
    """Note-offs sort before note-ons at the same tick, so repeated pitches re-strike cleanly."""
    timed = []
    for note in notes:
        timed.append((_ticks(note.start), 1, mido.Message("note_on", channel=note.channel, note=note.pitch,
                                                           velocity=note.velocity)))
        timed.append((_ticks(note.start + note.duration), 0,
                      mido.Message("note_off", channel=note.channel, note=note.pitch, velocity=0)))
    timed.sort(key=lambda item: (item[0], item[1]))
    track = mido.MidiTrack()
    previous = shortened = 0
    for tick, _, message in timed:
        delta = tick - previous
        if delta > MAX_DELTA_TICKS:
            delta, shortened = MAX_DELTA_TICKS, shortened + 1
        track.append(message.copy(time=delta))
        previous = tick
    if shortened:
        log.warning("%s: channel %d: %d wait(s) between events longer than a MIDI file can hold "
                    "(%d beats), each shortened to that", where, notes[0].channel + 1, shortened,
                    MAX_DELTA_TICKS // TICKS_PER_BEAT)
    return track


def _ticks(beats: Fraction) -> int:
    return round(beats * TICKS_PER_BEAT)
