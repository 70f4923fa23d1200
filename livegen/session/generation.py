"""The generation loop: tune after tune, one character at a time, just ahead of the playhead.

On its own thread, it steps the model, lets the composer choose and parse
each character, hands the settled notes to the Scheduler, and waits there
while it is more than the lookahead ahead. Control changes are picked up
between two characters: sampling and arrangement at once, key, metre, type
and seed from the next tune. An interruption (stop, panic, the DAW's
transport) ends the tune being written; a fresh one starts once playing
resumes.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, replace
from fractions import Fraction

import numpy as np

from livegen.compose.composer import TuneComposer, TunePlan
from livegen.compose.sampler import Sampler, SamplingSettings
from livegen.control.controls import Controls
from livegen.control.parameters import AUTO, key_text
from livegen.model.engine import Engine
from livegen.perform.arrangement import ArrangementSettings
from livegen.perform.live_player import LivePlayer
from livegen.realtime.output import promote_current_thread
from livegen.realtime.recorder import SessionRecorder
from livegen.session.first_bar import FirstBar
from livegen.session.options import DaemonOptions
from livegen.session.scheduler import Interrupted, Scheduler

log = logging.getLogger(__name__)

GENERATION_PRIORITY = 1  # real-time where permitted, below the output thread: see promote_current_thread
JOIN_S = 5.0


@dataclass(frozen=True)
class TuneInfo:
    """What the status line shows of the tune being played, published once its header is written."""

    number: int
    title: str
    key: str
    meter: str
    start_beat: Fraction
    beats_per_bar: float | None


class Generation:
    """The generation thread: start() it, watch `done`; `failure` holds what ended it, if not a stop."""

    def __init__(self, options: DaemonOptions, controls: Controls, scheduler: Scheduler):
        self.options = options
        self.controls = controls
        self.scheduler = scheduler
        self.tune: TuneInfo | None = None  # the tune being played, for the status line
        self.new_tune_requested = False  # set from any thread: end this tune at the next bar
        self.done = threading.Event()
        self.failure: BaseException | None = None
        self._thread: threading.Thread | None = None

    def start(self, engine: Engine, vocabulary, recorder: SessionRecorder) -> None:
        self._thread = threading.Thread(target=self._run_safely, args=(engine, vocabulary, recorder),
                                        name="livegen-generate", daemon=True)
        self._thread.start()

    def join(self) -> None:
        if self._thread is not None:
            self._thread.join(JOIN_S)

    def _run_safely(self, engine: Engine, vocabulary, recorder: SessionRecorder) -> None:
        promote_current_thread(GENERATION_PRIORITY)
        try:
            self._run(engine, vocabulary, recorder)
        except BaseException as error:
            self.failure = error
        finally:
            self.done.set()

    def _run(self, engine: Engine, vocabulary, recorder: SessionRecorder) -> None:
        scheduler = self.scheduler
        seed = self.controls["seed"]
        sampler = Sampler(self._sampling(), seed)
        started = finished = 0
        start: Fraction | None = None  # where the next tune begins; None: wherever the transport is
        while not scheduler.stop_requested and (self.options.tunes is None or finished < self.options.tunes):
            moves = scheduler.interruptions
            try:
                if start is None:
                    start = scheduler.next_start()
                if self.controls["seed"] != seed:
                    seed = self.controls["seed"]
                    sampler.rng = np.random.default_rng(seed)
                started += 1
                start = self._play_tune(started, start, moves, engine, vocabulary, sampler, recorder)
                finished += 1
            except Interrupted:
                start = None
                scheduler.discard_held()
                scheduler.output.panic()  # also catches notes scheduled while the interruption was arriving
        if start is not None and not scheduler.stop_requested:
            scheduler.wait_until_played(start)

    def _sampling(self) -> SamplingSettings:
        return SamplingSettings(self.controls["temperature"], self.controls["top_p"])

    def _arrangement(self) -> ArrangementSettings:
        controls = self.controls
        chord_channel = controls["chord_channel"]
        return replace(self.options.arrangement, melody_channel=controls["melody_channel"] - 1,
                       chord_channel=chord_channel - 1 if chord_channel else None, velocity=controls["velocity"],
                       transpose=controls["transpose"])

    def _plan(self, number: int) -> TunePlan:
        controls = self.controls
        meter, tune_type = controls["meter"], controls["type"]
        return TunePlan(None if meter == AUTO else meter, key_text(controls.snapshot()), None,
                        None if tune_type == AUTO else tune_type, number=number, form=controls["form"])

    def _play_tune(self, number: int, start: Fraction, moves: int, engine: Engine, vocabulary,
                   sampler: Sampler, recorder: SessionRecorder) -> Fraction:
        """Write and schedule one tune from session beat `start`; returns where the next one can begin."""
        composer = TuneComposer(self._plan(number), vocabulary, self.options.constrained, self.options.max_length)
        player = LivePlayer(self._arrangement(), start)
        first_bar = FirstBar(self.scheduler.clock, player)
        self.new_tune_requested = False
        engine.reset()
        logits = None  # before the first step: a tune opens forced
        version = self.controls.version
        try:
            while True:
                if version != self.controls.version:
                    version = self.controls.version
                    sampler.settings, player.settings = self._sampling(), self._arrangement()
                if self.new_tune_requested:
                    self.new_tune_requested = False
                    composer.end_at_next_bar()
                first_bar.note_state(composer.parser.state)
                character = composer.next_character(sampler, logits)
                events = composer.accept(character)
                recorder.tune_progress(composer.text)  # the ABC is written ahead: see livegen.realtime.recorder
                if events or composer.finished:
                    cues = player.add(events) if events else []
                    self.scheduler.schedule(first_bar.release(cues, composer.parser.state, composer.finished))
                    if first_bar.placed:
                        self._publish(number, composer, player.start_beat)
                if composer.finished:
                    return player.tune_end_beat
                logits = engine.step(np.array([vocabulary.id_of(character)]))[0]
                if first_bar.placed:  # until then nothing is scheduled, and the tune's start may still move
                    self.scheduler.wait_until_needed(player.played_until, moves)
        finally:
            recorder.tune_finished("".join(composer.text), composer.finished)

    def _publish(self, number: int, composer: TuneComposer, start: Fraction) -> None:
        if self.tune is not None and self.tune.number == number:
            return
        state = composer.parser.state
        if state.in_header or not state.in_tune:
            return
        meter = state.meter
        beats_per_bar = float(meter.bar_length * 4) if meter is not None and meter.bar_length else None
        key = state.key.tonic + ("" if state.key.mode == "maj" else state.key.mode)
        self.tune = TuneInfo(number, composer.title, key, meter.text if meter else "", start, beats_per_bar)
        log.debug("tune %d: %s", number, composer.title)
