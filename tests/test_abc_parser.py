"""The streaming ABC parser, feature by feature.

Expected pitches and lengths are worked out from the ABC 2.1 standard, not
copied from the parser: middle C (``C``) is MIDI 60, ``c`` 72, each ``,`` or
``'`` an octave; lengths are fractions of a whole note, a multiple of the unit
length L: (default 1/8, or 1/16 when the header's M: is below 3/4).
"""

from __future__ import annotations

from fractions import Fraction as F

import pytest

from livegen.abc import (
    AbcStreamParser,
    Annotation,
    Bar,
    Chord,
    ChordSymbol,
    Context,
    Diagnostic,
    Ending,
    EndOfTune,
    Field,
    Note,
    Rest,
    TimedChordSymbol,
    TimedNote,
    parse_key,
    parse_tunes,
    play_order,
    read_tunes,
    timeline,
)
from livegen.abc.chord_symbols import parse_chord_symbol, read_quoted
from livegen.abc.collection import read_abc_pieces
from livegen.abc.repeats import parse_part_order
from livegen.perform.render import perform

HEADER = "X:1\nT:test\nM:4/4\nL:1/8\nK:C\n"


def parse(body: str, header: str = HEADER) -> list:
    """All events of one tune, fields left out."""
    parser = AbcStreamParser()
    events = parser.feed_text(header + body) + parser.flush()
    return [event for event in events if not isinstance(event, (Field, EndOfTune))]


def notes(body: str, header: str = HEADER) -> list[tuple[int, F]]:
    return [(event.pitch, event.duration) for event in parse(body, header) if isinstance(event, Note)]


def pitches(body: str, header: str = HEADER) -> list[int]:
    return [pitch for pitch, _ in notes(body, header)]


def melody(text: str) -> list[tuple[int, F, F]]:
    """(pitch, onset, duration) of the played notes of the first tune in ``text``."""
    played = timeline(play_order(parse_tunes(text)[0]))
    return [(item.pitch, item.onset, item.duration) for item in played if isinstance(item, TimedNote)]


def letters(text: str) -> str:
    """The played melody of a tune in C as note letters: "CDCD" and the like."""
    names = {60: "C", 62: "D", 64: "E", 65: "F", 67: "G", 69: "A", 71: "B", 72: "c"}
    return "".join(names[pitch] for pitch, _, _ in melody(text))


# ------------------------------------------------------------------ pitches


def test_letters_and_octave_marks_give_midi_pitches():
    assert pitches("C D E F G A B c d e f g a b|") == [60, 62, 64, 65, 67, 69, 71, 72, 74, 76, 77, 79, 81, 83]
    assert pitches("C, C,, c' c'' B,|") == [48, 36, 84, 96, 59]


def test_accidentals_sharpen_flatten_and_cancel():
    assert pitches("^C _D =E ^^F __B|") == [61, 61, 64, 67, 69]


# Pitches of C D E F G A B in each key: the standard's key signatures.
NATURAL = [60, 62, 64, 65, 67, 69, 71]
G_MAJOR = [60, 62, 64, 66, 67, 69, 71]  # F#
D_MAJOR = [61, 62, 64, 66, 67, 69, 71]  # F# C#
A_MAJOR = [61, 62, 64, 66, 68, 69, 71]  # F# C# G#
F_MAJOR = [60, 62, 64, 65, 67, 69, 70]  # Bb
B_FLAT_MAJOR = [60, 62, 63, 65, 67, 69, 70]  # Bb Eb


@pytest.mark.parametrize(
    "key, expected",
    [
        ("C", NATURAL),
        ("G", G_MAJOR),
        ("D", D_MAJOR),
        ("F", F_MAJOR),
        ("Bb", B_FLAT_MAJOR),
        ("Eb", [60, 62, 63, 65, 67, 68, 70]),
        ("Am", NATURAL),
        ("Amin", NATURAL),
        ("A minor", NATURAL),
        ("Em", G_MAJOR),
        ("F#m", A_MAJOR),
        ("C#m", [61, 63, 64, 66, 68, 69, 71]),  # E major's four sharps
        ("Gm", B_FLAT_MAJOR),
        ("Ador", G_MAJOR),  # dorian: a tone below the major key with the same signature
        ("Dmix", G_MAJOR),  # mixolydian: a fifth above it
        ("Emix", A_MAJOR),
        ("Dphr", B_FLAT_MAJOR),  # phrygian: a major third above it
        ("Flyd", NATURAL),  # lydian: a fourth above it
        ("Bloc", NATURAL),  # locrian: a semitone below it
        ("DMajor", D_MAJOR),
        ("D ^g", A_MAJOR),  # an explicit accidental added to D major
        ("D exp _b", F_MAJOR),  # exp: only the accidentals written
        ("none", NATURAL),
        ("Hp", D_MAJOR),  # Highland pipes: F# and C#
        ("HP", D_MAJOR),
        ("G clef=bass", G_MAJOR),
    ],
)
def test_key_signatures_alter_the_letters(key, expected):
    assert pitches("CDEFGAB|", f"X:1\nK:{key}\n") == expected


