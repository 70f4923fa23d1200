"""The streaming parser never fails: random text and mutated real tunes (hypothesis).

For every input, fed one character at a time:
- no exception escapes, and none was caught inside (an "internal error"
  diagnostic would mean a bug the parser papered over);
- its buffers stay within the caps after every character;
- what comes out is well formed (MIDI pitches, positive durations);
- feeding the same text all at once, or in random pieces, gives exactly the
  same events (checked on every random text and on 2,000 mutated tunes);
- repeat expansion and timing of what it parsed finish without error.

Examples are derandomised, so every run checks the same inputs and a failure
reproduces; 10,000 of each kind.
"""

from __future__ import annotations

import functools
import re
from fractions import Fraction
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from livegen.abc import (
    AbcStreamParser,
    Chord,
    Diagnostic,
    EndOfTune,
    Note,
    Rest,
    limits,
    play_order,
    timeline,
)

EXAMPLES = 10_000
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Everything ABC gives meaning to, so that random text hits the parser's corners.
ABC_CHARACTERS = "ABCDEFGabcdefgzxZXy^_=,'/0123456789|:[]{}()<>-\"!+.~HLMOPSTuv%\\&#*;?@$` \t\n\rKQ"
HEADERS = ["", "X:1\nK:C\n", "X:1\nM:6/8\nL:1/8\nK:G\n", "X:1\nP:AB\nM:2/4\nK:Dm\nP:A\n"]
BUFFER_BOUND = (
    limits.MAX_FIELD + limits.MAX_CHORD_NOTES + limits.MAX_DECORATIONS + 2 * 7
)

# Random bytes read through a table (hypothesis draws bytes far faster than
# characters): ABC's own characters three times over, then letters ABC has no
# use for and characters beyond ASCII.
_OTHER_CHARACTERS = "\x00\x7f\xa0é\u2013\u266f\u266d\U0001f3b5\ufffd\u0301IJNRUVWYhijklmnopq"
_TABLE = ABC_CHARACTERS * 3 + _OTHER_CHARACTERS
assert len(_TABLE) == 256


def as_text(data: bytes) -> str:
    return "".join(_TABLE[byte] for byte in data)


# Pieces of ABC, so that random text also reaches the states deep inside a
# tune (an ending list, a tuplet ratio, a field in the middle of a chord).
ABC_PIECES = [
    "C", "^F", "__B,", "=c'", "z", "x", "Z2", "X", "2", "/2", "3/2", "//", ">", "<<", "-", "(3", "(3:2:4", "(5::2",
    "(", ")", "[", "]", "[CEG]", "[C2E-]", "{g}", "{/ag", "}", '"Am7"', '"D/f+"', '"^hi"', '"<', '"', "!trill!",
    "!", "+fermata+", "+", "~", ".", "T", "|", "||", "|]", "[|", "|:", ":|", "::", ":|]", "[1", "[2", "|1", ":|2",
    "[1,3", "[1-2", "[K:D]", "[M:3/4]", "[L:1/16]", "[Q:1/4=90]", "[P:B]", "\nK:G\n", "\nK:Hp\n", "\nP:A\n",
    "\nM:6/8\n", "\nL:1/4\n", "\nT:", "\n", "\n\n", "\nX:2\nK:C\n", "%c\n", "\\\n", " ", "&",
]
abc_text = st.one_of(
    st.binary(max_size=200).map(as_text),
    st.lists(st.sampled_from(ABC_PIECES) | st.binary(min_size=1, max_size=3).map(as_text), max_size=40).map("".join),
)


@functools.cache
def corpus_tunes(corpus: Path) -> tuple[str, ...]:
    tunes = []
    for path in sorted(corpus.glob("*.abc")):
        tunes.extend(chunk for chunk in re.split(r"\n\s*\n", path.read_text(encoding="latin-1")) if "X:" in chunk)
    return tuple(tunes)


