"""ABC-aware constraints: the sampler may only write characters that keep the tune valid and playable.

Valid means what the reference player (abc2midi) accepts, in the forms the
corpus writes (livegen.compose.corpus_vocabulary, generated from it). A
character is tried on a copy of the stream's parser and refused if it
- makes the parser report a diagnostic, or is not a character the corpus
  writes in tune bodies (no ``+``, ``#``, ``?``, ``!``, ``\\``, decorations
  like ``T``, grace notes or broken rhythm);
- spells a note the corpus would not: a length outside the corpus' forms
  (``/6``, ``c/2/2``), an octave mark on the wrong case (``d,``, ``A'``),
  an accidental not followed by a note;
- ties a note to anything but the same note (``c2-c``), or ties a rest;
- overfills the bar, closes a bar of the wrong length, or starts anything
  but a bar line in a full bar. With a planned form (livegen.compose.form)
  the form says how long each bar must be and which bar lines go where; the
  model writes only plain ``|`` (the composer writes the rest), cannot end
  the tune early, and must end the last bar on the tonic (a chord symbol
  there, if any, is the tonic chord). With form ``free``, BarTracker's rule:
  a short bar opening a part is a pickup, and the bar that closes the part
  pays it back (a part that opened on a full bar ends on a full bar);
- writes a bar line other than ``|``, ``||``, ``|]`` or ``:|`` (abc2midi
  rejects a ``|:``, ``::`` or numbered ending out of order, the commonest
  slip), a second empty bar in a row, or leaves the bar off the tune's grid;
- writes a tuplet or a slur: a triplet that cannot fit the rest of its bar
  is a dead end (every next character refused), and the corpus rarely has them;
- starts a chord of notes ``[CEG]`` (rare in the corpus' melody lines, and the
  commonest dead end a sampler meets), a comment, or a space or tie right
  after a space or tie (the way a stuck model marks time);
- writes a chord symbol that is not a prefix of one of the corpus' (that
  abc2midi reads), a title that is not made of the corpus' title words, a
  header field other than X:, T:, M:, L:, K: or a value for M:, L:, K: the
  corpus does not use, or any field inside the tune (no ``K:B``
  mid-tune, no ``[Q:3]``): the musician's own fields come from the plan,
  which is not held to these rules.

The sampler asks only about the characters it actually draws (see
livegen.compose.sampler.Sampler.draw), so all this costs about one trial per
character written.
"""

from __future__ import annotations

import copy
import re
from dataclasses import dataclass
from fractions import Fraction

from livegen.abc import AbcStreamParser, Bar, ChordSymbol, Context, Diagnostic, Ending, EndOfTune, Note, Rest
from livegen.abc.keys import LETTERS, MINOR_MODES, NATURAL_SEMITONES
from livegen.compose import corpus_vocabulary as corpus
from livegen.compose.form import FormTracker

PLAIN_BAR = "|"
# What the model may close a bar with when it plans the form itself (form free): abc2midi plays a :|
# without its |: from the tune's start or the last :|, while a |:, :: or numbered ending written out of
# order (the commonest slip) is an error.
BAR_LINES = frozenset(("|", "||", "|]", ":|"))
_BAR_PREFIXES = frozenset(line[:end] for line in BAR_LINES for end in range(1, len(line) + 1))
ELEMENT_STARTS = frozenset('ABCDEFGabcdefgzxZX^_="(!~.HLMOPSTuv{[')
STILL_SHRINKABLE = frozenset("ABCDEFGabcdefg^_=,'/")
MARKING_TIME = frozenset(" -")
SIXTEENTH = Fraction(1, 16)
HEADER_FIELDS = frozenset("XTMLK")  # R: comes from the plan: abc2midi refuses R:Hornpipe beside M:6/8
BODY_CHARACTERS = (frozenset(corpus.BODY_CHARACTERS) | {'"'}) - {")"}  # "(" opens only a tuplet
MUSIC_CONTEXTS = (Context.MUSIC, Context.NOTE, Context.LINE_START, Context.BAR, Context.BRACKET, Context.TUPLET)
TITLE_WORDS_MAX = 6
MAX_OCTAVE_MARKS = 1  # the corpus' range is G, to e': one mark at most (A,,,,,,,, leaves MIDI's range)


def _prefixes(words) -> frozenset[str]:
    return frozenset(word[:end] for word in words for end in range(len(word) + 1))


