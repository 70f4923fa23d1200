"""From a tune's timeline to the notes a band would play: melody, voiced chords, a bass.

The same arrangement feeds the live player, `livegen generate` and `livegen
render`, so a MIDI file and the live port never disagree. Times here are in
beats (quarter notes) from the start of the tune, as exact fractions.
"""

from __future__ import annotations

from bisect import bisect_right
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
    """A whole tune: melody with accents, and each chord symbol held until the next one (or the end)."""
    chords = [item for item in items if isinstance(item, TimedChordSymbol)]
    end = max((note.onset + note.duration for note in items if isinstance(note, TimedNote)), default=Fraction(0))
    voiced = [note for current, following in zip(chords, chords[1:] + [None])
              for note in arrange_chord(current, following.onset if following else end, settings)]
    return sorted(arrange_melody(items, settings) + voiced)


def arrange_melody(items: list, settings: ArrangementSettings, first: int = 0) -> list[PerformedNote]:
    """The melody notes of timeline items, in order, transposed into range and accented.

    From melody note number `first` on: the live player arranges only what it
    has not handed out yet, which keeps a long tune from costing ever more.
    """
    bars = [item.onset for item in items if isinstance(item, TimedBar)]
    meters = {item.onset: item.meter for item in items if isinstance(item, TimedBar)}
    melody = [note for note in items if isinstance(note, TimedNote) and not note.grace and note.duration > 0]
    return [
        PerformedNote(
            _beats(note.onset), _beats(note.duration), settings.melody_channel,
            fit_range(note.pitch + settings.transpose, settings.lowest, settings.highest),
            clamp_velocity(settings.velocity + accent(note.onset, bars, meters, settings.accent)),
        )
        for note in melody[first:]
    ]


def arrange_chord(chord: TimedChordSymbol, until: Fraction, settings: ArrangementSettings) -> list[PerformedNote]:
    """One chord symbol voiced and held from its onset until `until` (whole notes); none if chords are off."""
    if until <= chord.onset:
        return []
    return [PerformedNote(_beats(chord.onset), _beats(until - chord.onset), settings.chord_channel, pitch,
                          settings.chord_velocity) for pitch in chord_pitches(chord.symbol, settings)]


def chord_pitches(symbol: ChordSymbol, settings: ArrangementSettings) -> list[int]:
    """The pitches a chord symbol sounds on the chord channel, transposed; none if chords are off."""
    if settings.chord_channel is None:
        return []
    return [pitch + settings.transpose for pitch in voice_chord(symbol, settings.bass)]


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


def accent(onset: Fraction, bars: list[Fraction], meters: dict, amount: int) -> int:
    """Full accent on each downbeat, half on the bar's other strong beats (e.g. beat 4 of 6/8).

    Bars are counted from the last bar line before the note, or from the
    start of the tune: a note is placed only by what was written before it,
    so the live player, which cannot wait for the next bar line, agrees.
    """
    index = bisect_right(bars, onset)
    start = bars[index - 1] if index else Fraction(0)
    meter = meters.get(start) if index else None
    position = onset - start
    if position == 0:
        return amount
    if meter is None or not meter.numerator or not meter.bar_length:
        return 0
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


def clamp_velocity(velocity: int) -> int:
    return max(1, min(127, velocity))
