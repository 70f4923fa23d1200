"""`livegen eval`: tunes judged as a musician and the reference player would, beside the corpus read the same way.

The judge must not be the code that made the tunes: the sampler's constraints
(and the parser under them) would only grade their own filter. So each tune is
run through abc2midi, the reference ABC player (its errors, its bar-length
warnings, the last melody note of its MIDI file), and read by an independent
form reader (form_reader.py: strains, bars, pickups, notes and chord symbols).
The same figures for the corpus stand beside them.
"""

from __future__ import annotations

import json
import logging
import statistics
import sys
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tqdm import tqdm

from livegen.abc.collection import read_abc_file, split_tunes
from livegen.errors import LivegenError
from livegen.offline.abc2midi_check import Abc2midiVerdict, abc2midi_available, check_tunes
from livegen.offline.copy_check import CopyIndex, bar_texts
from livegen.offline.form_reader import read_tune

log = logging.getLogger(__name__)

MAX_TUNE_CHARACTERS = 100_000  # a tune is judged on its bars up to here: about an hour of music, where abc2midi
# gives up ("file runaway"); the longest corpus tune is a few KB. Keeps eval's memory bounded (see BENCHMARKS.md)

COPYING_LIMIT_BARS = 4
SHORT_TUNE_BARS = 8
ABC2MIDI_THREADS = 4


@dataclass
class TuneReport:
    title: str
    abc2midi_errors: list[str] | None  # None when abc2midi is not installed
    bar_length_warnings: int | None  # abc2midi's
    bar_lines: int  # bars as written, the measure for the warnings
    bars: int  # bars the last time through each strain, pickups not counted
    bars_per_strain: list[int]
    regular_strains: bool
    ends_on_tonic: bool | None  # abc2midi's last melody note against the tonic of the key in force at the end
    wrong_bars: list[str]  # the reader's: bars of the wrong length, pickups not paid back
    metre_missing: bool
    mid_tune_changes: list[str]  # K:, M:, L:, Q: after the first note
    notes: int
    notes_in_key: int
    chord_changes: int
    chords_fitting: int
    longest_copied_run: int | None  # None without reference tunes

    @property
    def problems(self) -> bool:
        """Anything a player would stumble on: a reference-player error or warning, a faulty bar, a key change."""
        return bool(self.abc2midi_errors or self.bar_length_warnings or self.wrong_bars or self.metre_missing
                    or self.mid_tune_changes)


def judge_tune(text: str, verdict: Abc2midiVerdict | None, copies: CopyIndex | None) -> TuneReport:
    form = read_tune(text)
    tonic = form.final_key.tonic if form.final_key is not None else None
    last = verdict.last_melody_pitch if verdict is not None else None
    return TuneReport(
        title=form.title,
        abc2midi_errors=verdict.errors if verdict is not None else None,
        bar_length_warnings=verdict.bar_length_warnings if verdict is not None else None,
        bar_lines=len(form.bars),
        bars=form.bar_count,
        bars_per_strain=[strain.bar_count for strain in form.strains],
        regular_strains=form.regular_strains,
        ends_on_tonic=None if verdict is None else last is not None and tonic is not None and last % 12 == tonic,
        wrong_bars=form.bar_faults,
        metre_missing=form.metre_missing,
        mid_tune_changes=form.inline_changes,
        notes=form.notes,
        notes_in_key=form.notes_in_key,
        chord_changes=form.chord_changes,
        chords_fitting=form.chords_fitting,
        longest_copied_run=copies.longest_run(bar_texts(text)) if copies is not None else None,
    )


def _share(count: float, whole: float) -> float | None:
    """A fraction, or None (null in JSON, "n/a" in the table) when there is nothing to divide by."""
    return count / whole if whole else None


@dataclass
class Report:
    tunes: list[TuneReport] = field(default_factory=list)

    def summary(self) -> dict:
        tunes = self.tunes
        count = len(tunes)
        checked = [tune for tune in tunes if tune.abc2midi_errors is not None]
        copied = [tune.longest_copied_run for tune in tunes if tune.longest_copied_run is not None]
        return {
            "tunes": count,
            "abc2midi_errors": _share(sum(bool(tune.abc2midi_errors) for tune in checked), len(checked)),
            "abc2midi_bar_length_warnings_per_bar_line": _share(
                sum(tune.bar_length_warnings for tune in checked), sum(tune.bar_lines for tune in checked)),
            "tunes_with_wrong_bar_lengths": _share(sum(bool(tune.wrong_bars) for tune in tunes), count),
            "tunes_without_metre": _share(sum(tune.metre_missing for tune in tunes), count),
            "tunes_changing_key_metre_unit_or_tempo": _share(sum(bool(tune.mid_tune_changes) for tune in tunes),
                                                             count),
            "tunes_with_any_problem": _share(sum(tune.problems for tune in tunes), count),
            "regular_strains": _share(sum(tune.regular_strains for tune in tunes), count),
            "ends_on_tonic": _share(sum(bool(tune.ends_on_tonic) for tune in checked), len(checked)),
            "median_bars": statistics.median(tune.bars for tune in tunes) if tunes else None,
            "tunes_under_8_bars": _share(sum(tune.bars < SHORT_TUNE_BARS for tune in tunes), count),
            "notes_in_key": _share(sum(tune.notes_in_key for tune in tunes), sum(tune.notes for tune in tunes)),
            "chord_changes_fitting_melody": _share(sum(tune.chords_fitting for tune in tunes),
                                                   sum(tune.chord_changes for tune in tunes)),
            "longest_copied_run_of_bars": max(copied) if copied else None,
            "tunes_copying_more_than_4_bars": sum(run > COPYING_LIMIT_BARS for run in copied) if copied else None,
        }