NOTE_LENGTHS = frozenset(corpus.NOTE_LENGTHS)
_LENGTH_PREFIXES = _prefixes(corpus.NOTE_LENGTHS)
CHORD_SYMBOLS = frozenset(corpus.CHORD_SYMBOLS)
_CHORD_PREFIXES = _prefixes(corpus.CHORD_SYMBOLS)
TITLE_WORDS = frozenset(corpus.TITLE_WORDS)
_TITLE_PREFIXES = _prefixes(corpus.TITLE_WORDS)
_FIELD_WHOLE_VALUES = {"M": frozenset(corpus.M_VALUES), "L": frozenset(corpus.L_VALUES),
                       "K": frozenset(corpus.K_VALUES)}
_FIELD_VALUES = {name: _prefixes(values) for name, values in _FIELD_WHOLE_VALUES.items()}
# A note or rest as the corpus spells it: accidental, letter, octave marks, length.
_NOTE_SHAPE = re.compile(r"[\^_=]?(?:[A-Ga-gz][,']*[0-9/]*)?")
_NOTE_AT_END = re.compile(r"(?:[\^_=]?[A-Ga-gz][,']*[0-9/]*|[\^_=])$")
_NOTE_PARTS = re.compile(r"([\^_=]?)([A-Ga-gz]?)([,']*)([0-9/]*)")
_TAIL = 16  # characters kept to find the note being written


@dataclass(frozen=True)
class BarCheck:
    text: str
    length: Fraction
    right: bool


def note_in_progress(parser: AbcStreamParser, tail: str) -> str:
    """The note or rest being written (as far as written), '' between notes."""
    if parser.context not in (Context.NOTE, Context.LINE_START) or parser.in_header:
        return ""
    found = _NOTE_AT_END.search(tail)
    return found.group() if found else ""


def continues(note: str, character: str) -> bool:
    """Whether character would be read as more of this note rather than end it."""
    return bool(note) and _NOTE_SHAPE.fullmatch(note + character) is not None


def spelled_well(note: str) -> bool:
    """A (possibly unfinished) note spelled as the corpus spells notes."""
    accidental, letter, octave, length = _NOTE_PARTS.fullmatch(note).groups()
    if letter == "z" and (accidental or octave):
        return False
    if octave and (len(octave) > MAX_OCTAVE_MARKS or ("," in octave and letter.islower())
                   or ("'" in octave and letter.isupper())):
        return False
    return length in _LENGTH_PREFIXES


def complete(note: str) -> bool:
    """A note that may end here: it has its letter and one of the corpus' lengths."""
    _, letter, _, length = _NOTE_PARTS.fullmatch(note).groups()
    return bool(letter) and length in NOTE_LENGTHS


def pitch_spelling(note: str) -> str:
    """Accidental, letter and octave marks: what a note tied to this one must repeat."""
    accidental, letter, octave, _ = _NOTE_PARTS.fullmatch(note).groups()
    return accidental + letter + octave


