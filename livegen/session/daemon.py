"""The live session behind `livegen run`: tune after tune, generated just ahead of the playhead and played on time.

This module wires the parts together and supervises them; the generation
loop is livegen.session.generation, timing on the clock and waiting
livegen.session.scheduler, and the controls come in through
livegen.control.osc_server and livegen.control.midi_cc.

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

import logging
import signal
import threading
import time
import traceback
from contextlib import ExitStack
from pathlib import Path

import mido

from livegen.control.controls import Controls
from livegen.control.feedback import Feedback
from livegen.control.midi_cc import MidiCcInput
from livegen.control.osc_server import OscServer
from livegen.errors import LivegenError
from livegen.model.engine import Engine
from livegen.model.model_file import load_model
from livegen.realtime.clock import make_clock
from livegen.realtime.midi_port import open_input, open_output, resolve_backend
from livegen.realtime.output import OutputThread, PortState
from livegen.realtime.recorder import SessionRecorder
from livegen.session.generation import Generation
from livegen.session.options import DaemonOptions, OscOptions
from livegen.session.scheduler import Scheduler
from livegen.session.status_line import Status, StatusLine

__all__ = ["Daemon", "DaemonOptions", "OscOptions", "run_daemon"]

log = logging.getLogger(__name__)

SUPERVISE_S = 0.1  # how often the main thread checks for a stop and refreshes the status line


class Daemon:
    """One live session; run() returns when it ends as asked, and raises what ended it otherwise."""

    def __init__(self, options: DaemonOptions, status_line: StatusLine | None = None):
        self.options = options
        self.status_line = status_line or StatusLine(enabled=False)
        self.controls = Controls(options.parameters)
        self.clock = make_clock(options.clock, self.controls["tempo"], options.link_start_stop)
        self.scheduler = Scheduler(self.clock, self.controls, options.lookahead_beats)
        self.generation = Generation(options, self.controls, self.scheduler)
        self.control_changes = MidiCcInput(self.controls, options.cc_map)
        self.recorder: SessionRecorder | None = None
        self.error_log: Path | None = None  # where the traceback of an internal error went, if it could be written
        self.osc: OscServer | None = None
        self._feedback: Feedback | None = None
        self._port_state = PortState.CLOSED
        self.clock.on_transport(lambda stopped: self.scheduler.interrupt(silence=stopped))
        self.controls.listen(self._on_control)

    def run(self) -> None:
        options = self.options
        model = load_model(options.model)
        backend = resolve_backend(options.backend)
        with ExitStack() as cleanup:
            cleanup.callback(self.clock.close)  # a Link session sees livegen leave
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

            output = self.scheduler.output = OutputThread(open_port, self._on_port_state)
            cleanup.callback(output.close)  # before the recorder's close: the last note-offs are recorded
            self._supervise(Engine(model), model.vocabulary)
        failure = self.generation.failure
        if failure is not None:
            self.error_log = self.recorder.write_error_log("".join(traceback.format_exception(failure)))
            raise failure

    def _input_names(self) -> list[str]:
        names = [self.options.clock_port] if self.clock.reads_midi else []
        return names + ([self.options.control_port] if self.options.control_port else [])

    def _start_controls(self) -> None:
        """Say where control comes from, and start listening for OSC (the MIDI inputs already listen)."""
        if self.clock.reads_midi:
            log.info("following MIDI clock from %r: start the DAW's transport to play", self.options.clock_port)
        if self.options.clock == "link":
            log.info("in the Ableton Link session: %d other peer(s), %.2f BPM%s", self.clock.peers,
                     self.clock.tempo_bpm, ": start its transport to play" if self.options.link_start_stop else "")
        if self.options.control_port:
            log.info("MIDI control changes on %r: %s", self.options.control_port, self.control_changes.describe())
        if self.osc is not None:
            log.info("listening for OSC on %s:%d (/livegen/<parameter>)", self.osc.host, self.osc.port)
            self._feedback.start()
            self.osc.start()

    def _supervise(self, engine: Engine, vocabulary) -> None:
        """The main thread's part: start the threads, watch them, and stop them on every way out."""
        previous_handlers = self._install_signal_handlers()
        scheduler, generation = self.scheduler, self.generation
        try:
            scheduler.output.start()
            generation.start(engine, vocabulary, self.recorder)
            while not (generation.done.is_set() or scheduler.stop_requested):
                generation.done.wait(SUPERVISE_S)
                status = self._status()
                self.status_line.show(status)
                heard = scheduler.heard_note()  # every time: it also drains the onsets queued, listened to or not
                if self._feedback is not None:
                    self._feedback.tune(status.title, status.bar, heard)
                    self._feedback.clock(self.clock.kind, self.clock.tempo_bpm, self.clock.peers)
        finally:
            scheduler.request_stop()
            scheduler.wake()
            generation.join()
            scheduler.output.close()
            self.status_line.close()
            for signum, handler in previous_handlers.items():
                signal.signal(signum, handler)

    def request_stop(self, *_) -> None:
        """Leave the session cleanly (the signal handler; safe from any thread)."""
        self.scheduler.request_stop()

    def _install_signal_handlers(self) -> dict:
        if threading.current_thread() is not threading.main_thread():
            return {}
        return {signum: signal.signal(signum, self.request_stop) for signum in (signal.SIGINT, signal.SIGTERM)}

    def _status(self) -> Status:
        tune, now = self.generation.tune, time.monotonic()
        playhead = self.clock.beat_at(now)
        bar = 0
        if tune is not None and tune.beats_per_bar and playhead is not None and playhead >= tune.start_beat:
            bar = int((playhead - float(tune.start_beat)) // tune.beats_per_bar) + 1
        if self._port_state is PortState.LOST:
            state = "MIDI port lost"
        elif not self.controls["play"]:
            state = "stopped"
        elif self.clock.follows_transport and not self.clock.running:
            state = f"waiting for {self.clock.waiting_for}"
        else:
            state = "playing"
        return Status(tune.number if tune else 0, tune.title if tune else "", tune.key if tune else "",
                      tune.meter if tune else "", self.clock.tempo_bpm, self.controls["temperature"], bar, state,
                      self.clock.describe())

    def _on_port_state(self, state: PortState) -> None:
        self._port_state = state

    def _on_midi_in(self, message: mido.Message, arrival: float) -> None:
        """On an input's thread: control changes go to their parameters, everything else to the clock."""
        if message.type == "control_change":
            self.control_changes.receive(message)
        else:
            self.clock.feed(message, arrival)  # a transport move comes back through on_transport

    def _on_control(self, name: str, value: object) -> None:
        """On whichever thread changed a control: act on those that can't wait for the next character."""
        if name == "tempo":
            self.scheduler.set_tempo(value)
        elif name == "play" and not value:
            self.clock.stop()
            self.scheduler.interrupt(silence=True)
        elif name == "panic":
            self.scheduler.interrupt(silence=True)
        elif name == "new_tune":
            self.generation.new_tune_requested = True
        self.scheduler.wake()

    def _feedback_here(self, host: str, port: int) -> None:
        if self._feedback is not None:
            self._feedback.add_target(host, port)


def run_daemon(options: DaemonOptions, status_line: StatusLine) -> int:
    """Run a session for the command line: 0 when it ended as asked, 1 (and one line) after an internal error."""
    daemon = Daemon(options, status_line)
    try:
        daemon.run()
    except LivegenError:
        raise
    except Exception as error:
        log.error("livegen stopped after an internal error: %s: %s%s", type(error).__name__, error,
                  f" (traceback in {daemon.error_log})" if daemon.error_log else "")
        return 1
    return 0