@pytest.mark.parametrize("key, expected", [
    ("Dm^c", (1, 0, 0, 0, 0, 0, -1)), ("Dm^c^f", (1, 0, 0, 1, 0, 0, -1)), ("Amix^g", (1, 0, 0, 1, 1, 0, 0)),
    ("HP^g", (1, 0, 0, 1, 1, 0, 0)), ("D^g", (1, 0, 0, 1, 0, 0, 0)),
])
def test_accidentals_written_onto_the_key_count_after_a_mode_as_abc2midi_reads_them(key, expected):
    assert parse_key(key).alterations == expected


def test_an_unknown_key_is_reported_and_leaves_c_major():
    events = parse("F|", "X:1\nK:Q\n")
    assert any(isinstance(event, Diagnostic) for event in events)
    assert [event.pitch for event in events if isinstance(event, Note)] == [65]


def test_accidentals_last_to_the_bar_line_in_every_octave():
    # The standard's default (propagate-accidentals pitch), as abc2midi plays it.
    assert pitches("^F F f | F|") == [66, 66, 78, 65]
    assert pitches("F =F F | F|", "X:1\nK:G\n") == [66, 65, 65, 66]


def test_an_accidental_carries_over_a_tie_across_the_bar_line_only_into_the_tied_note():
    events = [event for event in parse("^F2-|F2 F2|") if isinstance(event, Note)]
    assert [(event.pitch, event.tie) for event in events] == [(66, True), (66, False), (65, False)]


def test_pitch_beyond_midi_range_moves_by_octaves_with_a_diagnostic():
    events = parse("b'''|")  # 83 + 36 = 119 fits
    assert [event.pitch for event in events if isinstance(event, Note)] == [119]
    assert not any(isinstance(event, Diagnostic) for event in events)
    events = parse("b''''|")  # 131 does not: an octave down
    assert [event.pitch for event in events if isinstance(event, Note)] == [119]
    assert any(isinstance(event, Diagnostic) for event in events)
    events = parse("C,,,,,,|")  # 60 - 72 = -12: up to 0
    assert [event.pitch for event in events if isinstance(event, Note)] == [0]


# ------------------------------------------------------------------ lengths


def test_multipliers_and_divisors_of_the_unit_length():
    assert [length for _, length in notes("C2 C/2 C/ C// C3/2 C3// C4 C/4|")] == [
        F(1, 4), F(1, 16), F(1, 16), F(1, 32), F(3, 16), F(3, 32), F(1, 2), F(1, 32),
    ]


@pytest.mark.parametrize(
    "header, unit",
    [
        ("M:4/4\n", F(1, 8)),
        ("M:6/8\n", F(1, 8)),
        ("M:3/4\n", F(1, 8)),  # 3/4 is not below 3/4
        ("M:2/4\n", F(1, 16)),
        ("M:C|\n", F(1, 8)),
        ("", F(1, 8)),  # no M: at all
        ("M:2/4\nL:1/4\n", F(1, 4)),
    ],
)
def test_default_unit_length_comes_from_the_header_metre(header, unit):
    assert notes("C|", f"X:1\n{header}K:C\n") == [(60, unit)]


def test_a_metre_change_in_the_body_keeps_the_unit_length():
    assert notes("M:2/4\nC|", "X:1\nM:4/4\nK:C\n") == [(60, F(1, 8))]


def test_unit_length_fields_in_the_body_and_inline():
    assert [length for _, length in notes("C [L:1/4] C|\nL:1/16\nC|")] == [F(1, 8), F(1, 4), F(1, 16)]


@pytest.mark.parametrize(
    "body, lengths",
    [
        ("A>B|", [F(3, 16), F(1, 16)]),
        ("A<B|", [F(1, 16), F(3, 16)]),
        ("A>>B|", [F(7, 32), F(1, 32)]),
        ("A<<B|", [F(1, 32), F(7, 32)]),
        ("A2>B2|", [F(3, 8), F(1, 8)]),
    ],
)
def test_broken_rhythm(body, lengths):
    assert [length for _, length in notes(body)] == lengths


