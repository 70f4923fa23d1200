"""Write livegen/compose/corpus_vocabulary.py: what the corpus writes, for the constraints to hold the sampler to.

    python -m livegen.export.corpus_vocabulary ../shared/data/nottingham/ABC_cleaned

The constraints accept only what the corpus (read as training reads it,
normalised) itself writes: the characters of tune bodies, the note and rest
lengths, the chord symbols (those abc2midi reads: it rejects the corpus'
``"Ad"``-style diminished chords), the words of titles, and the values of the header fields the model may
write itself (M:, L:, K:). The corpus'
rare decorations (``!trill!``, ``+...+``) and line continuations (``\\``)
are left out: abc2midi reads a stray ``+`` as a decoration and drops the bars
after it, and a continuation anywhere but a line's end is an error. The runtime package
cannot read the corpus on a user's machine, so the lists ship as a generated
Python module; run this again when the corpus changes.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

from livegen.abc import AbcStreamParser, ChordSymbol, Field
from livegen.abc.fields import field_line
from livegen.export.corpus import load_tunes

TARGET = Path(__file__).resolve().parents[1] / "livegen" / "compose" / "corpus_vocabulary.py"
EXCLUDED_CHARACTERS = frozenset("+!\\%")
HEADER_FIELDS = "MLK"
MIN_COUNT = 3  # a form written fewer times than this is taken for a typo, not a habit
# A note or rest and its length, after chord symbols are taken out (not a field: the field grammar is livegen.abc's).
_NOTE_LENGTH = re.compile(r"[=^_]*[A-Ga-gz][,']*([0-9/]*)")
_QUOTED = re.compile(r'"[^"\n]*"')


def collect(folder: Path) -> dict[str, list[str]]:
    """The corpus' body characters, note lengths, chord symbols and title words, commonest first."""
    characters, lengths, chords, words = Counter(), Counter(), Counter(), Counter()
    fields = {name: Counter() for name in HEADER_FIELDS}
    for tune in load_tunes(folder):
        parser = AbcStreamParser()
        for event in parser.feed_text(tune.text) + parser.flush():
            if isinstance(event, ChordSymbol):
                chords[event.text] += 1
            elif isinstance(event, Field) and event.name == "T":
                words.update(event.value.split())
            elif isinstance(event, Field) and event.header and event.name in fields:
                fields[event.name][event.value.strip()] += 1
        body = "\n".join(line for line in tune.text.splitlines()
                          if not (line.startswith("%") or field_line(line)))
        music = _QUOTED.sub("", body)
        characters.update(music)
        lengths.update(_NOTE_LENGTH.findall(music))
    return {
        "BODY_CHARACTERS": sorted(character for character, count in characters.items()
                                  if count >= MIN_COUNT and character not in EXCLUDED_CHARACTERS),
        "NOTE_LENGTHS": [text for text, count in lengths.most_common() if count >= MIN_COUNT],
        "CHORD_SYMBOLS": sorted(text for text, count in chords.items() if count >= MIN_COUNT and abc2midi_reads(text)),
        "TITLE_WORDS": sorted(words),
    } | {f"{name}_VALUES": sorted(value for value, count in values.items() if count >= MIN_COUNT and value)
         for name, values in fields.items()}


def abc2midi_reads(chord: str) -> bool:
    """Whether abc2midi plays a one-bar tune with this chord symbol without a word of complaint."""
    if shutil.which("abc2midi") is None:
        raise SystemExit("corpus_vocabulary: abc2midi is needed to check the chord symbols")
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "chord.abc"
        path.write_text(f'X:1\nT:t\nM:4/4\nL:1/8\nK:C\n"{chord}"C8|]\n\n', encoding="utf-8")
        result = subprocess.run(["abc2midi", str(path), "-o", str(path.with_suffix(".mid"))],
                                capture_output=True, text=True, errors="replace", check=False)
    output = result.stdout + result.stderr
    return "Error" not in output and "Warning" not in output


def module_text(vocabulary: dict[str, list[str]], source: str) -> str:
    lines = ['"""What the corpus writes, for livegen.compose.constraints; generated, do not edit:', "",
             f"    python -m livegen.export.corpus_vocabulary {source}", "",
             "export/corpus_vocabulary.py says why it ships.", '"""', ""]
    for name, items in vocabulary.items():
        lines.append(f"{name} = (")
        line = "   "
        for item in items:
            if len(line) + len(repr(item)) + 2 > 120:
                lines.append(line)
                line = "   "
            line += f" {item!r},"
        lines.append(line)
        lines.append(")")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, help="folder of the corpus' .abc files")
    parser.add_argument("-o", "--out", type=Path, default=TARGET)
    options = parser.parse_args(argv)
    options.out.write_text(module_text(collect(options.corpus), options.corpus.as_posix()), encoding="utf-8")
    print(f"wrote {options.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
