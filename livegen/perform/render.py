"""A parsed tune as the player performs it: repeats expanded, voiced, with its tempo and metre.

`livegen generate`, `livegen render` and the session recording all go
through here, and the live player uses the same arrangement, so a file and
what was heard agree.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from livegen.abc import Event, Field, Tempo, play_order, timeline
from livegen.abc.fields import header_unit_length, parse_meter, parse_tempo, parse_unit_length
from livegen.perform.arrangement import ArrangementSettings, PerformedNote, arrange
from livegen.perform.midi_file import time_signature

DEFAULT_TEMPO = 120.0
_EIGHTH = Fraction(1, 8)  # the unit length when neither L: nor M: is readable


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
        tempo = tune_tempo(events)
        tempo_bpm = float(tempo.bpm * tempo.beat * 4) if tempo is not None else DEFAULT_TEMPO
    meter = parse_meter(fields.get("M", ""))
    signature = time_signature(meter) if meter is not None else None
    notes = arrange(timeline(play_order(events)), settings)
    return PerformedTune(fields.get("T", "").strip(), notes, tempo_bpm, signature)


def tune_tempo(events: list[Event]) -> Tempo | None:
    """The tune's first readable Q:, counted as the parser counts it (ABC 2.1, 10.1).

    A tempo in unit lengths (``Q:120``, ``Q:C=120``) takes the unit in force
    where it stands; in the header that is the header's L:, or the default of
    its M:, wherever they stand in the header.
    """
    fields = [event for event in events if isinstance(event, Field)]
    header = {field.name: field.value for field in fields if field.header}
    unit = header_unit_length(header.get("M"), header.get("L")) or _EIGHTH
    candidates = [("Q", header["Q"])] if "Q" in header else []
    candidates += [(field.name, field.value) for field in fields if not field.header and field.name in "LQ"]
    for name, value in candidates:
        if name == "L":
            unit = parse_unit_length(value) or unit
            continue
        tempo = parse_tempo(value, unit)
        if tempo is not None:
            return tempo
    return None


def file_stem(index: int, title: str) -> str:
    """01-the-abacus-jig: numbered so files sort in tune order, readable, safe on every file system."""
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:48] or "untitled"
    return f"{index:02d}-{slug}"