def test_broken_rhythm_between_chords():
    events = [event for event in parse("[CE]>[DF]|") if isinstance(event, Chord)]
    assert [event.duration for event in events] == [F(3, 16), F(1, 16)]


@pytest.mark.parametrize(
    "body, lengths",
    [
        ("(3ABc d|", [F(1, 12)] * 3 + [F(1, 8)]),  # three in the time of two
        ("(2AB c|", [F(3, 16)] * 2 + [F(1, 8)]),  # two in the time of three
        ("(4ABcd|", [F(3, 32)] * 4),  # four in the time of three
        ("(3:2:4ABcd e|", [F(1, 12)] * 4 + [F(1, 8)]),  # p:q:r, r notes
        ("(3::2AB c|", [F(1, 12)] * 2 + [F(1, 8)]),
        ("(3A2B2c2|", [F(1, 6)] * 3),
        ("(3z2AB|", [F(1, 12)] * 2),  # a rest counts as a tuplet note
        ("(5ABcde|", [F(1, 20)] * 5),  # simple metre: five in the time of two
    ],
)
def test_tuplets(body, lengths):
    assert [length for _, length in notes(body)] == lengths


def test_five_in_compound_metre_takes_the_time_of_three():
    assert [length for _, length in notes("(5ABcde|", "X:1\nM:6/8\nK:C\n")] == [F(3, 40)] * 5


# ---------------------------------------------------------- ties, chords, rests


def test_a_tie_marks_the_note_and_the_timeline_joins_it():
    events = [event for event in parse("C2-C D|") if isinstance(event, Note)]
    assert [(event.pitch, event.duration, event.tie) for event in events] == [
        (60, F(1, 4), True), (60, F(1, 8), False), (62, F(1, 8), False)]
    assert melody(HEADER + "C2-C D|") == [(60, F(0), F(3, 8)), (62, F(3, 8), F(1, 8))]


def test_a_tie_may_follow_a_space_and_cross_a_line():
    assert melody(HEADER + "c3 -c2 d|\nd4-\\\n|d4|") == [
        (72, F(0), F(5, 8)), (74, F(5, 8), F(1, 8)), (74, F(3, 4), F(1))]


def test_a_tie_to_another_pitch_joins_nothing():
    assert melody(HEADER + "C2-D2|") == [(60, F(0), F(1, 4)), (62, F(1, 4), F(1, 4))]


def test_chords_sound_together_and_last_as_their_first_note():
    [chord] = [event for event in parse("[CEG]|") if isinstance(event, Chord)]
    assert [note.pitch for note in chord.notes] == [60, 64, 67]
    assert chord.duration == F(1, 8)
    [chord] = [event for event in parse("[CEG]2|") if isinstance(event, Chord)]
    assert chord.duration == F(1, 4)
    [chord] = [event for event in parse("[C2E2G2]3/2|") if isinstance(event, Chord)]
    assert chord.duration == F(3, 8)
    [chord] = [event for event in parse("[^F,2 A2 d]|") if isinstance(event, Chord)]
    assert [(note.pitch, note.duration) for note in chord.notes] == [(54, F(1, 4)), (69, F(1, 4)), (74, F(1, 8))]
    assert chord.duration == F(1, 4)


def test_ties_inside_and_after_chords():
    assert melody(HEADER + "[C2-E2][CE]|") == [
        (60, F(0), F(3, 8)), (64, F(0), F(1, 4)), (64, F(1, 4), F(1, 8))]
    assert melody(HEADER + "[CE]-[CE]|") == [(60, F(0), F(1, 4)), (64, F(0), F(1, 4))]


def test_rests_visible_invisible_and_whole_bars():
    events = [event for event in parse("z2 x Z Z4 X3|", "X:1\nM:3/4\nL:1/8\nK:C\n") if isinstance(event, Rest)]
    assert [(event.duration, event.invisible, event.bars) for event in events] == [
        (F(1, 4), False, 0), (F(1, 8), True, 0), (F(3, 4), False, 1), (F(3), False, 4), (F(9, 4), True, 3)]


def test_grace_notes_take_no_time():
    parser = AbcStreamParser()
    events = parser.feed_text(HEADER + "{gf}A {/e}B")
    grace = [(event.pitch, event.grace) for event in events if isinstance(event, Note)]
    assert grace == [(79, True), (77, True), (69, False), (76, True)]
    assert parser.state.bar_position == F(1, 8)  # only the A: the B is still being written
    assert melody(HEADER + "{g}A B|") == [(79, F(0), F(1, 8)), (69, F(0), F(1, 8)), (71, F(1, 8), F(1, 8))]


