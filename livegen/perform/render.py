"""A parsed tune as the player performs it: repeats expanded, voiced, with its tempo and metre.

`livegen generate`, `livegen render` and the session recording all go
through here, and the live player uses the same arrangement, so a file and
what was heard agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from livegen.abc import Event, Field, play_order, timeline
from livegen.abc.fields import parse_meter, parse_tempo
from livegen.perform.arrangement import ArrangementSettings, PerformedNote, arrange
from livegen.perform.midi_file import time_signature

DEFAULT_TEMPO = 120.0


@dataclass(frozen=True)
class PerformedTune:
    title: str
    notes: list[PerformedNote]
    tempo_bpm: float  # quarter notes per minute
    meter: tuple[int, int] | None


def perform(events: list[Event], settings: ArrangementSettings = ArrangementSettings(),
            tempo_bpm: float | None = None) -> PerformedTune:
    """tempo_bpm overrides the tune's Q: field; without either the tempo is DEFAULT_TEMPO."""
    fields: dict[str, str] = {}
    for event in events:
        if isinstance(event, Field):
            fields.setdefault(event.name, event.value)
    if tempo_bpm is None:
        tempo = parse_tempo(fields.get("Q", ""), Fraction(1, 8)) if "Q" in fields else None
        tempo_bpm = float(tempo.bpm * tempo.beat * 4) if tempo is not None else DEFAULT_TEMPO
    meter = parse_meter(fields.get("M", ""))
    signature = time_signature(meter) if meter is not None else None
    notes = arrange(timeline(play_order(events)), settings)
    return PerformedTune(fields.get("T", "").strip(), notes, tempo_bpm, signature)


def file_stem(index: int, title: str) -> str:
    """01-the-abacus-jig: numbered so files sort in tune order, readable, safe on every file system."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:48] or "untitled"
    return f"{index:02d}-{slug}"
