"""ABC-aware constraints: the sampler may only write characters that keep the tune valid.

A character is tried on a copy of the stream's parser and refused if it
- makes the parser report a diagnostic (the ABC would be invalid),
- overfills the bar its metre allows (a note too long, one note too many),
- closes a bar of the wrong length (see BarTracker for the pickup rule),
- ends the tune other than by a blank line after a bar line,
- writes a bar line or tuplet outside the usual forms (``|||:|`` and the like),
  or a second empty bar in a row,
- starts a new note, rest, chord, chord symbol, ornament or bracket in a bar that is
  already full (only a bar line can follow), or starts a bar line where no
  bar line could close the bar rightly,
- starts a chord of notes ``[CEG]``: a melody line rarely has them (one tune
  in twelve in the corpus), and a chord that cannot close inside the bar is
  the commonest dead end a sampler meets,
- leaves the bar off the tune's grid (sixteenths, or half the unit length
  when that is shorter) outside a tuplet: the bar would be left with a
  remainder no ordinary note fills,
- writes a comment (the corpus the model learnt from has none, and text
  after % is silent), or a space or tie right after a space or tie (the way a stuck model
  marks time without writing music),
- writes a chord symbol that could not be finished as one, a chord ``[...]``
  that could not be closed, a field the corpus does not use where it is
  written, or a field value that is not the start of a readable one (the
  parser only judges these at their end, and the model could write on
  forever without a way out),
- starts a P: line in the header: a part order there would make the player
  wait for the whole tune before it could play its first part.

Only candidates the sampler actually draws are tried (rejection sampling:
draw, test, and on refusal remove that character and draw again). That
samples exactly the masked distribution at a cost of about one trial per
character, instead of one per character of the vocabulary.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from livegen.abc import AbcStreamParser, Bar, Context, Diagnostic, Ending, EndOfTune
from livegen.abc.chord_symbols import is_chord_symbol_prefix

PLAIN_BAR = "|"
BAR_LINES = frozenset(("|", "||", "|]", "[|", "|:", ":|", "::", ":|:", ":||:", "||:", ":||"))
_BAR_PREFIXES = frozenset(line[:end] for line in BAR_LINES for end in range(1, len(line) + 1))
_TUPLET_PREFIX = re.compile(r"[2-9](:[1-9]?(:[1-9]?)?)?")
ELEMENT_STARTS = frozenset('ABCDEFGabcdefgzxZX^_="(!~.HLMOPSTuv{[')
STILL_SHRINKABLE = frozenset("ABCDEFGabcdefg^_=,'/")
MARKING_TIME = frozenset(" -")
BRACKET_OPENS = frozenset("|KMLPQ")
SIXTEENTH = Fraction(1, 16)
HEADER_FIELDS = frozenset("XTRQMLK")
BODY_FIELDS = frozenset("PKMLQ")  # the only fields the corpus writes inside a tune
_MODES = ("major", "minor", "mixolydian", "dorian", "phrygian", "lydian", "locrian", "aeolian", "ionian")
_MODE_PREFIXES = sorted({mode[:end] for mode in _MODES for end in range(1, len(mode) + 1)}, key=len, reverse=True)
# Values that can still grow into a readable one, field by field; fields not listed are free text.
FIELD_VALUE_PREFIX = {
    "X": re.compile(r"\d{0,4}"),
    "M": re.compile(r"C\|?|n(o(ne?)?)?|\d{0,2}(/\d{0,2})?"),
    "L": re.compile(r"(1(/\d{0,2})?)?"),
    "Q": re.compile(r"\d{0,3}|\d/\d{0,2}(=\d{0,3})?"),
    "K": re.compile(r"([A-G][#b]?(" + "|".join(_MODE_PREFIXES) + r")?|n(o(ne?)?)?|HP?|Hp)?"),
    "P": re.compile(r"[A-Z]?"),
}


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
        self.previous_bar_empty = False
        self.last_character = ""

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
        self.last_character = character
        for event in events:
            if isinstance(event, Bar):
                self.previous_bar_empty = length == 0
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
        if character == "P" and parser.in_header_line_start():
            return False
        if character == "%" or (character in MARKING_TIME and self.bars.last_character in MARKING_TIME):
            return False
        if parser.context is Context.BRACKET and not (character.isdigit() or character in BRACKET_OPENS):
            return False  # with chords refused, a bracket opens an ending, an inline field or [|
        filled, bar_length = parser.bar_filled(), parser.bar_length()
        full = bar_length is not None and filled >= bar_length
        if full and character in ELEMENT_STARTS and parser.context in (Context.MUSIC, Context.NOTE):
            return False
        trial = parser.clone()
        events = trial.feed(character)
        if character == "[" and trial.bar_filled() > 0:
            return False  # endings and inline fields go at the start of a bar
        for event in events:
            if isinstance(event, Diagnostic):
                return False
            if isinstance(event, EndOfTune) and (character != "\n" or filled > 0 or not self.bars.bars):
                return False
            if isinstance(event, Bar) and not self._bar_allowed(event.text, filled, bar_length):
                return False
        token, context = trial.token_in_progress(), trial.context
        if context is Context.BAR:
            if token not in _BAR_PREFIXES and not token.isdigit():
                return False
            if parser.context is not Context.BAR and not self._bar_can_close(trial.bar_committed(), bar_length):
                return False
        if context is Context.TUPLET and token and not _TUPLET_PREFIX.fullmatch(token):
            return False
        if context in (Context.FIELD, Context.INLINE_FIELD) and not _field_could_be_read(trial, token):
            return False
        if context is Context.QUOTE and not is_chord_symbol_prefix(token):
            return False
        if trial.in_chord:
            return False
        if bar_length is None:
            return True
        if not trial.in_tuplet and (trial.bar_filled() / min(SIXTEENTH, trial.unit_length / 2)).denominator != 1:
            return False
        # A note may be written longer than the bar has room for while its length can still
        # shrink ("c" then "/2"); after anything else it must fit now.
        if character in STILL_SHRINKABLE:
            return trial.bar_committed() <= bar_length
        return trial.bar_filled() <= bar_length

    def _bar_can_close(self, filled: Fraction, bar_length: Fraction | None) -> bool:
        """Could some bar line close a bar this full: a plain one, or one closing a part?"""
        if filled == 0 and self.bars.previous_bar_empty:
            return False
        return self.bars.judge(filled, bar_length, PLAIN_BAR) or self.bars.judge(filled, bar_length, "||")

    def _bar_allowed(self, text: str, filled: Fraction, bar_length: Fraction | None) -> bool:
        if text not in BAR_LINES:
            return False
        if filled == 0 and self.bars.previous_bar_empty:
            return False
        return self.bars.judge(filled, bar_length, text)


def _field_could_be_read(trial: AbcStreamParser, value: str) -> bool:
    allowed = HEADER_FIELDS if trial.in_header else BODY_FIELDS
    if trial.field_name not in allowed:
        return False
    pattern = FIELD_VALUE_PREFIX.get(trial.field_name)
    return pattern is None or pattern.fullmatch(value.strip()) is not None
