"""The live session behind `livegen run`: tune after tune, generated just ahead of the playhead and played on time.

Three threads share the work, so that model work never delays a due note:

- the generation thread steps the model one character at a time, parses, and
  hands each settled note to the output thread at its clock time; it keeps at
  most `lookahead` beats of melody ahead of the playhead and otherwise waits;
- the output thread (livegen.realtime.output) sends each message at its time and
  owns the port, its loss and reconnection, and the notes still sounding;
- the main thread handles SIGINT/SIGTERM, refreshes the status line and the
  OSC feedback, and on every way out (a stop, the last tune, an internal
  error) closes the output thread, which ends every sounding note and sends
  All Notes Off, and then flushes the session recording.

Musicians steer it through livegen.control.controls, from OSC (livegen.control.osc_server)
and MIDI CC on the control port. The generation thread picks up changes
between two characters, so sampling and arrangement changes are heard within
the lookahead, and key, metre, type and seed from the next tune. Stop, panic
and the DAW's transport interrupt the tune being written: everything
sounding is ended, and a fresh tune begins once playing resumes.

With the internal clock the session's beat 0 falls just after the first notes
are settled, so nothing is late at start. Following MIDI clock, beats are the
DAW's beats (song position pointer included): each Start or Continue begins a
fresh tune on the next whole beat, and Stop silences at once. After a panic a
fresh tune begins on the next whole beat of the running clock.
"""

from __future__ import annotations

import itertools
import logging
import math
import signal
import threading
import time
import traceback
from collections import deque
from contextlib import ExitStack
from dataclasses import dataclass, field, replace
from fractions import Fraction
from pathlib import Path

import mido
import numpy as np

from livegen.perform.arrangement import ArrangementSettings
from livegen.realtime.clock import make_clock
from livegen.compose.composer import TuneComposer, TunePlan
from livegen.control.controls import Controls
from livegen.model.engine import Engine
from livegen.errors import LivegenError
from livegen.control.feedback import Feedback
from livegen.perform.live_player import Cue, LivePlayer
from livegen.realtime.midi_port import open_input, open_output, resolve_backend
from livegen.model.model_file import load_model
from livegen.control.osc_server import OscServer
from livegen.realtime.output import OutputThread, PortState, promote_current_thread
from livegen.control.parameters import AUTO, DEFAULT_CC_MAP, PARAMETERS, key_text
from livegen.realtime.recorder import SessionRecorder
from livegen.compose.sampler import Sampler, SamplingSettings
from livegen.session.status_line import Status, StatusLine

log = logging.getLogger(__name__)

START_MARGIN_S = 0.1  # beat 0 (or the DAW's next beat) falls at least this long after the first notes are ready
MAX_WAIT_S = 0.02  # longest nap of the generation thread: it rechecks stop requests and the transport this often
SUPERVISE_S = 0.1  # how often the main thread checks for a stop and refreshes the status line
END_MARGIN_S = 0.05  # after the last note-off, before the port closes
JOIN_S = 5.0
HUMANISE_VELOCITY = 10  # at --humanise 1: velocity varies by up to this much either way ...
HUMANISE_DELAY_S = 0.010  # ... and a note starts up to this much late (never early, never past half its length)
GENERATION_PRIORITY = 1  # real-time where permitted, below the output thread: see promote_current_thread
CC_PRESSED = 64  # a controller at or above this presses a button (as the sustain pedal does)


@dataclass(frozen=True)
class OscOptions:
    host: str = "127.0.0.1"
    port: int = 9000  # 0: any free port (the log says which)
    allow: tuple[str, ...] = ()  # clients accepted when host is not loopback
    feedback: tuple[tuple[str, int], ...] = ()  # (host, port) targets from the start


