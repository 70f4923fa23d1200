"""The melody livegen reads from ABC beside the one abc2midi plays, note for note.

Shared by tests/test_abc_against_abc2midi.py (every Nottingham tune) and
bench/abc_agreement.py (any folder of ABC). How abc2midi's MIDI is read,
checked on its output: 480 ticks a crotchet; every note-on comes one tick
after its onset and every note-off lands on its end; the melody is channel 0.

abc2midi is given the tune as written minus two performance habits: the
chords of its accompaniment are not spread (``%%MIDI chordattack 0``), and
R: lines are dropped (``R:hornpipe`` makes it swing straight quavers, its
own performance style; in ABC the R: field is only a label).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable

from livegen.abc import TimedNote
from livegen.abc.fields import field_line
from livegen.testing.abc2midi_reference import ReferenceMidi

RENDERING_DIRECTIVES = ("%%MIDI chordattack 0",)
ORNAMENTS = frozenset({"trill", "roll"})
MELODY = 0  # abc2midi's melody channel

Melody = list[tuple[int, int, int]]  # (onset, end, pitch) in abc2midi's ticks, sorted


def reference_input(text: str) -> str:
    """The ABC as abc2midi gets it: see the module docstring."""
    lines = []
    for line in text.split("\n"):
        field = field_line(line)
        if field is not None and field[0] == "R":
            continue
        lines.append(line)
        if field is not None and field[0] == "X":
            lines.extend(RENDERING_DIRECTIVES)
    return "\n".join(lines)


def melodies(played: Iterable, reference: ReferenceMidi) -> tuple[Melody, Melody]:
    """Ours and abc2midi's melody, ornaments cut out.

    abc2midi plays a trill or roll as a run of notes: a written ornamented
    note stands for whatever abc2midi plays wholly within its time.
    """
    scale = 4 * reference.ticks_per_beat
    ours, spans = [], []
    for item in played:
        if not isinstance(item, TimedNote) or item.grace:
            continue
        onset, end = item.onset * scale, (item.onset + item.duration) * scale
        if ORNAMENTS.intersection(item.decorations):
            spans.append((onset, end))
        else:
            ours.append((onset, end, item.pitch))
    theirs = []
    for note in reference.channel_notes(MELODY):
        onset, end = note.on_tick - 1, note.off_tick
        if not any(start <= onset and end <= stop for start, stop in spans):
            theirs.append((onset, end, note.pitch))
    return sorted(ours), sorted(theirs)


def first_difference(ours: Melody, theirs: Melody) -> int | None:
    """Index of the first note that differs; None when the melodies are identical."""
    for index, (mine, reference) in enumerate(zip(ours, theirs)):
        if mine != reference:
            return index
    return None if len(ours) == len(theirs) else min(len(ours), len(theirs))


def identical_notes(ours: Melody, theirs: Melody) -> int:
    """Notes with the same onset, end and pitch in both melodies."""
    return sum((Counter(ours) & Counter(theirs)).values())


_SHORTCUT_DECORATIONS = frozenset("~.HLMOPSTuv")


def without_ornaments(text: str) -> str:
    """The ABC with grace notes and decorations taken out of the music, for both readers alike.

    abc2midi plays grace notes by taking time from the note they ornament, and
    some decorations as runs of notes or shortened notes: its performance, not
    the written notes the comparison is about. Field lines, inline fields and
    quoted text are kept as written.
    """
    lines = []
    for line in text.split("\n"):
        lines.append(line if field_line(line) is not None or line.startswith("%") else _plain_music(line))
    return "\n".join(lines)


def _plain_music(line: str) -> str:
    kept = []
    index = 0
    while index < len(line):
        char = line[index]
        closing = {'"': '"', "[": "]", "{": "}", "!": "!", "+": "+"}.get(char)
        if closing is not None and (char != "[" or line[index + 2 : index + 3] == ":"):
            end = line.find(closing, index + 1)
            if end < 0:
                end = len(line) - 1
            if char in '"[':
                kept.append(line[index : end + 1])  # chord symbols, annotations, inline fields
            index = end + 1
        elif char in _SHORTCUT_DECORATIONS:
            index += 1
        else:
            kept.append(char)
            index += 1
    return "".join(kept)
