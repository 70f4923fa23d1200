"""ABC-aware constraints: the sampler may only write characters that keep the tune valid.

A character is tried on a copy of the stream's parser and refused if it
- makes the parser report a diagnostic (the ABC would be invalid),
- overfills the bar its metre allows (a note too long, one note too many),
- closes a bar of the wrong length (see BarTracker for the pickup rule),
- ends the tune other than by a blank line after a bar line.

Only candidates the sampler actually draws are tried (rejection sampling:
draw, test, and on refusal remove that character and draw again). That
samples exactly the masked distribution at a cost of about one trial per
character, instead of one per character of the vocabulary.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from livegen.abc import AbcStreamParser, Bar, Diagnostic, EndOfTune, Ending

PLAIN_BAR = "|"


@dataclass(frozen=True)
class BarCheck:
    text: str
    length: Fraction
    right: bool


class BarTracker:
    """Feeds a parser and judges every bar it closes against the metre.

    A bar is right when it is full; when it is a pickup (the first bar of the
    tune or of a part, any length up to full); or when it closes a part (any
    bar line but a plain ``|``) and complements that part's pickup.
    """

    def __init__(self, parser: AbcStreamParser | None = None):
        self.parser = parser or AbcStreamParser()
        self.bars: list[BarCheck] = []
        self._pickup_allowed = True
        self._pickup_length = Fraction(0)

    def judge(self, length: Fraction, bar_length: Fraction | None, text: str) -> bool:
        if bar_length is None or length == bar_length or length == 0:
            return True
        if length > bar_length:
            return False
        if self._pickup_allowed:
            return True
        return text != PLAIN_BAR and length + self._pickup_length == bar_length

    def feed(self, character: str) -> list:
        length, bar_length = self.parser.bar_filled(), self.parser.bar_length()
        events = self.parser.feed(character)
        for event in events:
            if isinstance(event, Bar) and length == 0:
                continue  # ":|" then "|:" on the next line: no bar between them
            if isinstance(event, Bar):
                self.bars.append(BarCheck(event.text, length, self.judge(length, bar_length, event.text)))
                pickup = self._pickup_allowed and bar_length is not None and length < bar_length
                if pickup:
                    self._pickup_length = length
                self._pickup_allowed = event.text != PLAIN_BAR and not pickup
            elif isinstance(event, Ending):
                self._pickup_allowed = False
            elif isinstance(event, EndOfTune):
                self._pickup_allowed, self._pickup_length = True, Fraction(0)
        return events


class AbcConstraints:
    """The rules in the module docstring, for the stream whose BarTracker this reads."""

    def __init__(self, bars: BarTracker):
        self.bars = bars

    def allows(self, character: str) -> bool:
        parser = self.bars.parser
        filled, bar_length = parser.bar_filled(), parser.bar_length()
        trial = parser.clone()
        for event in trial.feed(character):
            if isinstance(event, Diagnostic):
                return False
            if isinstance(event, EndOfTune) and (character != "\n" or filled > 0 or not self.bars.bars):
                return False
            if isinstance(event, Bar) and not self.bars.judge(filled, bar_length, event.text):
                return False
        return bar_length is None or trial.bar_filled() <= bar_length
