"""The independent form reader eval judges with: strains, bars, pickups, faults."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import pytest

from livegen.abc.collection import read_abc_file, split_tunes
from livegen.offline.corpus_forms import derive_forms, markdown_table, read_corpus, tune_type
from livegen.offline.form_reader import chord_pitch_classes, read_key, read_tune
from livegen.testing.abc2midi_reference import render_tunes_with_abc2midi


def tune(body: str, header: str = "M:4/4\nL:1/8\nK:G\n", title: str = "T:Test\n") -> str:
    return f"X:1\n{title}{header}{body}\n"


def strain_shapes(text: str) -> list[tuple[int, Fraction, int, bool]]:
    return [(strain.bar_count, strain.pickup, strain.endings, strain.repeated) for strain in read_tune(text).strains]


A_PART = "|:d|GABc dBAG|GABc dBAG|GABc dBAG|GABc dBA:|\n"


def test_repeated_strains_with_pickups_are_regular():
    form = read_tune(tune(A_PART + "|:B|GABc dBAG|GABc dBAG|GABc dBAG|GABc dBA:|"))
    assert strain_shapes(tune(A_PART * 2)) == [(4, Fraction(1, 8), 0, True)] * 2
    assert form.bar_faults == [] and form.regular_strains and form.bar_count == 8


def test_first_and_second_endings_count_once():
    text = tune("|:GABc dBAG|GABc dBAG|GABc dBAG|[1GABc dBAG:|[2GABc d4||\n"
                "GABc dBAG|GABc dBAG|GABc dBAG|GABc dBAG|]")
    assert strain_shapes(text) == [(4, 0, 2, True), (4, 0, 0, False)]


def test_a_short_final_bar_that_does_not_pay_back_the_pickup_is_a_fault():
    form = read_tune(tune('"A"e/2c/2 A/2e/2|"Bm"f/2d/2 "E"^g/2e/2||'))
    assert form.bar_faults == ["a short bar (1/4 of 1) in strain 1"]


def test_a_part_opening_on_a_full_bar_must_end_on_one():
    form = read_tune(tune("GABc dBAG|GABc dBAG|GABc dBAG|GABc d3:|\nGABc dBAG|GABc dBAG|GABc dBAG|GABc dBAG|]"))
    assert form.bar_faults == ["a short bar (7/8 of 1) in strain 1"]


def test_one_strain_or_odd_lengths_are_not_regular():
    assert not read_tune(tune("GABc dBAG|" * 8)).regular_strains
    assert not read_tune(tune("GABc dBAG|" * 7 + "||" + "GABc dBAG|" * 8)).regular_strains


def test_tuplets_chords_and_broken_rhythm_fill_bars_exactly():
    form = read_tune(tune("(3GAB c2 dBAG|GA (3Bcd e4|[GB]4 [c2e2][Bd]2|A>B c<d e2 z2|(5:4GABcd e4|"))
    assert form.bar_faults == [] and form.bar_count == 5


def test_mid_tune_changes_and_a_missing_metre_are_named():
    assert read_tune(tune("GABc dBAG|\nK:B\nGABc dBAG|")).inline_changes == ["K:B"]
    assert read_tune(tune("GABc dBAG|[M:3/4] GAB|")).inline_changes == ["M:3/4"]
    untitled_metre = read_tune(tune("GABc dBAG|", header="L:1/8\nK:G\n", title="T:Art Goade anLinndc|M:6/8\n"))
    assert untitled_metre.metre_missing and not read_tune(tune("GABc dBAG|")).metre_missing


@pytest.mark.parametrize("value, tonic, scale", [
    ("G", 7, {0, 2, 4, 6, 7, 9, 11}),
    ("Ador", 9, {0, 2, 4, 6, 7, 9, 11}),
    ("F#m", 6, {1, 2, 4, 6, 8, 9, 11}),
    ("Bb mix", 10, {0, 2, 3, 5, 7, 8, 10}),
    ("Dmaj", 2, {1, 2, 4, 6, 7, 9, 11}),
    ("Emin", 4, {0, 2, 4, 6, 7, 9, 11}),
])
def test_keys(value, tonic, scale):
    key = read_key(value)
    assert key.tonic == tonic and key.scale == scale


def test_chord_symbols():
    assert chord_pitch_classes("G") == {7, 11, 2}
    assert chord_pitch_classes("Em") == {4, 7, 11}
    assert chord_pitch_classes("D7") == {2, 6, 9, 0}
    assert chord_pitch_classes("F#m7") == {6, 9, 1, 4}
    assert chord_pitch_classes("Am/G") == {9, 0, 4, 7}
    assert chord_pitch_classes("xyz") is None


def test_notes_in_key_and_chord_fit_follow_accidentals():
    form = read_tune(tune('"G"G^c "C"c=c c4|c4 "D"d4|'))
    assert (form.notes, form.notes_in_key) == (7, 5)  # the ^c, and the c after it in the same bar
    assert (form.chord_changes, form.chords_fitting) == (3, 2)  # "C" falls on a c sharp


@pytest.fixture(scope="module")
def corpus(nottingham):
    return read_corpus(nottingham)


def test_the_corpus_reads_as_musicians_write_it(corpus):
    forms = [form for _, form in corpus]
    assert len(forms) > 1000
    assert sum(form.regular_strains for form in forms) / len(forms) > 0.75
    assert sum(bool(form.bar_faults) for form in forms) / len(forms) < 0.06
    assert sum(form.bar_count < 8 for form in forms) / len(forms) < 0.01


def test_the_corpus_forms_table_finds_aabb_for_reels_and_jigs(corpus):
    rows = {(row.tune_type, row.metre): row for row in derive_forms(corpus)}
    assert rows[("reel", "4/4")].forms[0][0] == "AABB 8+8"
    assert rows[("jig", "6/8")].forms[0][0] == "AABB 8+8"
    assert "| reel | 4/4 |" in markdown_table(list(rows.values()))


def test_a_tunes_type_is_its_r_field_read_as_every_field_is():
    """A comment is no part of the type, and an empty R: does not take the next line for its value."""
    assert tune_type(Path("reels.abc"), "X:1\nR:Slip jig % as the fiddler called it\nK:G\n") == "slip-jig"
    assert tune_type(Path("reels.abc"), "X:1\nR:\nT:Mason's Apron\nK:A\n") == "reel"


@pytest.mark.parametrize("body", ["A" + "2" * 5000 + "|", "A/" + "2" * 5000 + "|", "[AB]" + "3" * 5000 + "|",
                                  "Z" + "9" * 5000 + "|", "[M:" + "3" * 5000 + "/4]A|", "|" + "1" * 5000 + " A|",
                                  "(0ABC|", "[L:1/0]A|"])
def test_numbers_no_player_accepts_are_read_without_failing(body):
    assert read_tune(tune(body)).bars  # Python's int refuses strings of over 4,300 digits


def test_the_reader_counts_the_bars_abc2midi_plays(nottingham, abc2midi):
    """Bars as the reader counts them, each repeated strain twice, against the length of abc2midi's MIDI file."""
    text = read_abc_file(nottingham / "jigs.abc")
    played = render_tunes_with_abc2midi(text)
    agree = checked = 0
    for tune_text in split_tunes(text):
        form, number = read_tune(tune_text), int(tune_text.split("\n", 1)[0][2:])
        melody = played[number].channel_notes(0) if number in played else []
        if not melody or form.metre is None:
            continue
        quarters = Fraction(max(note.off_tick for note in melody), played[number].ticks_per_beat)
        checked += 1
        agree += sum(strain.bar_count * (2 if strain.repeated else 1) for strain in form.strains) == round(
            quarters / (form.metre * 4))
    assert checked > 300 and agree / checked > 0.9, (agree, checked)