def test_decorations_attach_to_the_next_note_and_never_break_parsing():
    events = [event for event in parse("~A .B !trill!c +fermata+d Te u v H L M O P S G|") if isinstance(event, Note)]
    assert [(event.pitch, event.decorations) for event in events] == [
        (69, ("roll",)), (71, ("staccato",)), (72, ("trill",)), (74, ("fermata",)), (76, ("trill",)),
        (67, ("upbow", "downbow", "fermata", "accent", "lowermordent", "coda", "uppermordent", "segno")),
    ]


def test_slurs_play_nothing():
    assert pitches("(AB) (c(de)f)|") == [69, 71, 72, 74, 76, 77]


# ------------------------------------------------------------ chord symbols


@pytest.mark.parametrize(
    "text, root, quality, bass, pitch_classes",
    [
        ("G", 7, "maj", None, {7, 11, 2}),
        ("Am", 9, "min", None, {9, 0, 4}),
        ("Am7", 9, "m7", None, {9, 0, 4, 7}),
        ("D7", 2, "7", None, {2, 6, 9, 0}),
        ("F#m", 6, "min", None, {6, 9, 1}),
        ("Bb", 10, "maj", None, {10, 2, 5}),
        ("D/f#", 2, "maj", 6, {2, 6, 9}),
        ("G/b", 7, "maj", 11, {7, 11, 2}),
        ("Am/g", 9, "min", 7, {9, 0, 4, 7}),
        ("D/f+", 2, "maj", 6, {2, 6, 9}),  # Nottingham writes the sharp as '+'
        ("Cd", 0, "dim", None, {0, 3, 6}),
        ("Cdim", 0, "dim", None, {0, 3, 6}),
        ("Ca", 0, "aug", None, {0, 4, 8}),
        ("Caug", 0, "aug", None, {0, 4, 8}),
        ("C+", 0, "aug", None, {0, 4, 8}),
        ("Bm7b5", 11, "m7b5", None, {11, 2, 5, 9}),
        ("Gsus4", 7, "sus4", None, {7, 0, 2}),
        ("Gmaj7", 7, "maj7", None, {7, 11, 2, 6}),
        ("Gdim7", 7, "dim7", None, {7, 10, 1, 4}),
        ("C6", 0, "6", None, {0, 4, 7, 9}),
        ("Dm6", 2, "m6", None, {2, 5, 9, 11}),
        ("E7b9", 4, "7b9", None, {4, 8, 11, 2, 5}),
        ("(E7)", 4, "7", None, {4, 8, 11, 2}),
    ],
)
def test_chord_symbols(text, root, quality, bass, pitch_classes):
    symbol = parse_chord_symbol(text)
    assert (symbol.root, symbol.quality, symbol.bass, symbol.known) == (root, quality, bass, True)
    assert symbol.pitch_classes == pitch_classes


@pytest.mark.parametrize("text, placement",
                         [("^up", "^"), ("_down", "_"), ("<left", "<"), (">right", ">"), ("@1,2 x", "@")])
def test_annotations_are_not_chords(text, placement):
    assert read_quoted(text) == Annotation(text[1:], placement)


def test_text_that_is_not_a_chord_is_an_annotation():
    assert read_quoted("From the top") == Annotation("From the top")
    assert read_quoted("3") == Annotation("3")


def test_an_unknown_quality_plays_a_major_chord_and_says_so():
    events = parse('"Gxyz"G|')
    [symbol] = [event for event in events if isinstance(event, ChordSymbol)]
    assert (symbol.known, symbol.pitch_classes) == (False, {7, 11, 2})
    assert any(isinstance(event, Diagnostic) and "xyz" in event.message for event in events)


def test_chord_symbols_come_before_their_note_and_sit_at_its_onset():
    events = parse('"G"GA "D7"d2|')
    assert [type(event).__name__ for event in events] == ["ChordSymbol", "Note", "Note", "ChordSymbol", "Note", "Bar"]
    played = timeline(play_order(parse_tunes(HEADER + '"G"GA "D7"d2|')[0]))
    assert [(item.onset, item.symbol.text) for item in played if isinstance(item, TimedChordSymbol)] == [
        (F(0), "G"), (F(1, 4), "D7")]


# ----------------------------------------------------- bars, endings, lines


def test_bar_lines_as_written():
    bars = [event.text for event in parse("A|B||c|]d[|e|:f:|g::a:|]b|") if isinstance(event, Bar)]
    assert bars == ["|", "||", "|]", "[|", "|:", ":|", "::", ":|]", "|"]


