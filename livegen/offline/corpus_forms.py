"""The forms the corpus writes, per tune type and metre: strains, bars per strain, repeats, endings, pickups.

Run it to regenerate the table in docs/FORMS.md:

    python -m livegen.offline.corpus_forms ../shared/data/nottingham/ABC_cleaned

A tune's type is its R: field when it has one, otherwise its file's name
(jigs.abc, reelsa-c.abc, hpps.abc ...). Strains are read with the same
independent reader eval judges with (form_reader.py).
"""

from __future__ import annotations

import argparse
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

from livegen.abc.collection import read_abc_file, split_tunes
from livegen.abc.fields import first_field
from livegen.offline.form_reader import TuneForm, read_tune

TYPE_OF_FILE = {"jigs": "jig", "reels": "reel", "hpps": "hornpipe", "waltzes": "waltz", "slip": "slip-jig"}


@dataclass(frozen=True)
class FormRow:
    tune_type: str
    metre: str
    tunes: int
    forms: list[tuple[str, int]]  # commonest forms ("AABB 8+8") with their counts
    repeated: float  # share of strains played twice (a repeat mark or endings)
    endings: float  # share of strains with first and second endings
    pickup: float  # share of tunes opening on a pickup


def tune_type(path: Path, text: str) -> str:
    rhythm = first_field(text, "R")
    if rhythm:
        return rhythm.lower().replace(" ", "-")
    stem = path.stem
    return next((name for prefix, name in TYPE_OF_FILE.items() if stem.startswith(prefix)), stem)


def form_name(form: TuneForm) -> str:
    """Letters for the strains (doubled when repeated) and the bars of each: "AABB 8+8"."""
    letters = "".join(chr(ord("A") + index) * (2 if strain.repeated else 1)
                      for index, strain in enumerate(form.strains[:26]))
    return f"{letters} {'+'.join(str(strain.bar_count) for strain in form.strains)}"


def read_corpus(corpus: Path) -> list[tuple[str, TuneForm]]:
    """Every tune's type and form."""
    return [(tune_type(path, text), read_tune(text))
            for path in sorted(corpus.rglob("*.abc")) for text in split_tunes(read_abc_file(path))]


def derive_forms(tunes: list[tuple[str, TuneForm]], shown: int = 3) -> list[FormRow]:
    groups: dict[tuple[str, str], list[TuneForm]] = defaultdict(list)
    for kind, form in tunes:
        groups[(kind, form.metre_text or "none")].append(form)
    rows = []
    for (kind, metre), forms in sorted(groups.items(), key=lambda item: -len(item[1])):
        strains = [strain for form in forms for strain in form.strains]
        rows.append(FormRow(
            kind, metre, len(forms),
            Counter(form_name(form) for form in forms).most_common(shown),
            sum(strain.repeated or strain.endings > 1 for strain in strains) / max(len(strains), 1),
            sum(strain.endings > 1 for strain in strains) / max(len(strains), 1),
            sum(bool(form.strains and form.strains[0].pickup) for form in forms) / len(forms),
        ))
    return rows


def markdown_table(rows: list[FormRow]) -> str:
    lines = ["| type | metre | tunes | commonest forms (tunes) | strains repeated | with 1st/2nd endings | "
             "opening pickup |", "| --- | --- | --- | --- | --- | --- | --- |"]
    for row in rows:
        forms = ", ".join(f"{name} ({count})" for name, count in row.forms)
        lines.append(f"| {row.tune_type} | {row.metre} | {row.tunes} | {forms} | {row.repeated:.0%} | "
                     f"{row.endings:.0%} | {row.pickup:.0%} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path, help="a folder of .abc files")
    arguments = parser.parse_args(argv)
    tunes = read_corpus(arguments.corpus)
    print(markdown_table(derive_forms(tunes)))
    bars = Counter(strain.bar_count for _, form in tunes for strain in form.strains)
    strains = Counter(len(form.strains) for _, form in tunes)
    print(f"\n{len(tunes)} tunes. Bars per strain: " + ", ".join(
        f"{count} of {number} bars" for number, count in bars.most_common(6)) + ". Strains per tune: " + ", ".join(
        f"{count} with {number}" for number, count in strains.most_common(5)) + ".")


if __name__ == "__main__":
    main()
