"""The training corpus: ABC files split into tunes, each normalised the same way.

A character model learns whatever regularity the text has, so every tune is
rewritten into one canonical shape that sounds exactly as before:

    X:, T:, other kept fields ...
    M:<metre in force where the music starts>
    L:<unit note length in force there, always explicit>
    K:<key in force there>
    <body>

Nottingham often writes ``M:4/4`` in the header and the real ``M:6/8`` right
after ``K:``, or sets a metre per part; folding those leading body fields into
the header gives the model (and the sampler's priming) one place to read the
metre, unit length and key from. Writing ``L:`` explicitly pins the default
unit length, which ABC derives from the header's first metre, so moving the
metre line can never change a note's length.

This module is plain Python: it is shared by training (export/) and by tests
that check, with abc2midi, that normalising keeps every note.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

from livegen.abc.collection import read_abc_file, split_tunes
from livegen.abc.fields import field_line, header_unit_length, without_comment

# Fields dropped because they carry no music: source (S), notes (N), history
# (H), transcriber (Z), book (B), discography (D), origin (O), area (A),
# composer (C), file URL (F), group (G) and lyrics (W, w). Y: is Nottingham's
# non-standard note of the part play order; abc2midi ignores it, and so does
# the player. Comments (%) go too, but not directives (%%MIDI ...): abc2midi
# plays a few Playford tunes with their own accompaniment pattern.
DROPPED_FIELDS = frozenset("SNHZBDOACFGWwY")

VALIDATION_BUCKETS = 20  # one bucket in twenty: 5% of tunes


@dataclass(frozen=True)
class Tune:
    """One tune, normalised, with where it came from."""

    text: str  # normalised ABC, ending in a newline
    source: str  # "file.abc:X" for messages and reports

    @property
    def title(self) -> str:
        for line in self.text.splitlines():
            if line.startswith("T:"):
                return line[2:]
        return ""

    @property
    def is_validation(self) -> bool:
        """Whole-tune split by a hash of the music, so it never moves when tunes are added.

        The X: line is left out of the hash: renumbering a file must not move
        a tune between training and validation.
        """
        music = "\n".join(line for line in self.text.splitlines() if not line.startswith("X:"))
        digest = hashlib.sha256(music.encode("utf-8")).digest()
        return int.from_bytes(digest[:8], "big") % VALIDATION_BUCKETS == 0


def normalise_tune(raw: str) -> str:
    """Rewrite one raw tune into the canonical shape described at the top."""
    lines = [_strip_comment(line) for line in raw.splitlines()]
    lines = [line for line in lines if line]
    header: list[tuple[str, str]] = []
    directives: list[str] = []
    body_start = len(lines)
    for index, line in enumerate(lines):
        if line.startswith("%%"):
            directives.append(line)
            continue
        field = field_line(line)
        if not field:
            body_start = index
            break
        header.append(field)
        if field[0] == "K":
            body_start = index + 1
            break
    first_metre = next((value for name, value in header if name == "M"), "")
    unit_length = next((value for name, value in header if name == "L"), None)
    if unit_length is None:
        unit_length = _fraction_text(header_unit_length(first_metre, None))

    # Leading M:/L:/K: lines of the body act before any note: fold them in.
    body = lines[body_start:]
    leading_fields: list[tuple[str, str]] = []
    folded: list[str] = []
    for position, line in enumerate(body):
        field = field_line(line)
        if not field:
            folded.extend(body[position:])
            break
        if field[0] in "MLK":
            leading_fields.append(field)
        else:
            folded.append(line)

    effective = {"M": first_metre, "L": unit_length, "K": ""}
    for name, value in header + leading_fields:
        if name in effective:
            effective[name] = value

    kept = [f"{name}:{value}" for name, value in header if name not in DROPPED_FIELDS and name not in "MLK"]
    kept += directives
    closing = [f"M:{effective['M']}"] if effective["M"] else []
    closing += [f"L:{effective['L']}", f"K:{effective['K']}"]
    body_lines = [line for line in folded if not (_is_field(line) and line[0] in DROPPED_FIELDS)]
    return "\n".join(kept + closing + body_lines) + "\n"


def _strip_comment(line: str) -> str:
    if line.startswith("%%"):
        return line.strip()
    return without_comment(line).strip()


def _is_field(line: str) -> bool:
    return field_line(line) is not None


def _fraction_text(value: Fraction) -> str:
    return f"{value.numerator}/{value.denominator}"


def load_tunes(folder: Path) -> list[Tune]:
    """Every tune of every .abc file under folder, normalised, in a stable order."""
    tunes = []
    for path in sorted(Path(folder).rglob("*.abc")):
        for raw in split_tunes(read_abc_file(path)):
            number = raw.split("\n", 1)[0][2:].strip()
            tunes.append(Tune(normalise_tune(raw), f"{path.name}:{number}"))
    return tunes


def corpus_text(tunes: list[Tune]) -> str:
    """Tunes as the model sees them: each followed by a blank line, the end of a tune."""
    return "".join(tune.text + "\n" for tune in tunes)