@pytest.mark.parametrize(
    "body, numbers",
    [("[1A:|[2B|", [(1,), (2,)]), ("|1A:|2B|", [(1,), (2,)]), ("[1,3A:|[2B|", [(1, 3), (2,)]),
     ("[1-3A:|[4B|", [(1, 2, 3), (4,)])],
)
def test_endings(body, numbers):
    assert [event.numbers for event in parse(body) if isinstance(event, Ending)] == numbers


def test_bar_lines_reset_the_bar_position():
    parser = AbcStreamParser()
    parser.feed_text(HEADER + "A2 B")
    assert parser.state.bar_position == F(1, 4)
    parser.feed_text("|c")
    assert parser.state.bar_position == 0 and parser.state.bar_number == 1


def test_line_continuation_and_comments():
    assert pitches("AB\\\ncd % a comment with notes CDEF\n%ABC\nef|") == [69, 71, 72, 74, 76, 77]


def test_fields_in_the_header_and_the_body():
    parser = AbcStreamParser()
    events = parser.feed_text("X:3\nT:Tune\nM:6/8\nL:1/8\nQ:3/8=120\nR:jig\nP:AB\nK:G\nP:A\nG|\n") + parser.flush()
    fields = [(event.name, event.value, event.header) for event in events if isinstance(event, Field)]
    assert fields == [
        ("X", "3", True), ("T", "Tune", True), ("M", "6/8", True), ("L", "1/8", True), ("Q", "3/8=120", True),
        ("R", "jig", True), ("P", "AB", True), ("K", "G", True), ("P", "A", False),
    ]


def test_inline_fields_change_key_metre_and_tempo():
    parser = AbcStreamParser()
    events = parser.feed_text(HEADER + "F [K:G] F [M:6/8][Q:1/4=90] F")
    assert [event.pitch for event in events if isinstance(event, Note)] == [65, 66]
    state = parser.state
    assert (state.key.tonic, state.meter.bar_length, state.tempo.bpm, state.tempo.beat) == ("G", F(3, 4), 90, F(1, 4))
    assert [(event.name, event.inline) for event in events if isinstance(event, Field)][-3:] == [
        ("K", True), ("M", True), ("Q", True)]


def test_a_key_field_line_in_the_body():
    assert pitches("F|\nK:D\nFc|") == [65, 66, 73]


def test_a_blank_line_or_a_new_x_ends_the_tune():
    parser = AbcStreamParser()
    events = parser.feed_text("X:1\nK:C\nC|\n\nfree text is ignored\nX:2\nK:D\nF|\nX:3\nK:C\nF|\n")
    events += parser.flush()
    assert [type(event).__name__ for event in events if isinstance(event, (Note, EndOfTune))] == [
        "Note", "EndOfTune", "Note", "EndOfTune", "Note", "EndOfTune"]
    assert [event.pitch for event in events if isinstance(event, Note)] == [60, 66, 65]
    assert not any(isinstance(event, Diagnostic) for event in events)


def test_a_new_tune_starts_from_defaults():
    tunes = parse_tunes("X:1\nL:1/4\nK:D\nF|\n\nX:2\nK:C\nF|\n")
    assert [(event.pitch, event.duration) for event in tunes[1] if isinstance(event, Note)] == [(65, F(1, 8))]


# --------------------------------------------------------- streaming and state


def test_a_note_comes_out_when_a_character_shows_its_length_has_ended():
    parser = AbcStreamParser()
    parser.feed_text(HEADER)
    emitted = [(char, parser.feed(char)) for char in "C2-C>D|\n"]
    assert [(char, [type(event).__name__ for event in events]) for char, events in emitted] == [
        ("C", []), ("2", []), ("-", []),  # a tie may still follow, and it did
        ("C", ["Note"]),  # C2- is complete: the next note began
        (">", []), ("D", ["Note"]),  # the dotted C is known once the '>' run ends
        ("|", ["Note"]), ("\n", ["Bar"]),  # a bar line could still grow: '||', '|:', '|]'
    ]
    notes_out = [event for _, events in emitted for event in events if isinstance(event, Note)]
    assert [(note.duration, note.tie) for note in notes_out] == [(F(1, 4), True), (F(3, 16), False), (F(1, 16), False)]