@dataclass(frozen=True)
class DaemonOptions:
    port: str = "LiveGen"
    backend: str = "auto"
    clock: str = "internal"  # a kind of livegen.realtime.clock.CLOCK_KINDS
    clock_port: str = "LiveGen Clock"
    model: Path | None = None
    parameters: dict = field(default_factory=dict)  # starting values of the live parameters; the rest default
    constrained: bool = True
    max_length: int = 3000
    lookahead_beats: float = 1.0
    arrangement: ArrangementSettings = ArrangementSettings()  # channels, velocity, transpose: from the parameters
    record: Path | None = None  # parent folder of the session folder; None: the per-user default
    tunes: int | None = None  # stop after this many finished tunes; None: play until stopped
    control_port: str | None = None  # MIDI input for control changes; None: none
    cc_map: dict = field(default_factory=lambda: dict(DEFAULT_CC_MAP))  # controller number: parameter name
    osc: OscOptions | None = None  # None: no OSC


@dataclass(frozen=True)
class _TuneInfo:
    """What the status line shows of the tune being played, published once its header is written."""

    number: int
    title: str
    key: str
    meter: str
    start_beat: Fraction
    beats_per_bar: float | None


class Interrupted(Exception):
    """The tune being written can't go on: livegen is stopping, or play was stopped, panic pressed, or the DAW's
    transport moved."""


