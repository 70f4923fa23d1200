"""From a tune's timeline to the notes a band would play: melody, voiced chords, a bass.

The same arrangement feeds the live player, `livegen generate` and `livegen
render`, so a MIDI file and the live port never disagree. Times here are in
beats (quarter notes) from the start of the tune, as exact fractions.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from livegen.abc import ChordSymbol, TimedBar, TimedChordSymbol, TimedNote

BEATS_PER_WHOLE = 4
CHORD_LOW = 52  # E3: close-position chords sit between here and an octave and a half above
BASS_LOW = 36  # C2: the bass note sits in the octave from here


@dataclass(frozen=True)
class ArrangementSettings:
    """How the tune is voiced and where it goes. Channels are 0-based (MIDI channel 1 is 0)."""

    melody_channel: int = 0
    chord_channel: int | None = 1  # None: no accompaniment
    bass: bool = True
    velocity: int = 90
    chord_velocity: int = 62
    accent: int = 14  # added to the first note of each bar, half of it on the other strong beats
    transpose: int = 0
    lowest: int = 21
    highest: int = 108


@dataclass(frozen=True, order=True)
class PerformedNote:
    start: Fraction  # beats from the start of the tune
    duration: Fraction  # beats
    channel: int
    pitch: int
    velocity: int


def arrange(items: list, settings: ArrangementSettings = ArrangementSettings()) -> list[PerformedNote]:
    """Melody notes with accents, and each chord symbol held until the next one (or the end)."""
    bars = [item for item in items if isinstance(item, TimedBar)]
    melody = [item for item in items if isinstance(item, TimedNote)]
    notes = [
        PerformedNote(
            _beats(note.onset), _beats(note.duration), settings.melody_channel,
            fit_range(note.pitch + settings.transpose, settings.lowest, settings.highest),
            _clamp_velocity(settings.velocity + accent(note.onset, bars, settings.accent)),
        )
        for note in melody
        if not note.grace and note.duration > 0
    ]
    if settings.chord_channel is not None:
        end = max((note.onset + note.duration for note in melody), default=Fraction(0))
        chords = [item for item in items if isinstance(item, TimedChordSymbol)]
        for current, following in zip(chords, chords[1:] + [None]):
            until = following.onset if following is not None else end
            if until > current.onset:
                notes += [
                    PerformedNote(_beats(current.onset), _beats(until - current.onset), settings.chord_channel,
                                  pitch + settings.transpose, settings.chord_velocity)
                    for pitch in voice_chord(current.symbol, settings.bass)
                ]
    return sorted(notes)


def voice_chord(symbol: ChordSymbol, bass: bool = True) -> list[int]:
    """Close position above CHORD_LOW, plus the bass (or the root) an octave or two below."""
    pitches = []
    for interval in symbol.intervals:
        pitch = CHORD_LOW + (symbol.root + interval - CHORD_LOW) % 12
        while pitches and pitch <= pitches[-1]:
            pitch += 12
        pitches.append(pitch)
    if bass:
        root = symbol.bass if symbol.bass is not None else symbol.root
        pitches.insert(0, BASS_LOW + (root - BASS_LOW) % 12)
    return pitches


def accent(onset: Fraction, bars: list[TimedBar], amount: int) -> int:
    """Full accent on each downbeat, half on the bar's other strong beats (e.g. beat 4 of 6/8).

    Before the first bar line (a pickup) the bar is counted back from it.
    """
    if not bars:
        return 0
    preceding = [bar for bar in bars if bar.onset <= onset]
    bar = preceding[-1] if preceding else bars[0]
    meter = bar.meter
    if meter is None or not meter.bar_length or not meter.numerator:
        return amount if preceding and onset == bar.onset else 0
    start = bar.onset if preceding else bar.onset - meter.bar_length
    position = onset - start
    if position % meter.bar_length == 0:
        return amount
    beats_per_bar = meter.numerator // 3 if meter.compound else meter.numerator
    strong = meter.bar_length / beats_per_bar * (1 if meter.compound or beats_per_bar < 4 else 2)
    return amount // 2 if position % strong == 0 else 0


def fit_range(pitch: int, lowest: int, highest: int) -> int:
    """Move a pitch by octaves into [lowest, highest] (the range must span an octave)."""
    while pitch < lowest:
        pitch += 12
    while pitch > highest:
        pitch -= 12
    return pitch


def _beats(whole_notes: Fraction) -> Fraction:
    return whole_notes * BEATS_PER_WHOLE


def _clamp_velocity(velocity: int) -> int:
    return max(1, min(127, velocity))
