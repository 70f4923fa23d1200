"""`livegen eval` judges with abc2midi and an independent form reader, never with the sampler's own rules."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import pytest

from livegen.abc.collection import read_abc_file, split_tunes
from livegen.offline.copy_check import CopyIndex, bar_texts
from livegen.offline.evaluate import MAX_TUNE_CHARACTERS, evaluate, read_abc_texts
from livegen.offline.form_reader import read_tune

HEADER = "X:1\nT:Test\nM:4/4\nL:1/8\nK:G\n"
GOOD_BAR = "GABc dBAG|"
CLEAN = HEADER + "|:" + GOOD_BAR * 7 + "GABc d2G2:|\n|:" + GOOD_BAR * 7 + "d2B2 G4:|\n"

# The faults issue 11 found in generated tunes, each in an otherwise clean tune, and the figure that must count it.
BAD_SNIPPETS = [
    ("ABcd A/6B/6c/6 d2 efga|", "abc2midi_errors"),
    ("ABcd A////////2 Bcd|", "abc2midi_errors"),
    ("ABcd c/2/2 Bcd|", "abc2midi_errors"),
    ("ABcd EA/2B/2-A d2|", "abc2midi_errors"),
    ("ABcd d,Bcd|", "abc2midi_errors"),
    ("ABcd A'aBc|", "abc2midi_errors"),
    ("ABcd (3(3d/2e/2f/2 Bcd|", "abc2midi_errors"),
    ("ABcd efga|[2 ABcd efga|]", "abc2midi_errors"),
    ("ABcd # efga|", "abc2midi_errors"),
    ("ABcd ? efga|", "abc2midi_errors"),
    ("ABcd T efga|", "abc2midi_errors"),
    ("ABcd + efga|ABcd efga|", "abc2midi_errors"),
    ('"A"e/2c/2 A/2e/2|"Bm"f/2d/2 "E"^g/2e/2||', "tunes_with_wrong_bar_lengths"),
    ("ABcd efga|\nK:B\nABcd efga|", "tunes_changing_key_metre_unit_or_tempo"),
]


def one_tune(snippet: str) -> str:
    return HEADER + GOOD_BAR * 3 + snippet + "\n" + GOOD_BAR * 4 + "|]\n"


def test_a_clean_tune_has_no_problems(abc2midi):
    summary = evaluate([CLEAN]).summary()
    assert summary["tunes_with_any_problem"] == 0 and summary["abc2midi_errors"] == 0
    assert summary["regular_strains"] == 1 and summary["ends_on_tonic"] == 1 and summary["median_bars"] == 16


@pytest.mark.parametrize("snippet, figure", BAD_SNIPPETS)
def test_each_fault_the_issue_quotes_is_counted_bad(abc2midi, snippet, figure):
    summary = evaluate([one_tune(snippet)]).summary()
    assert summary[figure] == 1, summary
    assert summary["tunes_with_any_problem"] == 1


def test_a_metre_written_into_the_title_leaves_the_tune_without_one(abc2midi):
    text = HEADER.replace("T:Test\nM:4/4\n", "T:Art Goade anLinndc|M:6/8\n") + GOOD_BAR * 8 + "|]\n"
    summary = evaluate([text]).summary()
    assert summary["tunes_without_metre"] == 1 and summary["tunes_with_any_problem"] == 1


def test_endings_off_the_tonic_and_short_fragments(abc2midi):
    fragment = HEADER + '"Bm"dd d:|\n'  # ends on D in G, two beats long
    summary = evaluate([CLEAN, fragment]).summary()
    assert summary["ends_on_tonic"] == 0.5 and summary["tunes_under_8_bars"] == 0.5
    assert summary["regular_strains"] == 0.5


def test_the_tonic_is_the_key_in_force_at_the_end(abc2midi):
    modulating = CLEAN.replace("|:" + GOOD_BAR * 7 + "d2B2", "K:D\n|:" + GOOD_BAR * 7 + "d2A2").replace("G4:|", "D4:|")
    summary = evaluate([modulating]).summary()
    assert summary["ends_on_tonic"] == 1 and summary["tunes_changing_key_metre_unit_or_tempo"] == 1


def test_figures_with_nothing_to_count_are_null_never_nan(tmp_path, abc2midi):
    source = tmp_path / "plain.abc"
    source.write_text(CLEAN)  # no chord symbols: chord fit has nothing to divide by
    result = subprocess.run([sys.executable, "-m", "livegen", "eval", str(source), "--reference", str(source),
                             "--json"], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout, parse_constant=lambda name: pytest.fail(f"{name} in eval --json"))
    assert document["summary"]["chord_changes_fitting_melody"] is None
    assert document["corpus"]["tunes"] == 1 and document["abc2midi"] == "used"
    table = subprocess.run([sys.executable, "-m", "livegen", "eval", str(source), "--reference", str(source)],
                           capture_output=True, text=True, timeout=120)
    assert table.returncode == 0 and "nan" not in table.stdout.lower() and "n/a" in table.stdout


def test_without_abc2midi_the_report_says_it_is_missing(tmp_path):
    source = tmp_path / "plain.abc"
    source.write_text(CLEAN)
    result = subprocess.run([sys.executable, "-m", "livegen", "eval", str(source), "--reference", str(source)],
                            capture_output=True, text=True, timeout=120, env={"PATH": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    assert "abc2midi is missing" in result.stdout
    assert re.search(r"^abc2midi reports an error +n/a +n/a$", result.stdout, re.MULTILINE)


@pytest.mark.parametrize("arguments", [["-n", "0"], ["-n", "-3"], ["/nonexistent/tunes.abc"]])
def test_eval_refuses_nothing_to_judge_in_one_line(arguments):
    result = subprocess.run([sys.executable, "-m", "livegen", "eval", *arguments],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith("livegen: error:")


def test_the_corpus_judged_side_by_side(nottingham, abc2midi):
    corpus = [tune for path in sorted(nottingham.glob("*.abc")) for tune in split_tunes(read_abc_file(path))]
    summary = evaluate(corpus[:80], CopyIndex(corpus[:80])).summary()
    assert summary["abc2midi_errors"] < 0.1 and summary["regular_strains"] > 0.7
    assert summary["notes_in_key"] > 0.9 and summary["tunes_under_8_bars"] < 0.05


def test_the_copy_check(nottingham):
    corpus = [tune for path in sorted(nottingham.glob("*.abc")) for tune in split_tunes(read_abc_file(path))]
    index = CopyIndex(corpus[:80])
    source = bar_texts(corpus[0])
    assert index.longest_run(source) < len(source)  # a reference tune is not counted as its own copy
    borrowed = "X:1\nT:Borrowed\nM:4/4\nL:1/8\nK:C\n" + "|".join(source[:6] + ["C8", "D8", "E8"]) + "|\n"
    assert index.longest_run(bar_texts(borrowed)) >= 6
    fresh = "X:1\nT:Fresh\nM:4/4\nL:1/8\nK:C\n" + "|".join(["C7D", "E7F", "G7A"]) + "|\n"
    assert index.longest_run(bar_texts(fresh)) == 0


def test_the_copy_check_agrees_with_a_brute_force_search_on_repeated_bars():
    def brute(bars: list[str], references: list[list[str]]) -> int:
        return max((length for reference in references if reference != bars
                    for start in range(len(bars)) for position in range(len(reference))
                    for length in [_common_run(bars, start, reference, position)]), default=0)

    texts = [HEADER + "|".join(bars) + "|\n" for bars in (["a", "b", "a", "b", "a", "c"], ["a", "b", "a", "b"],
                                                         ["c", "a", "b", "a"], ["a"] * 9, ["b", "a", "b"])]
    references = [bar_texts(text) for text in texts]
    index = CopyIndex(texts)
    for bars in references + [["a", "b", "a", "b", "a", "b"], ["a"] * 12, ["c", "c"], ["a", "b", "a", "c"]]:
        assert index.longest_run(bars) == brute(bars, references), bars


def _common_run(bars: list[str], start: int, reference: list[str], position: int) -> int:
    length = 0
    while (start + length < len(bars) and position + length < len(reference)
           and bars[start + length] == reference[position + length]):
        length += 1
    return length


def test_a_wrong_reference_path_is_said_before_any_tune_is_composed():
    result = subprocess.run([sys.executable, "-m", "livegen", "eval", "-n", "500", "--reference", "/nonexistent"],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 2 and result.stderr.strip() == "livegen: error: no ABC files at /nonexistent"


def test_a_tune_longer_than_an_hour_is_judged_on_its_first_bars_with_one_warning(tmp_path, caplog):
    """A 2 MB tune once took eval +223 MB per 20 MB: it is judged on its bars up to MAX_TUNE_CHARACTERS."""
    path = tmp_path / "long.abc"
    tune = "X:1\nT:Long\nM:4/4\nL:1/8\nK:G\n" + '"G"GABc "D7"dcBA|' * 125_000
    path.write_text(tune + "\n")
    (text,) = read_abc_texts(path)
    assert MAX_TUNE_CHARACTERS - len('"G"GABc "D7"dcBA|') < len(text) <= MAX_TUNE_CHARACTERS
    assert text.endswith("|") and read_tune(text).bar_faults == []  # cut at a bar line: every bar whole
    (warning,) = [record.getMessage() for record in caplog.records]
    (whole,) = split_tunes(read_abc_file(path))
    assert warning == f"tune 1 is {len(whole):,} characters long: judged on its first {len(text):,}"
