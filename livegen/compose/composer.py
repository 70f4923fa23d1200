"""Writing one tune: a planned opening, then sampled characters, parsed as they come.

A TuneComposer is one stream: it decides each next character (forced by
the plan, or drawn from the model's distribution under the ABC constraints),
feeds it to its own parser, and collects the events. The model itself is
stepped outside, by whoever batches streams together (offline generation)
or keeps time (the live daemon).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from livegen.abc import Bar, Diagnostic, EndOfTune, Event, parse_key
from livegen.abc.fields import parse_meter
from livegen.compose.constraints import AbcConstraints, BarTracker
from livegen.errors import LivegenError

# Tune types a musician asks for, as the metre the corpus writes them in (and
# R: where the corpus uses one, so the model can recognise the style).
TUNE_TYPES = {
    "jig": ("6/8", None),
    "reel": ("4/4", None),
    "hornpipe": ("4/4", "Hornpipe"),
    "polka": ("2/4", None),
    "slip-jig": ("9/8", None),
    "waltz": ("3/4", None),
    "slow-air": ("3/4", None),
}
TUNE_END = "|]\n\n"
MAX_LENGTH = 3000  # characters per tune by default: a tune this long is ended ...
SOFT_LIMIT_SHARE = 0.8  # ... and past this share of max_length, end at the next full bar


@dataclass(frozen=True)
class TunePlan:
    """What the musician asked for; anything left None is the model's choice."""

    meter: str | None = None
    key: str | None = None
    unit_length: str | None = None
    tune_type: str | None = None
    prime: str | None = None  # the user's own ABC opening replaces the built header
    number: int = 1

    def opening(self) -> str:
        """The text the tune starts with; the title is always left to the model."""
        if self.prime is not None:
            return self.prime
        return f"X:{self.number}\nT:"

    def header_after_title(self) -> str:
        """Forced header lines after the title, in the corpus' order (R:, M:, L:, K:)."""
        meter, rhythm = self.meter, None
        if self.tune_type is not None:
            if self.tune_type not in TUNE_TYPES:
                raise LivegenError(f"unknown tune type {self.tune_type!r}: choose from {', '.join(TUNE_TYPES)}")
            type_meter, rhythm = TUNE_TYPES[self.tune_type]
            meter = meter or type_meter
        if meter is None and self.key is None and self.unit_length is None:
            return ""
        parsed_meter = parse_meter(meter or "4/4")
        if parsed_meter is None:
            raise LivegenError(f"cannot read the metre {meter!r}: write it as in ABC, e.g. 6/8, 4/4, C or C|")
        if self.key is not None and parse_key(self.key) is None:
            raise LivegenError(f"cannot read the key {self.key!r}: write it as in ABC, e.g. G, Em, Ador, Bb, F#m")
        unit = self.unit_length or _fraction_text(parsed_meter.default_unit_length)
        lines = [f"R:{rhythm}"] if rhythm else []
        lines += [f"M:{meter or '4/4'}", f"L:{unit}", f"K:{self.key or 'G'}"]
        return "".join(line + "\n" for line in lines)


class TuneComposer:
    """One stream writing one tune; see the module docstring."""

    def __init__(self, plan: TunePlan, vocabulary, constrained: bool = True, max_length: int = MAX_LENGTH):
        self.vocabulary = vocabulary
        self.bars = BarTracker()
        self.parser = self.bars.parser
        self.constraints = AbcConstraints(self.bars) if constrained else None
        self.max_length = max_length
        self.text: list[str] = []
        self.events: list[Event] = []
        self.finished = False
        self._forced: deque[str] = deque(plan.opening())
        self._header_after_title = plan.header_after_title() if plan.prime is None else ""
        self._ending = False
        self._end_requested = False
        if not self._forced:
            raise LivegenError("the prime is empty: give the ABC the tune should start with")
        vocabulary.encode("".join(self._forced))  # a prime the model cannot read is refused up front

    @property
    def title(self) -> str:
        for line in "".join(self.text).splitlines():
            if line.startswith("T:"):
                return line[2:].strip()
        return ""

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [event for event in self.events if isinstance(event, Diagnostic)]

    def forced_character(self) -> str | None:
        """The next character if the plan or the ending dictates it, else None (sample it)."""
        if not self._forced:
            self._plan_ending()
        return self._forced[0] if self._forced else None

    def choose(self, probabilities: np.ndarray, rng: np.random.Generator) -> str:
        """Draw a character from one row of probabilities, refusing what the constraints refuse."""
        forced = self.forced_character()
        if forced is not None:
            return forced
        weights = np.nan_to_num(probabilities.astype(np.float64), nan=0.0)
        for _ in range(len(weights)):  # each refusal removes one candidate
            cumulative = np.cumsum(weights)
            if not cumulative[-1] > 0:
                break
            index = int(np.searchsorted(cumulative, rng.random() * cumulative[-1], side="right"))
            if index >= len(weights) or weights[index] == 0:  # rounding at the top end
                index = int(np.flatnonzero(weights)[-1])
            character = self.vocabulary.characters[index]
            if self.constraints is None or self.constraints.allows(character):
                return character
            weights[index] = 0.0
        return self.vocabulary.characters[int(np.argmax(probabilities))]  # nothing allowed: the model's choice

    def end_at_next_bar(self) -> None:
        """Close the tune at the next full bar instead of writing on (a musician asked for a new tune)."""
        self._end_requested = True

    def accept(self, character: str) -> list[Event]:
        """Take the chosen character into the tune; returns the events it completed."""
        if self._forced and self._forced[0] == character:
            self._forced.popleft()
        self.text.append(character)
        events = self.bars.feed(character)
        self.events += events
        if character == "\n" and self._header_after_title and self._last_line().startswith("T:"):
            self._forced.extend(self._header_after_title)
            self._header_after_title = ""
        if any(isinstance(event, EndOfTune) for event in events):
            self.finished = True
        return events

    def _last_line(self) -> str:
        text = "".join(self.text[-200:]).rstrip("\n")
        return text[text.rfind("\n") + 1:]

    def _plan_ending(self) -> None:
        """Past the soft limit (or when asked) close at the next full bar; at max_length close at once."""
        if self._ending or self.finished or (len(self.text) < SOFT_LIMIT_SHARE * self.max_length
                                             and not self._end_requested):
            return
        state = self.parser.state
        if state.in_header:
            return
        meter = state.meter
        full = meter is not None and meter.bar_length is not None and (
            state.bar_position + state.pending_length == meter.bar_length)
        just_barred = (bool(self.events) and isinstance(self.events[-1], Bar)
                       and state.bar_position == 0 and state.pending_length == 0)
        if just_barred:
            self._forced.extend("\n\n")
        elif full or len(self.text) >= self.max_length:
            self._forced.extend(TUNE_END)
        else:
            return
        self._ending = True


def _fraction_text(value) -> str:
    return f"{value.numerator}/{value.denominator}"