def test_state_tells_where_the_next_character_lands():
    parser = AbcStreamParser()
    assert parser.state.context is Context.LINE_START and not parser.state.in_tune
    parser.feed_text("X:1\nM:3/4\n")
    assert parser.state.in_header and parser.state.meter.bar_length == F(3, 4)
    parser.feed_text("K:Bb\n")
    state = parser.state
    assert (state.in_header, state.key.tonic, state.unit_length) == (False, "Bb", F(1, 8))
    parser.feed_text('"G')
    assert parser.state.context is Context.QUOTE
    parser.feed_text('m"[B')
    assert parser.state.in_chord
    parser.feed_text("d]2")
    assert parser.state.context is Context.NOTE and not parser.state.in_chord
    assert parser.state.pending_length == F(1, 4)
    parser.feed_text(" (3")
    assert parser.state.context is Context.TUPLET
    parser.feed_text("A")
    assert parser.state.bar_position == F(1, 4) and parser.state.tuplet_notes_left == 3
    parser.feed_text("Bc")
    assert parser.state.pending_length == F(1, 12)
    parser.feed_text(" !tr")
    assert parser.state.context is Context.DECORATION
    parser.feed_text("ill!{")
    assert parser.state.in_grace
    parser.feed_text("g}d|")
    assert parser.state.context is Context.BAR and parser.state.bar_position == F(1, 4) + F(1, 4) + F(1, 8)


def test_flush_completes_the_last_note_and_the_tune():
    parser = AbcStreamParser()
    assert parser.feed_text(HEADER + "C") == [Field("X", "1", True), Field("T", "test", True),
                                              Field("M", "4/4", True), Field("L", "1/8", True), Field("K", "C", True)]
    assert parser.flush() == [Note(60, F(1, 8)), EndOfTune()]
    assert parser.flush() == []


# ---------------------------------------------------------------- diagnostics


def test_garbage_gives_a_diagnostic_and_parsing_resumes_at_the_next_bar_line():
    events = parse("AB & cd|ef|")
    assert [event.pitch for event in events if isinstance(event, Note)] == [69, 71, 76, 77]
    [diagnostic] = [event for event in events if isinstance(event, Diagnostic)]
    assert (diagnostic.line, diagnostic.column) == (6, 4)  # the '&' on the sixth line


def test_skipping_garbage_still_respects_a_comment():
    assert pitches("AB &% cd|ef|\ng|") == [69, 71, 79]


def test_garbage_resynchronises_at_the_next_field_line():
    events = parse("AB ^ cd\nK:D\nF|")
    assert [event.pitch for event in events if isinstance(event, Note)] == [69, 71, 66]


def test_an_unclosed_quote_is_dropped_at_the_end_of_the_line():
    events = parse('"G AB\ncd|')
    assert [event.pitch for event in events if isinstance(event, Note)] == [72, 74]
    assert not any(isinstance(event, ChordSymbol) for event in events)


def test_a_forgotten_closing_bracket_is_closed_by_the_bar_line():
    events = parse("[CE2|G|")
    chords = [event for event in events if isinstance(event, Chord)]
    assert [[note.pitch for note in chord.notes] for chord in chords] == [[60, 64]]
    assert any(isinstance(event, Diagnostic) for event in events)


def test_an_unclosed_decoration_is_read_as_music():
    # An old-style '!' line break, or a stray '+': abc2midi plays what follows.
    assert pitches("AB !cd|") == [69, 71, 72, 74]


def test_music_in_the_header_is_reported_and_skipped():
    parser = AbcStreamParser()
    events = parser.feed_text("X:1\nABC\nK:C\nD|\n") + parser.flush()
    assert [event.pitch for event in events if isinstance(event, Note)] == [62]
    assert any(isinstance(event, Diagnostic) for event in events)


# -------------------------------------------------------------------- repeats


@pytest.mark.parametrize(
    "body, played",
    [
        ("|:CD:|EF|", "CDCDEF"),
        ("|:CD:|:EF:|", "CDCDEFEF"),
        ("|:CD::EF:|", "CDCDEFEF"),
        ("|:CD:||:EF:|", "CDCDEFEF"),
        ("|:C|[1D:|[2E|F|", "CDCEF"),
        ("|:C|1D:|2E|F|", "CDCEF"),
        ("|:C|[1,3D:|[2E:|[4F|", "CDCECDCF"),  # endings taken in turn
        ("CD:|EF|", "CDCDEF"),  # no |: -- from the start
        ("CD:|EF:|", "CDCDEFEF"),  # the second :| repeats from the first
        ("CD||EF:|", "CDEFCDEF"),  # even past a ||
        ("|:CD:|EF||GA|[1B:|[2c|", "CDCDEFGABGAc"),  # endings with no |: repeat from the last ||
        ("|:CD|:EF:|", "CDCDEFEF"),  # a second |: before a :| acts as ::
    ],
)
def test_repeats_and_endings_play_as_abc2midi_plays_them(body, played):
    assert letters("X:1\nL:1/4\nK:C\n" + body + "\n") == played


