"""Tunes to files, for `livegen generate` and `livegen render`: one .abc holding them all, and per tune a .mid
played as the live player plays it (and a piano roll if asked), named by number and title.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from livegen.abc import Event, read_tunes
from livegen.abc.collection import read_abc_pieces
from livegen.compose.composer import TuneComposer
from livegen.errors import LivegenError
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


def write_generated(tunes: list[TuneComposer], folder: Path, tempo_bpm: float | None = None,
                    plot: bool = False) -> Iterator[str]:
    """`generate`'s files: the tunes' .abc, then each tune's .mid; yields a line on each tune, and the .abc last."""
    abc_path = write_abc(["".join(tune.text) for tune in tunes], folder)
    for number, tune in enumerate(tunes, 1):
        performed, midi = write_tune_midi(number, tune.events, folder, tempo_bpm, plot)
        yield (f"{number:3}  {performed.title[:36]:36}  {len(tune.bars.bars):3} bars  "
               f"{len(tune.diagnostics)} diagnostics  {midi}")
    yield f"all tunes: {abc_path}"


def render_abc_file(abc_path: Path, folder: Path, tempo_bpm: float | None = None) -> Iterator[str]:
    """`render`: a .mid per tune of an ABC file, read one tune at a time (any size); yields a line on each."""
    if not abc_path.is_file():
        raise LivegenError(f"no such ABC file: {abc_path}")
    number = 0
    for number, tune in enumerate(read_tunes(read_abc_pieces(abc_path)), 1):
        performed, midi = write_tune_midi(number, tune.events, folder, tempo_bpm)
        yield (f"{number:3}  {performed.title[:36]:36}  {len(performed.notes):4} notes  "
               f"{tune.diagnostics} diagnostics  {midi}")
    if not number:
        raise LivegenError(f"{abc_path} holds no tunes (no X: lines)")
