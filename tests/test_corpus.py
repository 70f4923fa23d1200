"""The training corpus: splitting, normalising (proved with abc2midi), validation split, vocabulary."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction

import pytest

from livegen.abc.collection import read_abc_file, split_tunes
from livegen.errors import LivegenError
from livegen.export.corpus import Tune, corpus_text, load_tunes, normalise_tune
from livegen.model.vocab import Vocabulary
from livegen.testing.abc2midi_reference import render_with_abc2midi


def test_split_ends_a_tune_at_a_blank_line_or_the_next_x_line():
    text = "% file comment\nX:1\nT:One\nK:G\nGAB|\n\nstray text\nX:2\nT:Two\nK:D\nDEF|\nX:3\nT:Three\nK:A\nABc|\n"
    tunes = split_tunes(text)
    assert [tune.splitlines()[1] for tune in tunes] == ["T:One", "T:Two", "T:Three"]
    assert "stray" not in "".join(tunes)
    assert tunes[1] == "X:2\nT:Two\nK:D\nDEF|\n"


def test_metre_after_the_key_moves_into_the_header_with_an_explicit_unit_length():
    raw = "X: 1\nT:A and D\n% Nottingham Music Database\nS:EF\nY:AB\nM:4/4\nK:A\nM:6/8\nP:A\nf|ecc c2f|\n"
    # L: comes from the header's first metre (4/4 -> 1/8), the metre in force is 6/8.
    assert normalise_tune(raw) == "X:1\nT:A and D\nM:6/8\nL:1/8\nK:A\nP:A\nf|ecc c2f|\n"


def test_header_order_is_kept_fields_then_metre_unit_length_key():
    raw = "X:7\nK:Em\nT:late title\n"  # K: ends the header; T: after it is a body field
    assert normalise_tune("X:7\nT:t\nR:reel\nL:1/16\nQ:1/4=120\nM:2/4\nK:Em\nEF|\n") == (
        "X:7\nT:t\nR:reel\nQ:1/4=120\nM:2/4\nL:1/16\nK:Em\nEF|\n"
    )
    assert normalise_tune(raw).startswith("X:7\nL:1/8\nK:Em\nT:late title\n")


def test_comments_and_non_musical_fields_go_but_directives_and_inline_fields_stay():
    raw = "X:3\nT:t\nN:a note\nM:3/4\nK:G\n%%MIDI gchord fzz\nG2A B2c|% end\n[K:D] d2e f3|\nW:words\n"
    assert normalise_tune(raw) == "X:3\nT:t\nM:3/4\nL:1/8\nK:G\n%%MIDI gchord fzz\nG2A B2c|\n[K:D] d2e f3|\n"


@pytest.mark.parametrize(("metre", "unit"), [("2/4", Fraction(1, 16)), ("3/4", Fraction(1, 8)),
                                             ("6/8", Fraction(1, 8)), ("C", Fraction(1, 8)),
                                             ("C|", Fraction(1, 8)), ("2/2", Fraction(1, 8)),
                                             ("none", Fraction(1, 8))])
def test_default_unit_length_follows_the_abc_standard(metre, unit):
    assert normalise_tune(f"X:1\nM:{metre}\nK:C\nC|\n").splitlines()[2] == f"L:{unit}"


def test_normalising_keeps_every_note_of_every_tune(nottingham, abc2midi):
    """abc2midi plays each original tune and its normalised text identically: melody, chords, bass."""
    raws = [(path.name, raw) for path in sorted(nottingham.glob("*.abc")) for raw in split_tunes(read_abc_file(path))]
    assert len(raws) > 1000

    def differs(item):
        name, raw = item
        original = render_with_abc2midi(raw).notes
        normalised = render_with_abc2midi(normalise_tune(raw)).notes
        assert original, f"abc2midi played nothing for {name}"
        return None if original == normalised else f"{name} {raw.splitlines()[0]}"

    with ThreadPoolExecutor(max_workers=4) as pool:
        different = [tune for tune in pool.map(differs, raws) if tune]
    assert different == []


def test_validation_split_is_five_percent_by_whole_tune_and_stable(nottingham):
    tunes = load_tunes(nottingham)
    validation = {tune.text for tune in tunes if tune.is_validation}
    assert 0.03 < len(validation) / len(tunes) < 0.08
    # Adding tunes, reordering files or renumbering X: moves no tune across the split.
    added = [Tune(f"X:1\nT:new {index}\nM:4/4\nL:1/8\nK:G\nGABc|\n", "new") for index in range(200)]
    reordered = list(reversed(tunes)) + added
    assert {tune.text for tune in reordered if tune.is_validation} - {t.text for t in added} == validation
    renumbered = Tune(tunes[0].text.replace(tunes[0].text.splitlines()[0], "X:9999"), "renumbered")
    assert renumbered.is_validation == tunes[0].is_validation


def test_every_normalised_tune_ends_its_header_with_metre_unit_length_key(nottingham):
    for tune in load_tunes(nottingham):
        header = tune.text.split("\nK:", 1)[0].splitlines()
        assert header[-2].startswith("M:") and header[-1].startswith("L:"), tune.source


def test_corpus_text_separates_tunes_with_a_blank_line():
    tunes = [Tune("X:1\nK:G\nG|\n", "a"), Tune("X:2\nK:D\nD|\n", "b")]
    assert corpus_text(tunes) == "X:1\nK:G\nG|\n\nX:2\nK:D\nD|\n\n"


def test_vocabulary_round_trips_and_names_a_character_it_never_saw():
    vocabulary = Vocabulary.from_text("X:1\nK:G\nGAB|\n")
    assert vocabulary.decode(vocabulary.encode("GAB|")) == "GAB|"
    with pytest.raises(LivegenError, match=r"'€' \(at position 3"):
        vocabulary.encode("GAB€")