class BarTracker:
    """Feeds a parser and judges every bar it closes: against the form when there is one, else the metre.

    Without a form, a bar is right when it is full; when it is a pickup (the
    first bar of the tune or of a part, shorter than full); or when it closes
    a part (any bar line but a plain ``|``) after at least one full bar and
    complements that part's pickup (none: it must be full).
    """

    def __init__(self, parser: AbcStreamParser | None = None, form: FormTracker | None = None):
        self.parser = parser or AbcStreamParser()
        self.form = form
        self.bars: list[BarCheck] = []
        self._pickup_allowed = True
        self._pickup_length = Fraction(0)
        self._full_bars_in_part = 0
        self.previous_bar_empty = False
        self.last_character = ""
        self.tail = ""  # the last characters written, to find the note in progress
        self.tied: str | None = None  # the pitch a tie waits for, as spelled
        self.chord_symbols = 0
        self.chord_waiting = False  # a chord symbol written and no note since

    def judge(self, length: Fraction, bar_length: Fraction | None, text: str) -> bool:
        if bar_length is None or length == 0:
            return True
        if self.form is not None:
            return self.form.bar_is_right(length, bar_length, text)
        if length == bar_length:
            return True
        if length > bar_length:
            return False
        if self._pickup_allowed:
            return True
        return text != PLAIN_BAR and self._full_bars_in_part > 0 and length + self._pickup_length == bar_length

    def target(self) -> Fraction | None:
        """How long the bar being written may be (the form's planned length, or the metre's)."""
        bar_length = self.parser.bar_length()
        if bar_length is None or self.form is None:
            return bar_length
        return self.form.target(bar_length)

    def strain_closing_due(self) -> bool:
        """The form's strain has its last bar full, between notes: the composer writes its bar line now."""
        parser, form = self.parser, self.form
        if form is None or not form.in_last_bar or parser.bar_length() is None:
            return False
        if parser.context not in (Context.MUSIC, Context.NOTE, Context.LINE_START) or parser.in_tuplet:
            return False
        note = note_in_progress(parser, self.tail)
        return parser.bar_filled() == self.target() and (not note or complete(note))

    def feed(self, character: str) -> list:
        parser = self.parser
        length, bar_length = parser.bar_filled(), parser.bar_length()
        note = note_in_progress(parser, self.tail)
        events = parser.feed(character)
        if note and not continues(note, character):
            self.tied = pitch_spelling(note) if character == "-" else None
        self.last_character = character
        self.tail = (self.tail + character)[-_TAIL:]
        for event in events:
            if isinstance(event, ChordSymbol):
                self.chord_symbols += 1
                self.chord_waiting = True
            elif isinstance(event, (Note, Rest)):
                self.chord_waiting = False
            elif isinstance(event, Bar):
                self._bar(event, length, bar_length)
            elif isinstance(event, Ending):
                self._pickup_allowed = False
            elif isinstance(event, EndOfTune):
                self._pickup_allowed, self._pickup_length, self._full_bars_in_part = True, Fraction(0), 0
        return events

    def _bar(self, event: Bar, length: Fraction, bar_length: Fraction | None) -> None:
        self.previous_bar_empty = length == 0
        if length == 0:
            return  # ":|" then "|:" on the next line: no bar between them
        self.bars.append(BarCheck(event.text, length, self.judge(length, bar_length, event.text)))
        if self.form is not None and bar_length is not None:
            self.form.bar_closed(length, bar_length)
        pickup = self._pickup_allowed and bar_length is not None and length < bar_length
        if self._pickup_allowed:
            self._pickup_length, self._full_bars_in_part = (length, 0) if pickup else (Fraction(0), 1)
        elif bar_length is not None and length == bar_length:
            self._full_bars_in_part += 1
        self._pickup_allowed = event.text != PLAIN_BAR and not pickup


