"""Writing one tune: a planned opening and form, then sampled characters, parsed as they come.

A TuneComposer is one stream: it decides each next character (forced by
the plan, or asked of the Sampler, which draws from the model's logits under
the ABC constraints), feeds it to its own parser, and collects the events.
The plan's form (livegen.compose.form) is written by the composer where it
shows in the text: the bar line that closes each strain, the line break and
``|:`` that open the next, the tonic chord of the last bar, and the tune's
end. The model itself is stepped outside, by whoever batches streams
together (offline generation) or keeps time (the live session).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from livegen.abc import Bar, ChordSymbol, Context, Diagnostic, EndOfTune, Event, parse_key
from livegen.abc.fields import parse_meter
from livegen.compose.constraints import AbcConstraints, BarTracker, tonic_chord
from livegen.compose.form import FormTracker, plan_form
from livegen.compose.sampler import Sampler
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
MAX_DEAD_ENDS = 8  # characters drawn with every one refused, before the tune is ended
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
    form: str | None = None  # a name from livegen.compose.form.FORM_NAMES; None or "auto": the type's

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
        form = plan_form(plan.form, plan.tune_type) if constrained else None
        self.bars = BarTracker(form=FormTracker(form) if form is not None else None)
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
        self._next_strain_opening: deque[str] = deque()  # after a strain's bar line: a new line, maybe |:
        self._tonic_chord_written = False
        self.dead_ends = 0
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
        """The next character if the plan, the form or the ending dictates it, else None (sample it)."""
        if not self._forced and self._next_strain_opening:
            if self._end_requested:  # the tune ends with the strain just closed, not with a dangling |:
                self._next_strain_opening.clear()
                self._forced.extend("\n\n")
                self._ending = True
            else:  # a token at a time, so that a request between them is still in time
                self._forced.extend(self._next_strain_opening.popleft())
        if not self._forced:
            self._plan_form()
        if not self._forced:
            self._plan_ending()
        return self._forced[0] if self._forced else None

    def next_character(self, sampler: Sampler, logits: np.ndarray | None) -> str:
        """The next character: forced, or drawn by the sampler from this stream's logits [V] under the constraints.

        logits is None before the model has read anything (a tune always opens forced).
        """
        forced = self.forced_character()
        if forced is not None:
            return forced
        if logits is None:
            raise LivegenError("the composer needs the model's logits to go on")  # a caller's bug
        characters = self.vocabulary.characters
        allows = self.constraints.allows if self.constraints is not None else lambda character: True
        index = sampler.draw(logits, lambda index: allows(characters[index]))
        if index is not None:
            return characters[index]
        # A dead end: no character keeps the tune valid (a constraint bug). The model's own
        # choice beats a crash; a tune that keeps running into dead ends is ended.
        self.dead_ends += 1
        if self.dead_ends >= MAX_DEAD_ENDS and not self._ending:
            self._forced.extend(TUNE_END)
            self._ending = True
        return characters[int(np.argmax(logits))]

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

    def _plan_form(self) -> None:
        """Write what the form dictates now: a strain's closing bar line and what follows, or the tonic chord."""
        form = self.bars.form
        if form is None or self.finished or self._ending:
            return
        if self.bars.strain_closing_due():
            self._forced.extend(form.closing_bar_line())
            if form.in_final_bar:
                self._forced.extend(form.after_strain())
                self._ending = True
            else:
                opening = form.after_strain()  # "\n", then |: before a repeated strain
                self._next_strain_opening.extend([opening[0], opening[1:]] if len(opening) > 1 else [opening])
        elif (form.in_final_bar and not self._tonic_chord_written and self.bars.chord_symbols
              and self.parser.context in (Context.MUSIC, Context.LINE_START) and not self._chord_in_this_bar()):
            self._tonic_chord_written = True
            chord = tonic_chord(self.parser)
            if chord is not None:
                self._forced.extend(f'"{chord}"')

    def _chord_in_this_bar(self) -> bool:
        for event in reversed(self.events):
            if isinstance(event, Bar):
                return False
            if isinstance(event, ChordSymbol):
                return True
        return False

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
