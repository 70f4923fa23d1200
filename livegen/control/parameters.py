"""The table of everything a musician can change while livegen plays.

This table is the single source for the OSC addresses (/livegen/<name> and
/livegen/<name>/norm), the default MIDI CC map, ranges and defaults, the
`livegen run` options and their --help, the fields of style presets, and
the TouchOSC layout, so none of them can disagree with another.

Kinds of parameter:
- number and integer: a value in [low, high];
- choice: one of a list of names (OSC may also send the index);
- toggle: on or off (play);
- trigger: an action, not a value (new tune, panic); a button's release
  (a 0) does nothing.

Every parameter that holds a value also accepts a 0..1 "norm" (what a
TouchOSC fader sends unless configured otherwise, and what a CC sends as
value/127), mapped linearly onto its range or its list of choices.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from livegen.abc.keys import mode_spelling
from livegen.compose.composer import TUNE_TYPES
from livegen.compose.form import FORM_NAMES
from livegen.compose.sampler import TEMPERATURE_RANGE

OSC_PREFIX = "/livegen/"
NORM_SUFFIX = "/norm"
TEXT_SUFFIX = "/text"  # feedback only: the value as a label shows it
FEEDBACK_HERE = OSC_PREFIX + "feedback/here"  # a client asks for feedback to its own address
TUNE_TITLE = OSC_PREFIX + "tune/title"  # feedback only: the title of the tune being played (a string) ...
TUNE_BAR = OSC_PREFIX + "tune/bar"  # ... the bar being played (an int, 1 at the tune's first bar) ...
TUNE_NOTE = OSC_PREFIX + "tune/note"  # ... and the last melody note played, by name (e.g. "F#5")
CLOCK_SOURCE = OSC_PREFIX + "clock"  # feedback only: the clock played by ("internal", "midi", "link") ...
CLOCK_TEMPO = OSC_PREFIX + "clock/tempo"  # ... its tempo now (a Link session's or a DAW's, beside the tempo asked) ...
LINK_PEERS = OSC_PREFIX + "link/peers"  # ... and how many other Link peers share the session (0 off Link)
AUTO = "auto"  # a choice left to the model
NOTE_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")  # from C: key choices, note feedback
MODES = ("major", "minor", "dorian", "mixolydian")  # of livegen.abc.keys.MODE_WORDS, those offered live
METERS = ("2/4", "3/4", "4/4", "6/8", "9/8", "12/8")


@dataclass(frozen=True)
class Parameter:
    name: str
    kind: str  # "number", "integer", "choice", "toggle" or "trigger"
    help: str
    default: object = None
    low: float | None = None
    high: float | None = None
    choices: tuple[str, ...] = ()
    cc: int | None = None  # in the default CC map
    takes_effect: str = "at once"  # or "within the lookahead", "from the next tune"
    unit: str = ""

    @property
    def address(self) -> str:
        return OSC_PREFIX + self.name

    @property
    def norm_address(self) -> str:
        return self.address + NORM_SUFFIX

    @property
    def text_address(self) -> str:
        return self.address + TEXT_SUFFIX

    @property
    def option(self) -> str:
        return "--" + self.name.replace("_", "-")

    @property
    def holds_value(self) -> bool:
        return self.kind != "trigger"

    def describe_range(self) -> str:
        if self.kind in ("number", "integer"):
            return f"{self.low:g} to {self.high:g}{' ' + self.unit if self.unit else ''}"
        if self.kind == "choice":
            return ", ".join(self.choices)
        return "on or off" if self.kind == "toggle" else "an action"

    def check(self, value: object) -> object:
        """The value as this parameter holds it, or ValueError saying why not (strict: nothing is clamped)."""
        value = self._typed(value)
        if self.kind in ("number", "integer") and not self.low <= value <= self.high:
            raise ValueError(f"{value:g} is outside {self.describe_range()}")
        return value

    def clamp(self, value: object) -> tuple[object, bool]:
        """The value brought into range, and whether it had to be; ValueError for what no clamping can fix."""
        value = self._typed(value)
        if self.kind in ("number", "integer"):
            clamped = min(max(value, self.low), self.high)
            return (int(clamped) if self.kind == "integer" else clamped), clamped != value
        return value, False

    def from_norm(self, norm: float) -> object:
        """A 0..1 control position as a value (norm is clamped to 0..1; NaN is refused)."""
        norm = _finite(norm)
        norm = min(max(norm, 0.0), 1.0)
        if self.kind == "number":
            return self.low + norm * (self.high - self.low)
        if self.kind == "integer":
            return int(round(self.low + norm * (self.high - self.low)))
        if self.kind == "choice":
            return self.choices[min(int(norm * len(self.choices)), len(self.choices) - 1)]
        return norm >= 0.5

    def osc_value(self, value: object) -> object:
        """The value as feedback sends it to /livegen/<name>: a choice by index, a toggle as 1 or 0."""
        if self.kind == "choice":
            return self.choices.index(value)
        if self.kind == "toggle":
            return int(bool(value))
        return value

    def text(self, value: object) -> str:
        """The value as a label shows it."""
        if value is None:
            return "unset"
        if self.kind == "number":
            return f"{value:.2f}{' ' + self.unit if self.unit else ''}"
        if self.kind == "toggle":
            return "on" if value else "off"
        return str(value)

    def to_norm(self, value: object) -> float:
        """Where a 0..1 control shows `value` (the middle of a choice's share of the travel)."""
        if self.kind in ("number", "integer"):
            return (float(value) - self.low) / (self.high - self.low)
        if self.kind == "choice":
            return (self.choices.index(value) + 0.5) / len(self.choices)
        return 1.0 if value else 0.0

    def _typed(self, value: object) -> object:
        if self.kind == "number":
            return _finite(value)
        if self.kind == "integer":
            number = _finite(value)
            if number != int(number):
                raise ValueError(f"{number:g} is not a whole number")
            return int(number)
        if self.kind == "choice":
            if isinstance(value, str):
                if value not in self.choices:
                    raise ValueError(f"{value!r} is not one of {self.describe_range()}")
                return value
            index = _finite(value)
            if index != int(index) or not 0 <= index < len(self.choices):
                raise ValueError(f"{value!r} is neither a name nor an index (0-{len(self.choices) - 1}) of "
                                 f"{self.describe_range()}")
            return self.choices[int(index)]
        if value is None and self.kind == "trigger":
            return True  # a message with no argument
        if isinstance(value, bool):
            return value
        return _toggle_word(value) if isinstance(value, str) else bool(_finite(value))


def _finite(value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{value!r} is not a number")
    if not math.isfinite(value):
        raise ValueError(f"{value} is not a finite number")
    return value


def _toggle_word(word: str) -> bool:
    words = {"on": True, "true": True, "yes": True, "off": False, "false": False, "no": False}
    if word.lower() not in words:
        raise ValueError(f"{word!r} is not on or off")
    return words[word.lower()]


PARAMETERS: dict[str, Parameter] = {parameter.name: parameter for parameter in (
    Parameter("play", "toggle", "play (on) or stop with every note ended (off); playing again starts a fresh "
              "tune", default=True, cc=20),
    Parameter("temperature", "number", "0.05: safe, repetitive; 1: the model as trained; 3: wild",
              default=1.0, low=TEMPERATURE_RANGE[0], high=TEMPERATURE_RANGE[1], cc=21,
              takes_effect="within the lookahead"),
    Parameter("top_p", "number", "sample only from the most likely characters whose probabilities add up to "
              "this (1: all)", default=1.0, low=0.05, high=1.0, cc=22, takes_effect="within the lookahead"),
    Parameter("tempo", "number", "quarter notes per minute of the internal clock (a DAW's MIDI clock "
              "overrides it)", default=120.0, low=30.0, high=300.0, cc=23, unit="BPM",
              takes_effect="within the lookahead"),
    Parameter("new_tune", "trigger", "end the tune at the next bar line and start a new one", cc=27),
    Parameter("type", "choice", "tune type: sets the metre (unless `meter` does) and the style the model "
              "writes", default=AUTO, choices=(AUTO, *TUNE_TYPES), takes_effect="from the next tune"),
    Parameter("key", "choice", "tonic of the next tunes (auto: the model's choice of key and mode)",
              default=AUTO, choices=(AUTO, *NOTE_NAMES), takes_effect="from the next tune"),
    Parameter("mode", "choice", "mode of the next tunes, when `key` names a tonic", default="major",
              choices=MODES, takes_effect="from the next tune"),
    Parameter("meter", "choice", "metre of the next tunes (auto: the tune type's, else the model's)",
              default=AUTO, choices=(AUTO, *METERS), takes_effect="from the next tune"),
    Parameter("form", "choice", "form of the next tunes, a letter per strain, doubled when it repeats (AABB: two "
              "repeated 8-bar strains; auto: the tune type's commonest in the corpus; free: the model's)",
              default=AUTO, choices=(AUTO, *FORM_NAMES), takes_effect="from the next tune"),
    Parameter("transpose", "integer", "semitones up (negative: down)", default=0, low=-12, high=12, cc=24,
              takes_effect="within the lookahead"),
    Parameter("melody_channel", "integer", "MIDI channel of the melody", default=1, low=1, high=16,
              takes_effect="within the lookahead"),
    Parameter("chord_channel", "integer", "MIDI channel of the chords (0: no chords)", default=2, low=0,
              high=16, takes_effect="within the lookahead"),
    Parameter("velocity", "integer", "melody velocity (accents add to it)", default=90, low=1, high=127, cc=25,
              takes_effect="within the lookahead"),
    Parameter("humanise", "number", "0: off; 1: velocities vary by up to 10 and notes start up to 10 ms late",
              default=0.0, low=0.0, high=1.0, cc=26, takes_effect="within the lookahead"),
    Parameter("seed", "integer", "random seed: the same model, seed and settings write the same tunes "
              "(unset: different every time)", default=None, low=0, high=999_999,
              takes_effect="from the next tune"),
    Parameter("panic", "trigger", "end every sounding note at once and start afresh on the next beat", cc=28),
)}

DEFAULT_CC_MAP: dict[int, str] = {parameter.cc: parameter.name for parameter in PARAMETERS.values()
                                  if parameter.cc is not None}
VALUE_PARAMETERS = tuple(parameter for parameter in PARAMETERS.values() if parameter.holds_value)


def default_values() -> dict[str, object]:
    return {parameter.name: parameter.default for parameter in VALUE_PARAMETERS}


def key_text(values: dict[str, object]) -> str | None:
    """The K: value the key and mode parameters ask for; None leaves the key to the model."""
    if values["key"] == AUTO:
        return None
    return f"{values['key']}{mode_spelling(values['mode'])}"


def parse_cc_map(text: str) -> dict[int, str]:
    """`temperature=21,tempo=22` as {cc: name}; ValueError naming what is wrong (argparse adds --cc)."""
    mapping: dict[int, str] = {}
    for item in text.replace(",", " ").split():
        name, _, number = item.partition("=")
        name = name.replace("-", "_")
        if name not in PARAMETERS:
            raise ValueError(f"no parameter {name!r} (parameters: {', '.join(PARAMETERS)})")
        if not number.isdigit() or not 0 <= int(number) <= 119:
            raise ValueError(f"{item!r}: a controller number is 0-119 (120-127 are channel mode messages)")
        if int(number) in mapping:
            raise ValueError(f"controller {number} is given to both {mapping[int(number)]} and {name}")
        mapping[int(number)] = name
    if not mapping:
        raise ValueError("give NAME=NUMBER pairs, e.g. temperature=21,tempo=22")
    return mapping
