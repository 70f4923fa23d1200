"""`livegen eval`: is it valid ABC, does it scan, is it in key, do the chords fit, is it copied?

The same figures for a folder of ABC (the corpus itself, say) and for tunes
sampled from a model, so the two can be read side by side.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field

from livegen.abc import Chord, Diagnostic, Field, Note, TimedChordSymbol, TimedNote, parse_key, timeline
from livegen.abc.keys import Key
from livegen.compose.constraints import BarTracker

NATURAL_PITCH_CLASSES = (0, 2, 4, 5, 7, 9, 11)  # C D E F G A B
_BAR_LINE = re.compile(r"[:\[]*\|[|:\]\d]*|::|\[\d")


@dataclass
class TuneReport:
    parsed_cleanly: bool
    bars: int
    right_bars: int
    notes: int
    notes_in_key: int
    chord_changes: int
    chords_fitting: int
    longest_copied_run: int


@dataclass
class Report:
    tunes: list[TuneReport] = field(default_factory=list)

    def summary(self) -> dict:
        def share(part: str, whole: str) -> float:
            total = sum(getattr(tune, whole) for tune in self.tunes)
            return sum(getattr(tune, part) for tune in self.tunes) / total if total else float("nan")

        count = len(self.tunes)
        return {
            "tunes": count,
            "parse_without_diagnostics": sum(tune.parsed_cleanly for tune in self.tunes) / count if count else 0.0,
            "bars_of_right_length": share("right_bars", "bars"),
            "notes_in_key": share("notes_in_key", "notes"),
            "chord_changes_fitting_melody": share("chords_fitting", "chord_changes"),
            "longest_copied_run_of_bars": max((tune.longest_copied_run for tune in self.tunes), default=0),
            "tunes_copying_more_than_4_bars": sum(tune.longest_copied_run > 4 for tune in self.tunes),
        }

    def as_json(self) -> dict:
        return {"summary": self.summary(), "tunes": [asdict(tune) for tune in self.tunes]}

    def table(self) -> str:
        labels = {
            "tunes": "tunes",
            "parse_without_diagnostics": "parse with no diagnostics",
            "bars_of_right_length": "bars the right length",
            "notes_in_key": "notes in the key's scale",
            "chord_changes_fitting_melody": "chord changes fitting the melody",
            "longest_copied_run_of_bars": "longest run of bars copied",
            "tunes_copying_more_than_4_bars": "tunes copying more than 4 bars",
        }
        lines = []
        for key, value in self.summary().items():
            shown = f"{value:.1%}" if isinstance(value, float) else str(value)
            lines.append(f"{labels[key]:36}{shown:>10}")
        return "\n".join(lines)


def bar_texts(tune_text: str) -> list[str]:
    """The written bars of a tune's body, spaces removed: the unit of the copy check."""
    body = []
    in_header = True
    for line in tune_text.splitlines():
        if re.match(r"^[A-Za-z]:", line) or line.startswith("%"):
            in_header = in_header and not line.startswith("K:")
            continue
        if not in_header:
            body.append(line.split("%", 1)[0].rstrip("\\"))
    return [bar for bar in (part.replace(" ", "") for part in _BAR_LINE.split("".join(body))) if bar]


class CopyIndex:
    """Where each bar occurs in the reference tunes, to find the longest run copied verbatim."""

    def __init__(self, tune_texts: list[str]):
        self.tunes = [bar_texts(text) for text in tune_texts]
        self.places: dict[str, list[tuple[int, int]]] = defaultdict(list)
        for tune_index, bars in enumerate(self.tunes):
            for position, bar in enumerate(bars):
                self.places[bar].append((tune_index, position))

    def longest_run(self, bars: list[str]) -> int:
        """Most consecutive bars found consecutively in one reference tune (the same tune itself excluded)."""
        longest = 0
        for start, bar in enumerate(bars):
            for tune_index, position in self.places.get(bar, ()):
                reference = self.tunes[tune_index]
                if reference == bars:
                    continue
                length = 0
                while (start + length < len(bars) and position + length < len(reference)
                       and bars[start + length] == reference[position + length]):
                    length += 1
                longest = max(longest, length)
        return longest


def evaluate_tune(text: str, copies: CopyIndex | None = None) -> TuneReport:
    tracker = BarTracker()
    events = []
    for character in text.rstrip("\n") + "\n\n":
        events += tracker.feed(character)
    notes, in_key = _scale_membership(events)
    changes, fitting = _chord_fit(events)
    return TuneReport(
        parsed_cleanly=not any(isinstance(event, Diagnostic) for event in events),
        bars=len(tracker.bars),
        right_bars=sum(bar.right for bar in tracker.bars),
        notes=notes,
        notes_in_key=in_key,
        chord_changes=changes,
        chords_fitting=fitting,
        longest_copied_run=copies.longest_run(bar_texts(text)) if copies is not None else 0,
    )


def evaluate(texts: list[str], copies: CopyIndex | None = None, progress=None) -> Report:
    report = Report()
    for text in texts:
        report.tunes.append(evaluate_tune(text, copies))
        if progress is not None:
            progress()
    return report


def scale_pitch_classes(key: Key) -> frozenset[int]:
    return frozenset((natural + shift) % 12 for natural, shift in zip(NATURAL_PITCH_CLASSES, key.alterations))


def _scale_membership(events) -> tuple[int, int]:
    scale = scale_pitch_classes(Key())
    notes = in_key = 0
    for event in events:
        if isinstance(event, Field) and event.name == "K":
            key = parse_key(event.value)
            if key is not None:
                scale = scale_pitch_classes(key)
        elif isinstance(event, (Note, Chord)) and not event.grace:
            for note in (event,) if isinstance(event, Note) else event.notes:
                notes += 1
                in_key += note.pitch % 12 in scale
    return notes, in_key


def _chord_fit(events) -> tuple[int, int]:
    """Chord symbols whose onset falls on a melody note, and how many of those contain its pitch."""
    items = timeline(events)
    melody = [item for item in items if isinstance(item, TimedNote) and not item.grace]
    changes = fitting = 0
    for symbol in (item for item in items if isinstance(item, TimedChordSymbol)):
        sounding = [note for note in melody if note.onset <= symbol.onset < note.onset + note.duration]
        if sounding:
            changes += 1
            fitting += sounding[-1].pitch % 12 in symbol.symbol.pitch_classes
    return changes, fitting