def test_parts_play_in_the_order_the_header_gives():
    tune = "X:1\nP:AAB\nL:1/4\nK:C\nP:A\nCD:|\nP:B\nEF|\n"
    assert letters(tune) == "CDCD" * 2 + "EF"
    assert letters(tune.replace("P:AAB", "P:(AB)2")) == ("CDCDEF") * 2
    assert letters(tune.replace("P:AAB", "P:BA")) == "EFCDCD"
    # Without an order in the header, body P: labels are only labels.
    assert letters(tune.replace("P:AAB\n", "")) == "CDCDEF"


def test_part_order_spelling():
    assert parse_part_order("AAB") == list("AAB")
    assert parse_part_order("A2B") == list("AAB")
    assert parse_part_order("(AB)3C") == list("ABABABC")
    assert parse_part_order("A.B.C") == list("ABC")
    assert parse_part_order("ABx") is None


def test_play_order_keeps_every_event_passed():
    events = parse_tunes('X:1\nL:1/4\nK:C\n|:"C"C:|\n')[0]
    played = play_order(events)
    assert [type(event).__name__ for event in played if not isinstance(event, Field)] == [
        "Bar", "ChordSymbol", "Note", "Bar", "ChordSymbol", "Note", "Bar"]


def test_onsets_run_on_through_repeats():
    assert melody("X:1\nL:1/4\nK:C\n|:C2 D:|z E|\n") == [
        (60, F(0), F(1, 2)), (62, F(1, 2), F(1, 4)), (60, F(3, 4), F(1, 2)), (62, F(5, 4), F(1, 4)),
        (64, F(7, 4), F(1, 4))]


@pytest.mark.parametrize(
    "written, pending",
    [
        ("C", F(1, 8)),
        ("C3/", F(3, 16)),  # "3/" so far reads as 3/2
        ("C2>", F(3, 8)),  # a dotted crotchet once the '>' is there
        ("C>D", F(1, 16)),  # the D after the '>' is halved
        ("(3C", F(1, 12)),
        ("[CE]2", F(1, 4)),
        ("Z2", F(2)),  # two bars of 4/4
        ("{g", F(0)),  # grace notes take no time
    ],
)
def test_pending_length_is_the_time_of_the_element_being_written(written, pending):
    parser = AbcStreamParser()
    parser.feed_text(HEADER + "|" + written)  # at a line start "C" might still become a C: field
    assert parser.state.pending_length == pending


def test_a_bar_line_that_abc2midi_reads_as_two_comes_out_once():
    # ":|:|" is ":|" (repeat) then ":|" (a second repeat end, from the first): one Bar event each pass.
    played = play_order(parse_tunes("X:1\nL:1/4\nK:C\n|:CD:|:|EF|\n")[0])
    assert [event.text if isinstance(event, Bar) else event.pitch
            for event in played if isinstance(event, (Bar, Note))] == [
        "|:", 60, 62, ":|:|", 60, 62, ":|:|", 64, 65, "|"]


def test_a_tempo_in_words_alone_is_no_error_but_a_broken_number_is():
    parser = AbcStreamParser()
    events = parser.feed_text('X:1\nQ:"Allegro"\nK:C\n')
    assert parser.state.tempo is None and not any(isinstance(event, Diagnostic) for event in events)
    events = parser.feed_text("Q:1/4=fast\n")
    assert any(isinstance(event, Diagnostic) for event in events)
    parser.feed_text('Q:"Allegro" 1/4=132\n')
    assert (parser.state.tempo.beat, parser.state.tempo.bpm) == (F(1, 4), 132)


# ------------------------------------------------------------ parser state


def test_a_fresh_parser_answers_every_question_about_its_state():
    parser = AbcStreamParser()
    assert parser.field_name == ""
    assert parser.token_in_progress() == "" and parser.bar_filled() == 0 and not parser.in_tuplet


def test_the_parser_state_is_declared_in_one_place():
    """Every attribute exists from __init__ on: reading any text adds none."""
    parser = AbcStreamParser()
    declared = set(vars(parser))
    parser.feed_text(
        'X:1\nT:t\nM:6/8\nQ:1/4=90\nK:D\n|:"Am7"!trill!^F,2>G (3ABc [CEG]2 {g}A z x Z2 [K:G][L:1/16]|[1 c4-:|[2 c4||\n'
        "kB2 __B =c' & (A B)\n\nX:2\nK:C\n"
    )
    parser.flush()
    assert set(vars(parser)) == declared


