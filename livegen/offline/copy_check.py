"""Is a tune copied? The longest run of consecutive bars it shares with one reference tune.

The reference tunes' bars go into one suffix automaton (tunes joined by
separators no bar can match), so a tune is checked in time linear in its
bars however often a bar repeats; the old check, which extended a run from
every place a bar occurred, took minutes on tunes of repeated identical bars.
A reference tune identical to the one checked is not counted as its copy
(the corpus checked against itself).
"""

from __future__ import annotations

import re

from livegen.abc.fields import field_line

# at most four ':' or '[' before the '|' ("::|", "[|"): an unbounded run would be retried from each of its
# characters, quadratic on a long line of them
_BAR_LINE = re.compile(r"[:\[]{0,4}\|[|:\]\d]*|::|\[\d")
SEVERAL = -2  # a state whose strings occur in two or more distinct reference tunes


def bar_texts(tune_text: str) -> list[str]:
    """The written bars of a tune's body, spaces removed: the unit of the copy check."""
    body = []
    in_header = True
    for line in tune_text.splitlines():
        field = field_line(line)
        if field or line.startswith("%"):
            in_header = in_header and not (field and field[0] == "K")
            continue
        if not in_header:
            body.append(line.split("%", 1)[0].rstrip("\\"))
    return [bar for bar in (part.replace(" ", "") for part in _BAR_LINE.split("".join(body))) if bar]


class CopyIndex:
    """A suffix automaton over the reference tunes' bar sequences."""

    def __init__(self, tune_texts: list[str]):
        self.bar_ids: dict[str, int] = {}
        self.tune_ids: dict[tuple[int, ...], int] = {}  # one id per distinct reference tune
        self.next: list[dict[int, int]] = [{}]
        self.link = [-1]
        self.length = [0]
        self.owner = [-1]  # the reference tune whose text ends here, SEVERAL, or -1 for none yet
        self.last = 0  # the state of the whole text added so far
        for text in tune_texts:
            bars = tuple(self.bar_ids.setdefault(bar, len(self.bar_ids)) for bar in bar_texts(text))
            tune = self.tune_ids.setdefault(bars, len(self.tune_ids))
            for bar in bars:
                self._extend(bar, tune)
            self._extend(-1 - len(self.link), -1)  # a separator no bar and no other separator equals
        self._spread_owners()

    def _new_state(self, length: int, owner: int) -> int:
        self.next.append({})
        self.link.append(-1)
        self.length.append(length)
        self.owner.append(owner)
        return len(self.length) - 1

    def _extend(self, token: int, tune: int) -> None:
        current = self._new_state(self.length[self.last] + 1, tune)
        state = self.last
        while state != -1 and token not in self.next[state]:
            self.next[state][token] = current
            state = self.link[state]
        if state == -1:
            self.link[current] = 0
        else:
            following = self.next[state][token]
            if self.length[state] + 1 == self.length[following]:
                self.link[current] = following
            else:
                clone = self._new_state(self.length[state] + 1, -1)
                self.next[clone] = dict(self.next[following])
                self.link[clone] = self.link[following]
                while state != -1 and self.next[state].get(token) == following:
                    self.next[state][token] = clone
                    state = self.link[state]
                self.link[following] = self.link[current] = clone
        self.last = current

    def _spread_owners(self) -> None:
        """Each state's owner from the states below it; then the nearest state above owned by several tunes."""
        order = sorted(range(len(self.length)), key=self.length.__getitem__)
        for state in reversed(order):
            parent = self.link[state]
            if parent >= 0 and self.owner[state] != -1:
                mine, theirs = self.owner[state], self.owner[parent]
                self.owner[parent] = mine if theirs in (-1, mine) else SEVERAL
        self.shared_above = [0] * len(self.length)
        for state in order[1:]:
            self.shared_above[state] = state if self.owner[state] == SEVERAL else self.shared_above[self.link[state]]

    def longest_run(self, bars: list[str]) -> int:
        """Most consecutive bars found consecutively in one reference tune (a tune identical to these excluded)."""
        tokens = [self.bar_ids.get(bar, -1) for bar in bars]
        itself = self.tune_ids.get(tuple(tokens), -1)
        state = length = longest = 0
        for token in tokens:
            while state and token not in self.next[state]:
                state = self.link[state]
                length = self.length[state]
            if token in self.next[state]:
                state, length = self.next[state][token], length + 1
            else:
                state = length = 0
            if itself != -1 and self.owner[state] == itself:
                longest = max(longest, self.length[self.shared_above[state]])
            else:
                longest = max(longest, length)
        return longest