LABELS = {
    "tunes": "tunes",
    "abc2midi_errors": "abc2midi reports an error",
    "abc2midi_bar_length_warnings_per_bar_line": "abc2midi bar-length warnings per bar",
    "tunes_with_wrong_bar_lengths": "a bar not the metre's length",
    "tunes_without_metre": "no metre before the music",
    "tunes_changing_key_metre_unit_or_tempo": "K:, M:, L: or Q: mid-tune",
    "tunes_with_any_problem": "any of the five above",
    "regular_strains": "regular strains (2+, each 4n bars)",
    "ends_on_tonic": "last melody note is the tonic",
    "median_bars": "median length in bars",
    "tunes_under_8_bars": "tunes under 8 bars",
    "notes_in_key": "notes in the key's scale",
    "chord_changes_fitting_melody": "chord changes fitting the melody",
    "longest_copied_run_of_bars": "longest run of bars copied",
    "tunes_copying_more_than_4_bars": "tunes copying more than 4 bars",
}
COUNTS = {"tunes", "median_bars", "longest_copied_run_of_bars", "tunes_copying_more_than_4_bars"}


@dataclass
class Comparison:
    """The judged tunes, and the corpus read the same way (None without one)."""

    tunes: Report
    corpus: Report | None
    abc2midi: bool

    def as_json(self) -> str:
        document = {
            "abc2midi": "used" if self.abc2midi else "missing: install abc2midi (Debian package abcmidi)",
            "summary": self.tunes.summary(),
            "corpus": self.corpus.summary() if self.corpus is not None else None,
            "tunes": [asdict(tune) for tune in self.tunes.tunes],
        }
        return json.dumps(document, indent=1, allow_nan=False)

    def table(self) -> str:
        columns = [self.tunes.summary()] + ([self.corpus.summary()] if self.corpus is not None else [])
        lines = [f"{'':40}{'tunes':>10}" + (f"{'corpus':>10}" if self.corpus is not None else "")]
        for key, label in LABELS.items():
            lines.append(f"{label:40}" + "".join(f"{shown_value(key, column[key]):>10}" for column in columns))
        if not self.abc2midi:
            lines.append("abc2midi is missing: its figures are n/a (install abc2midi, Debian package abcmidi)")
        return "\n".join(lines)


def shown_value(key: str, value) -> str:
    if value is None:
        return "n/a"
    if key in COUNTS:
        return f"{value:g}"
    return f"{value:.2%}" if key == "abc2midi_bar_length_warnings_per_bar_line" else f"{value:.1%}"


def evaluate(texts: list[str], copies: CopyIndex | None = None, description: str = "judging") -> Report:
    """Every tune judged: abc2midi when installed (a few at once), the form reader, the copy check."""
    with tqdm(total=len(texts), unit="tune", desc=description, file=sys.stderr, leave=False) as progress:
        verdicts = (check_tunes(texts, ABC2MIDI_THREADS, lambda: progress.update(1)) if abc2midi_available()
                    else [None] * len(texts))
    return Report([judge_tune(text, verdict, copies) for text, verdict in zip(texts, verdicts)])


def read_abc_texts(path: Path) -> list[str]:
    """The tunes of an .abc file, or of every .abc file under a folder."""
    paths = sorted(path.rglob("*.abc")) if path.is_dir() else [path]
    if not paths or not all(candidate.is_file() for candidate in paths):
        raise LivegenError(f"no ABC files at {path}")
    texts = [tune for candidate in paths for tune in split_tunes(read_abc_file(candidate))]
    if not texts:
        raise LivegenError(f"{path} holds no tunes (no X: lines)")
    return [_bounded(text, number) for number, text in enumerate(texts, 1)]


def _bounded(text: str, number: int) -> str:
    """The tune, or its bars up to MAX_TUNE_CHARACTERS, with a warning: a longer one is judged on that much."""
    if len(text) <= MAX_TUNE_CHARACTERS:
        return text
    last_bar_line = text.rfind("|", 0, MAX_TUNE_CHARACTERS)
    kept = text[:last_bar_line + 1] if last_bar_line > 0 else text[:MAX_TUNE_CHARACTERS]
    log.warning("tune %d is %s characters long: judged on its first %s", number, f"{len(text):,}", f"{len(kept):,}")
    return kept


def compare_with_corpus(texts: list[str], corpus_texts: list[str] | None) -> Comparison:
    """The tunes judged, and the corpus beside them; the corpus is also what copying is checked against."""
    copies = CopyIndex(corpus_texts) if corpus_texts is not None else None
    tunes = evaluate(texts, copies)
    corpus_report = evaluate(corpus_texts, copies, "judging the corpus") if corpus_texts is not None else None
    return Comparison(tunes, corpus_report, abc2midi_available())