def feed_checked(text: str) -> list:
    """Feed one character at a time, checking the parser as it goes; all events, flush included."""
    parser = AbcStreamParser()
    events = []
    for index, char in enumerate(text):
        events.extend(parser.feed(char))
        assert parser.buffered() <= BUFFER_BOUND
        if index % 8 == 0:
            assert parser.state is not None  # readable in any context (every 8th character: it is the slow check)
    events.extend(parser.flush())
    for event in events:
        if isinstance(event, Diagnostic):
            assert not event.message.startswith("internal error"), event
        elif isinstance(event, Note):
            assert 0 <= event.pitch <= 127 and isinstance(event.duration, Fraction) and event.duration > 0
        elif isinstance(event, Chord):
            assert event.notes and event.duration == event.notes[0].duration > 0
            assert all(0 <= note.pitch <= 127 for note in event.notes)
        elif isinstance(event, Rest):
            assert event.duration > 0
    return events


def fed_in_pieces(text: str, cuts: list[int]) -> list:
    parser = AbcStreamParser()
    events = []
    start = 0
    for cut in sorted(cuts) + [len(text)]:
        events.extend(parser.feed_text(text[start:cut]))
        start = max(start, cut)
    return events + parser.flush()


def play_every_tune(events: list) -> None:
    tune = []
    for event in events:
        if isinstance(event, EndOfTune):
            played = play_order(tune)
            written = {id(mine) for mine in tune}
            assert all(id(event) in written for event in played)  # nothing made up, no None
            timeline(played)
            tune = []
        else:
            tune.append(event)


@FUZZ
@given(header=st.sampled_from(HEADERS), body=abc_text, cuts=st.lists(st.integers(0, 250), max_size=4))
def test_random_text_never_breaks_the_parser(header, body, cuts):
    text = header + body
    events = feed_checked(text)
    assert fed_in_pieces(text, cuts) == events
    play_every_tune(events)


EDITS = ("delete", "insert", "duplicate", "replace")
edit_lists = st.lists(
    st.tuples(
        st.sampled_from(EDITS),
        st.integers(0, 1 << 16),  # where, as a fraction of the text
        st.integers(1, 12),  # how many characters
        st.binary(min_size=1, max_size=12).map(as_text),  # what to insert
    ),
    min_size=1,
    max_size=6,
)


def mutate(text: str, edits: list[tuple[str, int, int, str]]) -> str:
    """A real tune with a few edits: deletions, insertions, repeated spans, replacements."""
    for edit, where, span, new in edits:
        at = where * (len(text) + 1) >> 16
        if edit == "delete":
            text = text[:at] + text[at + span:]
        elif edit == "duplicate":
            text = text[:at + span] + text[at:at + span] + text[at + span:]
        elif edit == "insert":
            text = text[:at] + new + text[at:]
        else:
            text = text[:at] + new + text[at + span:]
    return text


@FUZZ
@given(tune=st.integers(0, 1 << 16), edits=edit_lists)
def test_mutated_real_tunes_never_break_the_parser(nottingham, tune, edits):
    tunes = corpus_tunes(nottingham)
    play_every_tune(feed_checked(mutate(tunes[tune % len(tunes)], edits)))


@settings(FUZZ, max_examples=2_000)
@given(tune=st.integers(0, 1 << 16), edits=edit_lists, cuts=st.lists(st.integers(0, 2000), max_size=6))
def test_feeding_a_character_at_a_time_equals_feeding_it_all_at_once(nottingham, tune, edits, cuts):
    tunes = corpus_tunes(nottingham)
    text = mutate(tunes[tune % len(tunes)], edits)
    parser = AbcStreamParser()
    one_by_one = [event for char in text for event in parser.feed(char)] + parser.flush()
    assert fed_in_pieces(text, []) == one_by_one
    assert fed_in_pieces(text, cuts) == one_by_one


def test_garbage_cannot_grow_the_buffers():
    parser = AbcStreamParser()
    parser.feed_text("X:1\nK:C\n")
    for opening in ['"', "!", "+", "[K:", "(", "[", "{", "T:", "|", "C"]:
        parser.feed_text("\n" + opening)
        for _ in range(2000):
            parser.feed("a")
            assert parser.buffered() <= BUFFER_BOUND
    parser.feed_text("\n" + "C" * 5000)
    assert parser.buffered() <= BUFFER_BOUND