class AbcConstraints:
    """The rules in the module docstring, for the stream whose BarTracker this reads."""

    def __init__(self, bars: BarTracker):
        self.bars = bars

    @property
    def form(self) -> FormTracker | None:
        return self.bars.form

    def allows(self, character: str) -> bool:
        parser, bars = self.bars.parser, self.bars
        if character == "%" or (character in MARKING_TIME and bars.last_character in MARKING_TIME):
            return False
        if parser.in_header_line_start() and character not in HEADER_FIELDS:
            return False  # a header line is one of the fields the corpus writes (no P: part order either)
        context = parser.context
        in_body = not parser.in_header and context in MUSIC_CONTEXTS
        if in_body and character not in BODY_CHARACTERS:
            return False
        if not self._note_allowed(character, in_body):
            return False
        if in_body and character == "[":
            return False  # no chord of notes, inline field, ending or [|: see BAR_LINES
        if character.isdigit() and context is Context.BAR:
            return False  # an ending (|2)
        if context is Context.FIELD and parser.field_name == "T" and not _title_could_be(
                parser.token_in_progress(), character):
            return False
        if context is Context.FIELD and character == "\n" and not _field_value_whole(parser):
            return False
        filled, target = parser.bar_filled(), bars.target()
        if in_body and self._marks_time(character, filled):
            return False
        full = target is not None and filled >= target
        if full and character in ELEMENT_STARTS and context in (Context.MUSIC, Context.NOTE, Context.LINE_START):
            return False
        trial = parser.clone()
        events = trial.feed(character)
        if events and not all(self._event_allowed(event, character, filled) for event in events):
            return False
        form = self._form_after(events, filled)
        if form is not self.form:
            target = form.target(parser.bar_length())
        if character in "^_=" and form is not None and form.in_final_bar:
            return False  # the last note is the tonic, which the key signature spells
        if target is not None and events and not self._last_note_is_the_tonic(events, trial, target, form):
            return False
        return self._trial_allowed(trial, character, target, form)

    def _form_after(self, events: list, filled: Fraction) -> FormTracker | None:
        """The form as it will stand once this character is written: a bar it closes moves it on."""
        form, bar_length = self.form, self.bars.parser.bar_length()
        if form is None or bar_length is None or filled == 0 or not any(isinstance(event, Bar) for event in events):
            return form
        ahead = copy.copy(form)
        ahead.bar_closed(filled, bar_length)
        return ahead

    def _marks_time(self, character: str, filled: Fraction) -> bool:
        """A line break inside a bar, a chord symbol right after another, a slur or tuplet."""
        bars = self.bars
        if character == "\n":
            line = bars.tail.rsplit("\n", 1)[-1]
            return filled > 0 or bool(line and not line.strip())  # a line ends after a bar line, not spaces alone
        if character == '"':
            return bars.chord_waiting and bars.parser.context is not Context.QUOTE
        return character == "("  # tuplets: a triplet that cannot fit its bar is a dead end, and rare in the corpus

    def _last_note_is_the_tonic(self, events: list, trial: AbcStreamParser, target: Fraction,
                                form: FormTracker | None) -> bool:
        """The element this character completes, if it fills the tune's last bar, is the tonic."""
        if form is None or not form.in_final_bar or trial.bar_committed() < target:
            return True
        if self.bars.parser.bar_committed() >= target:
            return True
        timed = [event for event in events if isinstance(event, (Note, Rest))]
        return not timed or (isinstance(timed[-1], Note) and timed[-1].pitch % 12 == _tonic_pitch_class(trial))

    def _note_allowed(self, character: str, in_body: bool) -> bool:
        """Notes spelled as the corpus spells them, ties only to the same note."""
        if not in_body:
            return True
        bars = self.bars
        note = note_in_progress(bars.parser, bars.tail)
        if continues(note, character):
            grown = note + character
            return spelled_well(grown) and _tie_kept(bars.tied, grown)
        if note and not (complete(note) and _tie_kept(bars.tied, note, finished=True)):
            return False
        if character == "-":  # not in a strain's last bar: the tie could not reach past its end
            return _tie_on_note(note) and not (self.form is not None and self.form.tie_could_reach_the_end)
        if character in "^_=ABCDEFGabcdefgz":
            return _tie_kept(bars.tied, character) and not (bars.last_character == "~" and character == "z")
        if bars.last_character == "~":
            return False  # a roll decorates the note that follows it
        if character.isdigit() or character in ",'/":
            return bars.parser.context not in (Context.MUSIC, Context.NOTE, Context.LINE_START)
        if bars.tied is None:
            return True
        # A tie waits for its note across spaces, one plain bar line or a line break; not past a
        # double bar, a repeat or the tune's end.
        if character == "|":
            return bars.parser.context is not Context.BAR
        if character == "\n":
            return bars.parser.context is not Context.LINE_START
        return character == " "

    def _event_allowed(self, event, character: str, filled: Fraction) -> bool:
        bars, form = self.bars, self.form
        if isinstance(event, Diagnostic):
            return False
        if isinstance(event, EndOfTune):
            unfinished = form is not None and not form.finished and bars.parser.bar_length() is not None
            return character == "\n" and filled == 0 and bool(bars.bars) and not unfinished
        if isinstance(event, Bar):
            return self._bar_allowed(event.text, filled, bars.parser.bar_length())
        if isinstance(event, Ending):
            return False
        if isinstance(event, ChordSymbol) and form is not None and form.in_final_bar:
            return _is_tonic_chord(event, bars.parser)
        return True

    def _trial_allowed(self, trial: AbcStreamParser, character: str, target: Fraction | None,
                       form: FormTracker | None) -> bool:
        token, context = trial.token_in_progress(), trial.context
        if context is Context.BAR:
            if token not in self._bar_prefixes():
                return False
            if self.bars.parser.context is not Context.BAR and not self._bar_can_close(trial.bar_committed()):
                return False
        if context in (Context.FIELD, Context.INLINE_FIELD) and not _field_could_be_read(trial, token):
            return False
        if context is Context.QUOTE and token not in self._chord_prefixes(trial, form):
            return False
        if trial.in_chord:
            return False
        if target is None:
            return True
        filled = trial.bar_filled()
        if not trial.in_tuplet and (filled / min(SIXTEENTH, trial.unit_length / 2)).denominator != 1:
            return False
        # A note may be written longer than the bar has room for while its length can still
        # shrink ("c" then "/2"); after anything else it must fit now.
        fits = (trial.bar_committed() if character in STILL_SHRINKABLE else filled) <= target
        return fits and self._ends_on_the_tonic(trial, filled, target, form)

    def _ends_on_the_tonic(self, trial: AbcStreamParser, filled: Fraction, target: Fraction,
                           form: FormTracker | None) -> bool:
        """In the tune's last bar, the element that fills it is a note, and the tonic."""
        if form is None or not form.in_final_bar or filled < target:
            return True
        if trial.context not in (Context.NOTE, Context.LINE_START) or trial.bar_committed() >= target:
            return True
        finished = trial.clone().feed("|")  # a bar line ends the note (a space would not: a tie may follow)
        last = [event for event in finished if isinstance(event, (Note, Rest))]
        return bool(last) and isinstance(last[-1], Note) and last[-1].pitch % 12 == _tonic_pitch_class(trial)

    def _chord_prefixes(self, trial: AbcStreamParser, form: FormTracker | None) -> frozenset[str]:
        """The corpus' chord symbols; in the tune's last bar only the tonic chord."""
        if form is None or not form.in_final_bar:
            return _CHORD_PREFIXES
        chord = tonic_chord(trial)
        return _prefixes((chord,)) if chord is not None else frozenset(("",))

    def _bar_prefixes(self) -> frozenset[str]:
        return frozenset(("|",)) if self.form is not None else _BAR_PREFIXES

    def _bar_can_close(self, filled: Fraction) -> bool:
        """Could some bar line the model may write close a bar this full?"""
        if filled == 0 and (self.bars.previous_bar_empty or self.form is not None):
            return False  # an empty bar: the model marking time (":|" then "|:" is the composer's)
        if self.form is not None and self.form.in_last_bar:
            return False  # the composer closes a strain
        bar_length = self.bars.parser.bar_length()
        return self.bars.judge(filled, bar_length, PLAIN_BAR) or self.bars.judge(filled, bar_length, "||")

    def _bar_allowed(self, text: str, filled: Fraction, bar_length: Fraction | None) -> bool:
        if text not in BAR_LINES:
            return False
        if filled == 0 and self.bars.previous_bar_empty:
            return False
        return self.bars.judge(filled, bar_length, text)


