"""What abc2midi, the reference ABC player, says about one tune.

`livegen eval` asks the reference player rather than livegen's own parser
whether a tune is acceptable: abc2midi runs on each tune on its own (without
-silent, which hides some errors), and its errors, its bar-length warnings and
the last melody note of the MIDI file it writes are kept. Tunes run through a
small thread pool: each is one short subprocess.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import mido

_ERROR = re.compile(r"^Error in line-char", re.MULTILINE)
_BAR_LENGTH_WARNING = re.compile(r"^Warning in line-char .*Bar \d+ has .* time units", re.MULTILINE)
MELODY_CHANNEL = 0  # abc2midi writes the melody on channel 0, its accompaniment on 1 and 2
TIMEOUT_S = 30


@dataclass(frozen=True)
class Abc2midiVerdict:
    errors: list[str]  # abc2midi's "Error in line-char ..." lines
    bar_length_warnings: int
    last_melody_pitch: int | None  # the highest note starting at the melody's last onset; None if no MIDI file


def abc2midi_available() -> bool:
    return shutil.which("abc2midi") is not None


def check_tune(text: str) -> Abc2midiVerdict:
    """Run abc2midi on one tune in a temporary folder."""
    with tempfile.TemporaryDirectory(prefix="livegen-eval-") as folder:
        source, target = Path(folder) / "tune.abc", Path(folder) / "tune.mid"
        source.write_bytes(text.encode("latin-1", errors="replace"))
        try:
            finished = subprocess.run(["abc2midi", source.name, "-o", target.name], cwd=folder,
                                      capture_output=True, timeout=TIMEOUT_S)
        except subprocess.TimeoutExpired:
            return Abc2midiVerdict([f"abc2midi ran over {TIMEOUT_S} s"], 0, None)
        output = finished.stdout.decode("latin-1") + finished.stderr.decode("latin-1")
        errors = [line for line in output.splitlines() if _ERROR.match(line)]
        if finished.returncode != 0 and not errors:
            errors.append(f"abc2midi exited with status {finished.returncode}")
        return Abc2midiVerdict(errors, len(_BAR_LENGTH_WARNING.findall(output)), _last_melody_pitch(target))


def check_tunes(texts: list[str], threads: int = 4, progress=None) -> list[Abc2midiVerdict]:
    """check_tune for each text, in order."""
    with ThreadPoolExecutor(max_workers=threads) as pool:
        verdicts = []
        for verdict in pool.map(check_tune, texts):
            verdicts.append(verdict)
            if progress is not None:
                progress()
        return verdicts


def _last_melody_pitch(path: Path) -> int | None:
    try:
        midi = mido.MidiFile(path)
    except (OSError, ValueError, EOFError):
        return None
    last_onset, pitches = -1, []
    for track in midi.tracks:
        time = 0
        for message in track:
            time += message.time
            if message.type != "note_on" or message.velocity == 0 or message.channel != MELODY_CHANNEL:
                continue
            if time > last_onset:
                last_onset, pitches = time, [message.note]
            elif time == last_onset:
                pitches.append(message.note)
    return max(pitches) if pitches else None
