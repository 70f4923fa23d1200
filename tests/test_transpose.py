"""Transposition for training: the same tune in another key, checked by abc2midi and by livegen's own player."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

from livegen.abc import Note, parse_tunes
from livegen.export.corpus import load_tunes
from livegen.export.transpose import Untransposable, fingerprint, target_keys, transpose, transpose_to, transpositions
from livegen.perform.render import perform
from livegen.testing.abc2midi_reference import render_with_abc2midi

# (letters, semitones): up a fifth, down a fourth, down a minor third, up a major second.
INTERVALS = [(4, 7), (-3, -5), (-2, -3), (1, 2)]
MELODY, BASS, CHORDS = 0, 1, 2


def _performed(tune: str, shift: int = 0) -> list[tuple[int, int]]:
    """livegen's performance shifted: melody pitches, and the pitch classes of voiced chords (their octave is the
    voicing's)."""
    return [(note.pitch + shift if note.channel == 0 else (note.pitch + shift) % 12, note.channel)
            for note in perform(parse_tunes(tune)[0]).notes]


def test_a_transposed_tune_plays_the_same_melody_and_chords_shifted_by_the_interval(nottingham, abc2midi):
    """Every tenth corpus tune, each moved by one of four intervals, through abc2midi and livegen's render."""
    tunes = load_tunes(nottingham)[::10]

    def mismatch(item):
        index, tune = item
        steps, semitones = INTERVALS[index % len(INTERVALS)]
        try:
            moved = transpose(tune.text, steps, semitones, keep_in_range=False)
        except Untransposable:
            return "untransposable"
        original, copy = render_with_abc2midi(tune.text), render_with_abc2midi(moved)
        if [(n.pitch + semitones, n.on_tick, n.off_tick) for n in original.channel_notes(MELODY)] != [
                (n.pitch, n.on_tick, n.off_tick) for n in copy.channel_notes(MELODY)]:
            return f"{tune.source}: abc2midi melody"
        # abc2midi reads Nottingham's sharp bass "D/f+" as F natural: such tunes are checked by livegen alone.
        if "+" not in tune.text and [(n.pitch + semitones) % 12 for n in original.channel_notes(BASS, CHORDS)] != [
                n.pitch % 12 for n in copy.channel_notes(BASS, CHORDS)]:
            return f"{tune.source}: abc2midi chords"
        if _performed(tune.text, semitones) != _performed(moved):
            return f"{tune.source}: livegen render"
        return None

    with ThreadPoolExecutor(max_workers=4) as pool:
        problems = [problem for problem in pool.map(mismatch, enumerate(tunes)) if problem]
    assert len(tunes) > 100 and problems.count("untransposable") < 5
    assert [problem for problem in problems if problem != "untransposable"] == []


def test_accidentals_carry_through_the_bar_and_chord_symbols_move_with_the_notes():
    tune = 'X:1\nT:t\nM:4/4\nL:1/8\nK:G\n"G"GA ^c c "D/f+"d2 =F F|"Em7"e2 B,2 "Bb"_B2 z2|\n'
    moved = transpose_to(tune, "A")  # up a major second
    assert moved.splitlines()[4] == "K:A"
    assert moved.splitlines()[5] == '"A"AB ^d d "E/g+"e2 =G G|"F#m7"f2 C2 "C"=c2 z2|'
    original_pitches = [e.pitch for e in parse_tunes(tune)[0] if isinstance(e, Note)]
    moved_pitches = [e.pitch for e in parse_tunes(moved)[0] if isinstance(e, Note)]
    assert moved_pitches == [pitch + 2 for pitch in original_pitches]


def _pitches(tune: str) -> list[int]:
    return [event.pitch for event in parse_tunes(tune)[0] if isinstance(event, Note)]


def test_copies_stay_in_a_fiddles_range_or_are_not_made():
    keys = {"maj": ["C", "G", "A", "F"]}
    high = "X:1\nT:t\nM:4/4\nL:1/8\nK:D\nd'2 c'2 B2 A2|\n"  # d' is a tone under the top: copies go down
    assert [copy.splitlines()[4] for copy in transpositions(high, keys)] == ["K:C", "K:G", "K:A", "K:F"]
    assert all(_pitches(copy)[0] < _pitches(high)[0] for copy in transpositions(high, keys))
    wide = "X:1\nT:t\nM:4/4\nL:1/8\nK:G\nG,2 A,2 e'2 d'2|\n"  # the whole range already: no copy fits
    assert transpositions(wide, keys) == []


def test_the_corpus_keys_per_mode_are_the_ones_it_writes_in(nottingham):
    keys = target_keys([tune.text for tune in load_tunes(nottingham)])
    assert {"G", "D", "A", "C"} <= set(keys["maj"]) and "F#" not in keys["maj"]
    assert {"E", "A"} <= set(keys["min"])


def test_no_validation_tune_or_a_transposed_copy_of_one_reaches_training(training_extra, nottingham):
    from livegen.export.train import split_corpus

    plain = split_corpus(nottingham, transpose_to="none")
    augmented = split_corpus(nottingham, transpose_to="auto")
    assert augmented.validation == plain.validation  # the same 57 tunes, untransposed
    assert augmented.transposed_copies > 3 * len(plain.training)
    held_out = {fingerprint(tune.text) for tune in augmented.validation}
    assert not any(fingerprint(tune.text) in held_out for tune in augmented.training)
    assert {tune.text for tune in augmented.training}.isdisjoint(tune.text for tune in augmented.validation)


def test_a_bad_transpose_to_is_one_clear_error(training_extra, nottingham):
    from livegen.errors import LivegenError
    from livegen.export.train import split_corpus

    with pytest.raises(LivegenError, match="--transpose-to"):
        split_corpus(nottingham, max_tunes=5, transpose_to="H,Q")