def _tie_kept(tied: str | None, note: str, finished: bool = False) -> bool:
    """While a tie waits, the next note must be spelled as the tied one (its length is free)."""
    if tied is None:
        return True
    spelling = pitch_spelling(note)
    if finished or spelling != note:  # past its octave marks: the spelling is final
        return spelling == tied
    return tied.startswith(spelling)


def _tie_on_note(note: str) -> bool:
    """A tie follows a finished note, never a rest."""
    return bool(note) and "z" not in note


def _tonic_pitch_class(parser: AbcStreamParser) -> int:
    tonic = parser.state.key.tonic
    if tonic[:1] not in "ABCDEFG" or not tonic:
        return 0
    return (NATURAL_SEMITONES[LETTERS.index(tonic[0])] + tonic.count("#") - tonic.count("b")) % 12


def tonic_chord(parser: AbcStreamParser) -> str | None:
    """The key's tonic chord as the corpus writes it ("G", "Em", "Am" for A dorian), if the corpus writes it."""
    key = parser.state.key
    name = key.tonic + ("m" if key.mode in MINOR_MODES else "")
    return name if name in CHORD_SYMBOLS else None


def _is_tonic_chord(chord: ChordSymbol, parser: AbcStreamParser) -> bool:
    minor = parser.state.key.mode in MINOR_MODES
    return chord.root == _tonic_pitch_class(parser) and (3 in chord.intervals) == minor


def _title_could_be(title: str, character: str) -> bool:
    """Titles are the corpus' title words, one space apart, ending with a whole word."""
    if character == "\n":
        words = title.split(" ")
        return bool(title) and all(word in TITLE_WORDS for word in words)
    words = (title + character).split(" ")
    if len(words) > TITLE_WORDS_MAX or "" in words[:-1]:
        return False
    return all(word in TITLE_WORDS for word in words[:-1]) and words[-1] in _TITLE_PREFIXES


def _field_value_whole(parser: AbcStreamParser) -> bool:
    """A field line ends on a whole value (M:6/8, not M:6/), where the corpus' values are the rule."""
    values = _FIELD_WHOLE_VALUES.get(parser.field_name) if parser.in_header else None
    return values is None or parser.token_in_progress() in values


def _field_could_be_read(trial: AbcStreamParser, value: str) -> bool:
    """Only the header fields the corpus writes, with the values it writes; no fields inside a tune."""
    if not trial.in_header or trial.field_name not in HEADER_FIELDS:
        return False
    if trial.field_name == "X":
        return value.strip().isdigit() or not value.strip()
    values = _FIELD_VALUES.get(trial.field_name)
    return values is None or value in values
