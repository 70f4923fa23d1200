"""Repeat expansion: a tune's events in the order a player plays them.

Repeats ``|: :| ::``, numbered endings ``[1 [2 |1 :|2`` and parts (a P: field
in the header gives the order, ``P:`` in the body labels each part) are
followed the way abc2midi, the reference player, follows them, quirks
included, so that both play the same notes:

- a ``:|`` with no ``|:`` before it repeats from the start of the tune (of
  the part, when the header orders parts), even past a ``||``; a later
  ``:|`` with none repeats from the previous ``:|``, and a first ending with
  none from the last ``||``;
- a second ``|:`` before the first is closed acts as ``::``;
- ending ``[n`` plays on pass n; an ending not taken is skipped up to the
  next bar line that closes it (``:|``, ``|:``, ``||``, ``|]``, ``::``, the
  next ending or part), and that bar line is skipped with it.

Bar lines are split as abc2midi reads them, two characters at a time, so
``:||:`` is ``:|`` then ``|:``, and ``|||:`` is ``||`` then ``|:``; ``[|:``
is ``[|`` then ``|:``.
"""

from __future__ import annotations

from collections.abc import Iterable

from .events import Bar, Ending, Event, Field

# Structural marks abc2midi knows; everything else is music to play.
_MUSIC, _SINGLE, _DOUBLE, _START, _END, _BOTH, _ENDING, _PART = range(8)
_SECTION_ENDS = (_END, _START, _PART, _DOUBLE, _ENDING)

MAX_PARTS = 64  # labels in an expanded header P: field
_STEPS_PER_FEATURE = 16  # a safety valve against malformed structures


class _Feature:
    __slots__ = ("kind", "event", "numbers", "label")

    def __init__(self, kind: int, event: Event | None = None, numbers: tuple[int, ...] = (), label: str = ""):
        self.kind = kind
        self.event = event
        self.numbers = numbers
        self.label = label


def play_order(events: Iterable[Event]) -> list[Event]:
    """The events of one tune, repeats and parts expanded, in playing order.

    Every event the player passes comes out, bar lines and fields included;
    bar lines and endings are structure and come out where they are passed.
    """
    order, features = _features(events)
    _insert_missing_starts(features, order is not None)
    if order is None:
        _fix_repeats(features)
    return list(_walk(features, order))


def parse_part_order(text: str) -> list[str] | None:
    """Expand a header P: field ("AAB", "A2B", "(AB)3C", "A.B"); None if it is not one."""
    stack: list[list[str]] = [[]]
    last: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if "A" <= char <= "Z":
            last = [char]
            stack[-1].append(char)
        elif char.isdigit():
            end = index
            while end < len(text) and text[end].isdigit():
                end += 1
            count = int(text[index:end])
            if not last or count > MAX_PARTS:
                return None
            stack[-1].extend(last * (count - 1))
            last = []
            index = end
            continue
        elif char == "(":
            stack.append([])
            last = []
        elif char == ")":
            if len(stack) == 1:
                return None
            last = stack.pop()
            stack[-1].extend(last)
        elif char not in ". \t+-":
            return None
        if len(stack[-1]) > MAX_PARTS:
            return None
        index += 1
    if len(stack) != 1 or not stack[0]:
        return None
    return stack[0]


def _features(events: Iterable[Event]) -> tuple[list[str] | None, list[_Feature]]:
    order = None
    features: list[_Feature] = []
    music_started = False
    for event in events:
        if isinstance(event, Field):
            if event.name == "P":
                if event.header:
                    order = parse_part_order(event.value)
                    continue
                label = event.value[:1]
                if "A" <= label <= "Z":
                    features.append(_Feature(_PART, event, label=label))
                    continue
            features.append(_Feature(_MUSIC, event))
            continue
        if not music_started:
            # abc2midi marks the start of the music with a double bar line.
            features.append(_Feature(_DOUBLE))
            music_started = True
        if isinstance(event, Bar):
            kinds = _bar_kinds(event.text)
            features.append(_Feature(kinds[0], event))
            features.extend(_Feature(kind) for kind in kinds[1:])
        elif isinstance(event, Ending):
            features.append(_Feature(_ENDING, event, numbers=event.numbers))
        else:
            features.append(_Feature(_MUSIC, event))
    return order, features


