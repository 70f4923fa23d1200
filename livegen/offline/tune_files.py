"""Tunes to files, for `livegen generate` and `livegen render`: one .abc holding them all, and per tune a .mid
played as the live player plays it (and a piano roll if asked), named by number and title.
"""

from __future__ import annotations

from pathlib import Path

from livegen.abc import Event
from livegen.perform.midi_file import write_midi
from livegen.perform.piano_roll import write_piano_roll
from livegen.perform.render import PerformedTune, file_stem, perform

ABC_FILE = "tunes.abc"


def write_abc(texts: list[str], folder: Path) -> Path:
    """Every tune's ABC in one file, a blank line after each; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / ABC_FILE
    path.write_text("".join(text.rstrip("\n") + "\n\n" for text in texts), encoding="utf-8")
    return path


def write_tune_midi(number: int, events: list[Event], folder: Path, tempo_bpm: float | None = None,
                    plot: bool = False) -> tuple[PerformedTune, Path]:
    """Tune `number`'s .mid in `folder` (and its piano-roll .png with plot); returns the performance and the .mid.

    tempo_bpm None: the tune's own Q: (or the default tempo).
    """
    folder.mkdir(parents=True, exist_ok=True)
    performed = perform(events, tempo_bpm=tempo_bpm)
    stem = folder / file_stem(number, performed.title)
    midi = stem.with_suffix(".mid")
    write_midi(performed.notes, midi, performed.tempo_bpm, performed.title, performed.meter)
    if plot:
        write_piano_roll(performed, stem.with_suffix(".png"))
    return performed, midi
