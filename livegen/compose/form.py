"""A tune's form, planned before the model writes a note: strains, bars per strain, repeats.

Folk dance tunes come in strains of a fixed number of bars, each usually
played twice (AABB); a musician hears a tune as its strains. The composer
picks a form (the musician's, or the commonest one in the corpus for the tune
type, see docs/FORMS.md) and a FormTracker holds the sampler to it: every bar
of a strain is full, except that a strain may open on a pickup which its last
bar pays back; each strain ends on its planned bar with the bar line the
corpus writes there (``:|`` after a repeated strain, ``|:`` opening the next
repeated one, ``||`` between plain strains, ``|]`` at the end); and the tune
stops when its last strain does. Form ``free`` plans nothing: the model
decides, under the bar rule of livegen.compose.constraints.
"""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from livegen.errors import LivegenError

FREE = "free"
AUTO = "auto"  # the tune type's form (see TYPE_FORMS)
FORM_NAMES = ("AABB", "AB", "AABBCC", "AAB", "ABC", FREE)
DEFAULT_FORM = "AABB"
BARS_PER_STRAIN = 8
# The commonest form per tune type in the corpus (docs/FORMS.md): two repeated
# 8-bar strains for the dance tunes (reels, jigs, hornpipes, the 2/4 tunes; slip
# jigs as the wider tradition writes them); waltzes and airs are played straight
# through, most often as two 16-bar strains.
TYPE_FORMS = {"jig": "AABB", "reel": "AABB", "hornpipe": "AABB", "polka": "AABB", "slip-jig": "AABB",
              "waltz": "AB", "slow-air": "AB"}
TYPE_STRAIN_BARS = {"waltz": 16, "slow-air": 16}
# A pickup is whole eighths (d/2c/2 or A, never d/2c/4): abc2midi's accompaniment plays the chord
# symbols in eighths, and a tune whose last bar ends between two ran its chords past the melody's end.
PICKUP_GRID = Fraction(1, 8)
REPEAT_END, REPEAT_START, STRAIN_END, TUNE_END = ":|", "|:", "||", "|]"


@dataclass(frozen=True)
class Strain:
    bars: int
    repeated: bool


@dataclass(frozen=True)
class Form:
    name: str
    strains: tuple[Strain, ...]


def plan_form(name: str | None, tune_type: str | None = None) -> Form | None:
    """The form called name ("AABB": two repeated strains), the type's form for auto/None; None for free."""
    if name in (None, AUTO):
        name = TYPE_FORMS.get(tune_type or "", DEFAULT_FORM)
    if name == FREE:
        return None
    if name not in FORM_NAMES:
        raise LivegenError(f"unknown form {name!r}: choose from {', '.join((AUTO, *FORM_NAMES))}")
    strains, position = [], 0
    while position < len(name):
        letter = name[position]
        count = len(name[position:]) - len(name[position:].lstrip(letter))
        strains.append(Strain(TYPE_STRAIN_BARS.get(tune_type or "", BARS_PER_STRAIN), repeated=count == 2))
        position += count
    return Form(name, tuple(strains))


class FormTracker:
    """Where the tune stands in its form; fed each closed bar's length, it says what the next bar must be."""

    def __init__(self, form: Form):
        self.form = form
        self.strain = 0
        self.full_bars = 0  # full bars closed in this strain, a pickup not counted
        self.pickup = Fraction(0)
        self.tune_pickup: Fraction | None = None  # the first strain's, which every strain repeats
        self.finished = False

    @property
    def current(self) -> Strain:
        return self.form.strains[self.strain]

    @property
    def at_strain_start(self) -> bool:
        return self.full_bars == 0 and self.pickup == 0

    @property
    def in_last_bar(self) -> bool:
        """The bar being written closes the strain."""
        return not self.finished and self.full_bars >= self.current.bars - 1

    @property
    def in_final_bar(self) -> bool:
        """The bar being written ends the tune (its last note must be the tonic)."""
        return self.in_last_bar and self.strain == len(self.form.strains) - 1

    @property
    def pickup_due(self) -> bool:
        """A later strain opens on the first strain's pickup, so that played through, the short bar
        ending one strain and the pickup opening the next make a whole bar (abc2midi counts it so)."""
        return self.at_strain_start and self.strain > 0 and bool(self.tune_pickup)

    @property
    def tie_could_reach_the_end(self) -> bool:
        """In a strain's last bar (no tie past its end) or the bar before the tune's last (whose last
        note is the tonic, whatever a tie into it would hold)."""
        last_strain = self.strain == len(self.form.strains) - 1
        return self.in_last_bar or (last_strain and self.full_bars >= self.current.bars - 2)

    def target(self, bar_length: Fraction) -> Fraction:
        """How long the bar being written must be: full, the strain's pickup, or the last one less the pickup."""
        if self.in_last_bar:
            return bar_length - self.pickup
        return self.tune_pickup if self.pickup_due else bar_length

    def bar_is_right(self, length: Fraction, bar_length: Fraction, text: str) -> bool:
        """A closed bar keeps the form: its planned length and bar line, or a pickup opening a strain."""
        if self.finished:
            return False
        if self.in_last_bar:
            return length == self.target(bar_length) and text == self.closing_bar_line()
        if self.pickup_due:
            return length == self.tune_pickup and text == "|"
        if length == bar_length:
            return text == "|"
        return (self.at_strain_start and self.strain == 0 and 0 < length < bar_length and text == "|"
                and (length / PICKUP_GRID).denominator == 1)

    def closing_bar_line(self) -> str:
        """The bar line that ends the strain being written."""
        if self.current.repeated:
            return REPEAT_END
        return TUNE_END if self.strain == len(self.form.strains) - 1 else STRAIN_END

    def after_strain(self) -> str:
        """What follows the strain's closing bar line: a new line, and |: before a repeated strain."""
        if self.strain == len(self.form.strains) - 1:
            return "\n\n"
        return "\n" + (REPEAT_START if self.form.strains[self.strain + 1].repeated else "")

    def bar_closed(self, length: Fraction, bar_length: Fraction) -> None:
        if self.tune_pickup is None:
            self.tune_pickup = length if length < bar_length else Fraction(0)
        if self.in_last_bar:
            if self.strain == len(self.form.strains) - 1:
                self.finished = True
            else:
                self.strain, self.full_bars, self.pickup = self.strain + 1, 0, Fraction(0)
        elif length < bar_length and self.at_strain_start:
            self.pickup = length
        else:
            self.full_bars += 1