def _bar_kinds(text: str) -> list[int]:
    kinds = []
    index = 0
    while index < len(text):
        pair = text[index : index + 2]
        if pair == "[|":
            kinds.append(_DOUBLE)
            if text[index + 2 : index + 3] == ":":  # "[|:" opens a repeat too
                kinds.append(_START)
                index += 1
        elif pair == "|:":
            kinds.append(_START)
        elif pair in ("||", "|]"):
            kinds.append(_DOUBLE)
        elif pair == "::":
            kinds.append(_BOTH)
        elif pair == ":|":
            kinds.append(_END)
            if text[index + 2 : index + 3] == "]":
                index += 1
        else:
            # A lone '|' is a plain bar line; a lone ':' a dotted one, which
            # abc2midi treats as a double bar line.
            kinds.append(_SINGLE if text[index] == "|" else _DOUBLE)
            index += 1
            continue
        index += 2
    return kinds or [_SINGLE]


def _insert_missing_starts(features: list[_Feature], parts: bool) -> None:
    """A :| or :: with no |: before it repeats from the start (of its part)."""
    section_start = next((i for i, f in enumerate(features) if f.kind == _DOUBLE and f.event is None), None)
    if section_start is None:
        return
    start_found = False
    insert_at = []
    for index, feature in enumerate(features):
        if feature.kind == _PART and parts:
            start_found = False
            section_start = index
        elif feature.kind == _START:
            start_found = True
        elif feature.kind in (_END, _BOTH) and not start_found:
            insert_at.append(section_start + 1)
            start_found = True
    for index in reversed(insert_at):
        features.insert(index, _Feature(_START))


def _fix_repeats(features: list[_Feature]) -> None:
    """abc2midi's repair of repeats in a tune without a part order."""
    repeat_point = 0
    expect_repeat = False
    endings_seen = 0
    for index, feature in enumerate(features):
        kind = feature.kind
        if kind == _DOUBLE:
            repeat_point = index
        elif kind == _START:
            if expect_repeat:
                feature.kind = _BOTH
            expect_repeat = True
        elif kind == _END:
            if not expect_repeat and endings_seen < 1:
                _make_start(features[repeat_point])
            expect_repeat = False
            repeat_point = index
        elif kind == _ENDING:
            if endings_seen == 0 and not expect_repeat:
                _make_start(features[repeat_point])
            endings_seen += 1
        elif kind == _BOTH:
            if not expect_repeat:
                _make_start(features[repeat_point])
            expect_repeat = True


def _make_start(feature: _Feature) -> None:
    if feature.kind in (_SINGLE, _DOUBLE):
        feature.kind = _START
    elif feature.kind == _END:
        feature.kind = _BOTH


def _walk(features: list[_Feature], order: list[str] | None):
    """Play through the features: abc2midi's writetrack loop."""
    part_start = {f.label: i for i, f in enumerate(features) if f.kind == _PART}
    if order is not None:
        features = [*features, _Feature(_PART)]  # the last part ends: on to the next in the order
    next_part = 0
    count = len(features)
    budget = _STEPS_PER_FEATURE * (count + 1) * (len(order) if order else 1)
    saved = -1  # where the repeat goes back to (just after it)
    pass_number = 1
    max_pass = 2
    expect_repeat = False
    index = 0
    while index < count and budget > 0:
        budget -= 1
        feature = features[index]
        kind = feature.kind
        following = index + 1
        if kind == _PART and order is not None:
            while next_part < len(order) and order[next_part] not in part_start:
                next_part += 1
            if next_part >= len(order):
                return
            index = part_start[order[next_part]]
            next_part += 1
            feature = features[index]
            following = index + 1
        elif kind == _START:
            saved = index
            expect_repeat = True
            pass_number = 1
            max_pass = 2
        elif kind == _END:
            if expect_repeat if pass_number == 1 else pass_number < max_pass:
                expect_repeat = False
                pass_number += 1
                following = saved + 1
        elif kind == _ENDING:
            wanted = pass_number if expect_repeat or pass_number > 1 else 1
            if wanted not in feature.numbers:
                # Not this pass: skip to the bar line that closes the ending, and past it.
                index += 1
                while index < count and features[index].kind not in _SECTION_ENDS:
                    index += 1
                if index < count and features[index].kind != _PART:
                    index += 1
                continue
            if max_pass < 4:
                max_pass = pass_number + 1
        elif kind == _BOTH:
            if pass_number > 1 or not expect_repeat:
                if pass_number > 1:
                    max_pass = 2
                expect_repeat = True
                saved = index
                pass_number = 1
            else:
                pass_number += 1
                following = saved + 1
        if feature.event is not None:
            yield feature.event
        index = following