class Daemon:
    """One live session; run() returns when it ends as asked, and raises what ended it otherwise."""

    def __init__(self, options: DaemonOptions, status_line: StatusLine | None = None):
        self.options = options
        self.status_line = status_line or StatusLine(enabled=False)
        self.controls = Controls(options.parameters)
        tempo = self.controls["tempo"]
        self.clock = make_clock(options.clock, tempo)
        self.clock.on_transport(lambda stopped: self._interrupt(silence=stopped))
        self.recorder: SessionRecorder | None = None
        self.osc: OscServer | None = None
        self._feedback: Feedback | None = None
        self._output: OutputThread | None = None
        self._stop_requested = False  # set by signal handlers: a plain flag, nothing that takes a lock
        self._done = threading.Event()  # the generation thread has ended
        self._failure: BaseException | None = None
        self._wake = threading.Event()  # something moved: the generation thread looks again at once
        self._interruption_count = itertools.count(1)
        self._interruptions = 0  # stops, panics and transport moves so far
        self._new_tune_requested = False
        self._port_state = PortState.CLOSED
        self._tune: _TuneInfo | None = None
        self._melody_onsets: deque[tuple[float, int]] = deque()  # (time, pitch) scheduled, not yet reported
        self._last_note: int | None = None
        self._humanise_rng = np.random.default_rng(self.controls["seed"])
        self._cc_values: dict[int, int] = {}  # the last value of each controller: a trigger fires on its rise
        self._scheduling = threading.Lock()  # held while cues are timed and queued, and while the tempo changes
        self._queued_until = 0.0  # the last session beat queued for the output thread
        self.controls.listen(self._on_control)

    # The main thread: set-up, supervision, and cleanup on every way out.

    def run(self) -> None:
        options = self.options
        model = load_model(options.model)
        backend = resolve_backend(options.backend)
        with ExitStack() as cleanup:
            if options.osc is not None:  # before any port opens: a taken OSC port is the user's to fix first
                self.osc = OscServer(self.controls, options.osc.host, options.osc.port, options.osc.allow,
                                     self._feedback_here)
                cleanup.callback(self.osc.close)
                self._feedback = Feedback(self.controls, options.osc.feedback)
                cleanup.callback(self._feedback.close)
            first_port = [open_output(options.port, backend)]
            cleanup.callback(lambda: [port.close() for port in first_port])
            for name in dict.fromkeys(self._input_names()):
                cleanup.callback(open_input(name, self._on_midi_in, backend).close)
            self.recorder = SessionRecorder(options.record, self.controls["tempo"])
            cleanup.callback(self.recorder.close)
            log.info("playing into MIDI port %r (%s); recording to %s", options.port, backend, self.recorder.folder)
            self._start_controls()

            def open_port():
                return self.recorder.port(first_port.pop() if first_port else open_output(options.port, backend))

            self._output = OutputThread(open_port, self._on_port_state)
            cleanup.callback(self._output.close)  # before the recorder's close: the last note-offs are recorded
            self._supervise(Engine(model), model.vocabulary)
        if self._failure is not None:
            (self.recorder.folder / "error.log").write_text(
                "".join(traceback.format_exception(self._failure)), encoding="utf-8")
            raise self._failure

    def _input_names(self) -> list[str]:
        names = [self.options.clock_port] if self.clock.reads_midi else []
        return names + ([self.options.control_port] if self.options.control_port else [])

    def _start_controls(self) -> None:
        """Say where control comes from, and start listening for OSC (the MIDI inputs already listen)."""
        if self.clock.reads_midi:
            log.info("following MIDI clock from %r: start the DAW's transport to play", self.options.clock_port)
        if self.options.control_port:
            log.info("MIDI control changes on %r: %s", self.options.control_port,
                     ", ".join(f"CC{number} {name}" for number, name in sorted(self.options.cc_map.items())))
        if self.osc is not None:
            log.info("listening for OSC on %s:%d (/livegen/<parameter>)", self.osc.host, self.osc.port)
            self._feedback.start()
            self.osc.start()

    def _supervise(self, engine: Engine, vocabulary) -> None:
        """The main thread's part: start the threads, watch them, and stop them on every way out."""
        previous_handlers = self._install_signal_handlers()
        generation = threading.Thread(target=self._generate_safely, args=(engine, vocabulary),
                                      name="livegen-generate", daemon=True)
        try:
            self._output.start()
            generation.start()
            while not (self._done.is_set() or self._stop_requested):
                self._done.wait(SUPERVISE_S)
                status = self._status()
                self.status_line.show(status)
                if self._feedback is not None:
                    self._feedback.tune(status.title, status.bar, self._heard_note())
        finally:
            self._stop_requested = True
            self._wake.set()
            generation.join(JOIN_S)
            self._output.close()
            self.status_line.close()
            for signum, handler in previous_handlers.items():
                signal.signal(signum, handler)

    def request_stop(self, *_) -> None:
        """Leave the session cleanly (the signal handler; safe from any thread)."""
        self._stop_requested = True

    def _install_signal_handlers(self) -> dict:
        if threading.current_thread() is not threading.main_thread():
            return {}
        return {signum: signal.signal(signum, self.request_stop) for signum in (signal.SIGINT, signal.SIGTERM)}

    def _status(self) -> Status:
        tune, now = self._tune, time.monotonic()
        playhead = self.clock.beat_at(now)
        bar = 0
        if tune is not None and tune.beats_per_bar and playhead is not None and playhead >= tune.start_beat:
            bar = int((playhead - float(tune.start_beat)) // tune.beats_per_bar) + 1
        if self._port_state is PortState.LOST:
            state = "MIDI port lost"
        elif not self.controls["play"]:
            state = "stopped"
        elif self.clock.follows_transport and not self.clock.running:
            state = "waiting for MIDI clock"
        else:
            state = "playing"
        return Status(tune.number if tune else 0, tune.title if tune else "", tune.key if tune else "",
                      tune.meter if tune else "", self.clock.tempo_bpm, self.controls["temperature"], bar, state)

    def _heard_note(self) -> int | None:
        """The last melody note whose time has come (on the main thread, which alone takes from the queue)."""
        now = time.monotonic()
        while self._melody_onsets and self._melody_onsets[0][0] <= now:
            self._last_note = self._melody_onsets.popleft()[1]
        return self._last_note

    def _on_port_state(self, state: PortState) -> None:
        self._port_state = state

    def _on_midi_in(self, message: mido.Message, arrival: float) -> None:
        """On an input's thread: a mapped control change sets its parameter; clock messages move the clock."""
        if message.type == "control_change":
            name = self.options.cc_map.get(message.control)
            pressed_before = self._cc_values.get(message.control, 0) >= CC_PRESSED
            self._cc_values[message.control] = message.value
            if name is not None and (PARAMETERS[name].holds_value or not pressed_before):
                self.controls.receive(name, message.value / 127, norm=True)  # 0-127 always fits
        else:
            self.clock.feed(message, arrival)  # a transport move comes back through on_transport

    def _on_control(self, name: str, value: object) -> None:
        """On whichever thread changed a control: act on those that can't wait for the next character."""
        if name == "tempo":
            with self._scheduling:  # from the last beat queued on: those notes keep their times
                self.clock.set_tempo(value, from_beat=self._queued_until)
        elif name == "play" and not value:
            self.clock.stop()
            self._interrupt(silence=True)
        elif name == "panic":
            self._interrupt(silence=True)
        elif name == "new_tune":
            self._new_tune_requested = True
        self._wake.set()

    def _interrupt(self, silence: bool) -> None:
        """End the tune being written; with silence, also every note sounding or queued."""
        self._interruptions = next(self._interruption_count)
        if silence and self._output is not None:
            self._output.panic()
        self._wake.set()

    def _feedback_here(self, host: str, port: int) -> None:
        if self._feedback is not None:
            self._feedback.add_target(host, port)

    # The generation thread.

    def _generate_safely(self, engine: Engine, vocabulary) -> None:
        promote_current_thread(GENERATION_PRIORITY)
        try:
            self._generate(engine, vocabulary)
        except BaseException as error:
            self._failure = error
        finally:
            self._done.set()

    def _generate(self, engine: Engine, vocabulary) -> None:
        seed = self.controls["seed"]
        sampler = Sampler(self._sampling(), seed)
        started = finished = 0
        start: Fraction | None = None  # where the next tune begins; None: wherever the transport is
        while not self._stop_requested and (self.options.tunes is None or finished < self.options.tunes):
            moves = self._interruptions
            try:
                if start is None:
                    start = self._next_start()
                if self.controls["seed"] != seed:
                    seed = self.controls["seed"]
                    sampler.rng = np.random.default_rng(seed)
                started += 1
                start = self._play_tune(started, start, moves, engine, vocabulary, sampler)
                finished += 1
            except Interrupted:
                start = None
                self._output.panic()  # also catches notes scheduled while the interruption was arriving
        if start is not None and not self._stop_requested:
            self._wait_until_played(start)

    def _next_start(self) -> Fraction:
        """Where a fresh tune begins, once playing: the running clock's next whole beat, else beat 0.

        The internal clock starts with the first notes; MIDI clock is waited for.
        """
        while True:
            moves = self._interruptions
            if self.controls["play"]:
                beat = self.clock.beat_at(time.monotonic() + START_MARGIN_S)
                if beat is not None:
                    return Fraction(math.ceil(beat))
                if not self.clock.follows_transport:
                    return Fraction(0)
            self._nap(MAX_WAIT_S, moves)

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
                        None if tune_type == AUTO else tune_type, number=number)

    def _play_tune(self, number: int, start: Fraction, moves: int, engine: Engine, vocabulary,
                   sampler: Sampler) -> Fraction:
        """Write and schedule one tune from session beat `start`; returns where the next one can begin."""
        composer = TuneComposer(self._plan(number), vocabulary, self.options.constrained, self.options.max_length)
        player = LivePlayer(self._arrangement(), start)
        self._new_tune_requested = False
        engine.reset()
        probabilities = np.full(len(vocabulary), 1.0 / len(vocabulary))  # unused: a tune opens forced
        version = self.controls.version
        try:
            while True:
                if version != self.controls.version:
                    version = self.controls.version
                    sampler.settings, player.settings = self._sampling(), self._arrangement()
                if self._new_tune_requested:
                    self._new_tune_requested = False
                    composer.end_at_next_bar()
                character = composer.choose(probabilities, sampler.rng)
                events = composer.accept(character)
                if events:
                    self._schedule(player.add(events))
                    self._publish(number, composer, start)
                if composer.finished:
                    return player.tune_end_beat
                logits = engine.step(np.array([vocabulary.id_of(character)]))
                probabilities = sampler.probabilities(logits)[0]
                self._wait_until_needed(player.played_until, moves)
        finally:
            self.recorder.tune_finished("".join(composer.text), composer.finished)

    def _publish(self, number: int, composer: TuneComposer, start: Fraction) -> None:
        if self._tune is not None and self._tune.number == number:
            return
        state = composer.parser.state
        if state.in_header or not state.in_tune:
            return
        meter = state.meter
        beats_per_bar = float(meter.bar_length * 4) if meter is not None and meter.bar_length else None
        key = state.key.tonic + ("" if state.key.mode == "maj" else state.key.mode)
        self._tune = _TuneInfo(number, composer.title, key, meter.text if meter else "", start, beats_per_bar)
        log.debug("tune %d: %s", number, composer.title)

    def _schedule(self, cues: list[Cue]) -> None:
        """Hand settled cues to the output thread at their clock times (starting the internal clock if need be)."""
        if not cues:
            return
        with self._scheduling:
            if not self.clock.running and not self.clock.follows_transport:
                self.clock.start(float(cues[0].beat), time.monotonic() + START_MARGIN_S)
                self._queued_until = float(cues[0].beat)
            for cue in cues:
                self._queue(cue)
                self._queued_until = max(self._queued_until, float(cue.beat))

    def _queue(self, cue: Cue) -> None:
        at, until = self.clock.time_of(cue.beat), self.clock.time_of(cue.beat + cue.lasts)
        if at is None or until is None:
            raise Interrupted  # the DAW stopped between two cues (the panic that follows ends what started)
        if not cue.starts:
            self._output.schedule(mido.Message("note_off", channel=cue.channel, note=cue.pitch), at)
            return
        delay, velocity = self._humanised(cue.velocity, until - at)
        if cue.channel == self.controls["melody_channel"] - 1:
            self._melody_onsets.append((at + delay, cue.pitch))
        self._output.schedule(mido.Message("note_on", channel=cue.channel, note=cue.pitch, velocity=velocity),
                              at + delay)

    def _humanised(self, velocity: int, length_s: float) -> tuple[float, int]:
        amount = self.controls["humanise"]
        if amount <= 0:
            return 0.0, velocity
        spread = round(amount * HUMANISE_VELOCITY)
        velocity += int(self._humanise_rng.integers(-spread, spread + 1))
        delay = float(self._humanise_rng.uniform(0.0, amount * HUMANISE_DELAY_S))
        return min(delay, length_s / 2), max(1, min(127, velocity))

    def _wait_until_needed(self, played_until: Fraction, moves: int) -> None:
        """Return once the playhead is within the lookahead of what has been settled."""
        lookahead = self.options.lookahead_beats
        while True:
            self._check(moves)
            now = time.monotonic()
            playhead = self.clock.beat_at(now)
            if playhead is None:
                if not self.clock.follows_transport:
                    return  # the clock starts with the first notes
                self._nap(MAX_WAIT_S, moves)
            elif played_until < playhead + lookahead:
                return
            else:
                due = self.clock.time_of(float(played_until) - lookahead)
                self._nap(min(MAX_WAIT_S, max(0.0, (due or now) - now)), moves)

    def _wait_until_played(self, end: Fraction) -> None:
        """After the last tune: let its last notes sound before the port closes (unless stopped first)."""
        moves = self._interruptions
        try:
            while (end_time := self.clock.time_of(end)) is not None and time.monotonic() < end_time + END_MARGIN_S:
                self._nap(MAX_WAIT_S, moves)
        except Interrupted:
            pass

    def _nap(self, seconds: float, moves: int) -> None:
        self._wake.wait(seconds)
        self._wake.clear()
        self._check(moves)

    def _check(self, moves: int) -> None:
        if self._stop_requested or moves != self._interruptions:
            raise Interrupted


def run_daemon(options: DaemonOptions, status_line: StatusLine) -> int:
    """Run a session for the command line: 0 when it ended as asked, 1 (and one line) after an internal error."""
    daemon = Daemon(options, status_line)
    try:
        daemon.run()
    except LivegenError:
        raise
    except Exception as error:
        folder = daemon.recorder.folder if daemon.recorder else None
        log.error("livegen stopped after an internal error: %s: %s%s", type(error).__name__, error,
                  f" (traceback in {folder / 'error.log'})" if folder else "")
        return 1
    return 0
