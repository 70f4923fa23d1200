"""How closely livegen's reading of ABC agrees with abc2midi's, on any folder of ABC files.

    python bench/abc_agreement.py FOLDER [FOLDER ...] [--show N]

Every tune goes through livegen's parser, repeat expansion and timing, and
through abc2midi (the reference player); the melodies are compared note for
note (pitch, onset, end). Grace notes and decorations are taken out of the
text both readers get, and abc2midi's hornpipe swing is turned off (see
livegen/testing/melody_agreement.py): what is compared is the written music.
Tunes whose X: number repeats within a file are left out (abc2midi writes one
MIDI file per number), as are tunes abc2midi writes nothing for.

Prints, per folder and in all: tunes compared, tunes whose melody is
identical, and melody notes identical as a share of abc2midi's; with
--show N, the first difference of the N tunes that differ most.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

from livegen.abc import Field, parse_tunes, play_order, timeline
from livegen.abc.collection import read_abc_file
from livegen.testing.abc2midi_reference import abc2midi_available, render_tunes_with_abc2midi
from livegen.testing.melody_agreement import (
    first_difference,
    identical_notes,
    melodies,
    reference_input,
    without_ornaments,
)


def compare_file(path: Path) -> list[tuple[str, int, int, int, str]]:
    """(tune, identical notes, abc2midi's notes, our notes, first difference) for each tune of one file."""
    text = without_ornaments(read_abc_file(path))
    tunes = parse_tunes(text)
    numbers = [next((e.value for e in events if isinstance(e, Field) and e.name == "X"), "") for events in tunes]
    counts = Counter(numbers)
    references = render_tunes_with_abc2midi(reference_input(text))
    results = []
    for number, events in zip(numbers, tunes):
        if counts[number] > 1 or not number.isdigit() or int(number) not in references:
            continue
        ours, theirs = melodies(timeline(play_order(events)), references[int(number)])
        index = first_difference(ours, theirs)
        where = "" if index is None else f"ours {ours[index:index + 2]} abc2midi {theirs[index:index + 2]}"
        results.append((f"{path.name} X:{number}", identical_notes(ours, theirs), len(theirs), len(ours), where))
    return results


def summary(label: str, results: list[tuple[str, int, int, int, str]]) -> str:
    identical_tunes = sum(1 for *_, where in results if not where)
    same = sum(result[1] for result in results)
    reference_notes = sum(result[2] for result in results)
    share = same / reference_notes if reference_notes else float("nan")
    tunes = len(results)
    return (f"{label}: {tunes} tunes, {identical_tunes} identical ({identical_tunes / max(tunes, 1):.1%}); "
            f"notes identical {same} of {reference_notes} ({share:.2%})")


def main() -> int:
    arguments = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    arguments.add_argument("folders", nargs="+", type=Path)
    arguments.add_argument("--show", type=int, default=0, help="list the first difference of the N worst tunes")
    options = arguments.parse_args()
    if not abc2midi_available():
        print("abc_agreement: error: abc2midi is not installed", file=sys.stderr)
        return 2
    everything = []
    for folder in options.folders:
        results = [result for path in sorted(folder.glob("*.abc")) for result in compare_file(path)]
        print(summary(str(folder), results))
        everything += results
    if len(options.folders) > 1:
        print(summary("all", everything))
    worst = sorted((result for result in everything if result[4]), key=lambda result: result[1] - result[2])
    for name, same, theirs, ours, where in worst[: options.show]:
        print(f"  {name}: {same} of {theirs} identical (ours {ours}); first difference {where}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