# ------------------------------------------- tolerance (abc2midi reads these so too)


@pytest.mark.parametrize("body", ["kB3 GBd|", ",B3 GBd|", "B3 GjBd|"])
def test_a_character_with_no_meaning_in_music_is_one_diagnostic_and_the_notes_after_it_play(body):
    events = parse(body)
    assert [(event.pitch, event.duration) for event in events if isinstance(event, Note)] == [
        (71, F(3, 8)), (67, F(1, 8)), (71, F(1, 8)), (74, F(1, 8))]
    assert len([event for event in events if isinstance(event, Diagnostic)]) == 1


def test_a_skipped_character_before_a_slur_and_a_triplet_keeps_the_triplet():
    assert notes("k((3gfg) a|") == [(79, F(1, 12)), (77, F(1, 12)), (79, F(1, 12)), (81, F(1, 8))]


def test_broken_rhythm_reaches_across_the_end_of_a_slur():
    assert notes("A>(f=e)>(g f2)|") == [(69, F(3, 16)), (77, F(1, 16)), (76, F(3, 16)), (79, F(1, 16)), (77, F(1, 4))]
    assert notes("(AB)<c d|") == [(69, F(1, 8)), (71, F(1, 16)), (72, F(3, 16)), (74, F(1, 8))]


def test_a_thick_thin_bar_line_may_open_a_repeat():
    assert [pitch for pitch, _, _ in melody("X:1\nL:1/4\nK:C\nC [|: D E :| F|\n")] == [60, 62, 64, 62, 64, 65]


# ABC 2.1, 10.1: "Q:C=120" and "Q:120" both mean "play 120 unit note-lengths
# per minute": the unit the header settles (its L:, or its M:'s default),
# wherever the L: or M: stands in the header.
UNIT_TEMPI = [
    ("L:1/16\nQ:120\nK:C\n", F(1, 16), 120),
    ("Q:120\nL:1/16\nK:C\n", F(1, 16), 120),
    ("M:2/4\nQ:120\nK:C\n", F(1, 16), 120),
    ("M:6/8\nQ:C=90\nK:C\n", F(1, 8), 90),
    ("L:1/16\nQ:C2=60\nK:C\n", F(1, 8), 60),
    ("Q:1/4=100\nL:1/16\nK:C\n", F(1, 4), 100),
    ("K:C\nL:1/16\nQ:60\n", F(1, 16), 60),
]


@pytest.mark.parametrize("header, beat, bpm", UNIT_TEMPI)
def test_a_tempo_in_unit_lengths_takes_the_unit_the_header_settles(header, beat, bpm):
    parser = AbcStreamParser()
    parser.feed_text("X:1\n" + header + "C|")
    assert (parser.state.tempo.beat, parser.state.tempo.bpm) == (beat, bpm)


@pytest.mark.parametrize("header, beat, bpm", UNIT_TEMPI)
def test_render_plays_the_tempo_the_parser_reads(header, beat, bpm):
    [events] = parse_tunes("X:1\n" + header + "C|\n")
    assert perform(events).tempo_bpm == float(bpm * beat * 4)


def test_read_tunes_keeps_a_huge_tune_to_its_limit_and_counts_what_it_leaves_out(caplog):
    text = "X:1\nT:long\nK:C\n" + "C D E F|" * 1000 + "%\n\nX:2\nT:short\nK:C\nG|\n"
    first, second = read_tunes(text, max_events=100)
    assert len(first.events) == 100 and first.events[:3] == parse_tunes(text)[0][:3]
    assert first.events_left_out == 3 + 5 * 1000 - 100 and first.diagnostics == 0
    assert (second.events, second.events_left_out) == (parse_tunes(text)[1], 0)
    assert [record.getMessage() for record in caplog.records] == [
        "tune X:1 'long': only the first 100 events are read, 4903 more are left out"]


def test_read_tunes_reads_pieces_as_it_reads_the_whole_text(tmp_path):
    text = "X:1\nT:a\nK:G\n" + "GABc dBAG|" * 20_000 + "\n\nX:2\nT:b\nK:D\nFA|\n"  # over three pieces
    (tmp_path / "tunes.abc").write_text(text, encoding="latin-1")
    from_pieces = list(read_tunes(read_abc_pieces(tmp_path / "tunes.abc"), max_events=None))
    assert [tune.events for tune in from_pieces] == parse_tunes(text)
