"""OSC out: tell controllers every parameter change and what is being played.

Faders and labels follow changes made anywhere (another controller, a MIDI
CC, a preset) because every change is sent to every feedback target: for
each parameter its value (/livegen/<name>), its 0..1 position (/norm) and
its label text (/text); for the tune, its title, the bar being played and
the last melody note; and for the clock, its kind, its tempo now and its
Link peers. A new target first gets the whole picture.

Changes are coalesced on a thread of their own and sent at most every
MIN_INTERVAL_S, so a flood of incoming changes becomes a trickle of
outgoing packets and never blocks whoever made the change.
"""

from __future__ import annotations

import logging
import socket
import threading
import time

from pythonosc.osc_message_builder import OscMessageBuilder

from livegen.control.controls import Controls
from livegen.control.parameters import (
    CLOCK_SOURCE,
    CLOCK_TEMPO,
    LINK_PEERS,
    NOTE_NAMES,
    PARAMETERS,
    TUNE_BAR,
    TUNE_NOTE,
    TUNE_TITLE,
    VALUE_PARAMETERS,
)
from livegen.control.rate_limited_log import RateLimitedLog

log = logging.getLogger(__name__)

MIN_INTERVAL_S = 0.02
MAX_TARGETS = 8  # beyond this, the target added longest ago is dropped


class Feedback:
    def __init__(self, controls: Controls, targets: tuple[tuple[str, int], ...] = ()):
        self._controls = controls
        self._targets: list[tuple[str, int]] = []
        self._lock = threading.Lock()
        self._changed: set[str] = set()  # parameters and tune addresses to send to every target
        self._welcome: list[tuple[str, int]] = []  # new targets, to be sent everything
        self._tune: dict[str, object] = {TUNE_TITLE: "", TUNE_BAR: 0, TUNE_NOTE: "",  # what is playing, by address
                                         CLOCK_SOURCE: "", CLOCK_TEMPO: 0.0, LINK_PEERS: 0}
        self._wake = threading.Event()
        self._closing = False
        self._problems = RateLimitedLog(log)
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._thread = threading.Thread(target=self._run, name="livegen-feedback", daemon=True)
        for host, port in targets:
            self.add_target(host, port)
        controls.listen(self._on_change)

    def start(self) -> Feedback:
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(1.0)
        self._socket.close()

    def add_target(self, host: str, port: int) -> None:
        with self._lock:
            target = (host, port)
            if target in self._targets:
                self._targets.remove(target)
            elif len(self._targets) >= MAX_TARGETS:
                self._targets.pop(0)
            self._targets.append(target)
            if target not in self._welcome:
                self._welcome.append(target)
        log.info("sending OSC feedback to %s:%d", host, port)
        self._wake.set()

    def tune(self, title: str, bar: int, note: int | None) -> None:
        """What is being played now; only what changed is sent."""
        self._update({TUNE_TITLE: title, TUNE_BAR: bar, TUNE_NOTE: note_name(note) if note is not None else ""})

    def clock(self, source: str, tempo_bpm: float, peers: int) -> None:
        """Which clock plays, at what tempo now, with how many Link peers; only what changed is sent."""
        self._update({CLOCK_SOURCE: source, CLOCK_TEMPO: round(tempo_bpm, 2), LINK_PEERS: peers})

    def _update(self, now: dict[str, object]) -> None:
        with self._lock:
            changed = {address for address, value in now.items() if self._tune[address] != value}
            self._tune.update(now)
            self._changed |= changed
        if changed:
            self._wake.set()

    def _on_change(self, name: str, value: object) -> None:
        if PARAMETERS[name].holds_value:
            with self._lock:
                self._changed.add(name)
            self._wake.set()

    def _run(self) -> None:
        while not self._closing:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                changed, self._changed = self._changed, set()
                welcome, self._welcome = self._welcome, []
                targets = [target for target in self._targets if target not in welcome]
                tune = dict(self._tune)
            everything = [parameter.name for parameter in VALUE_PARAMETERS] + list(tune)
            for target in welcome:
                self._send(target, everything, tune)
            for target in targets:  # in the table's order: a tune's title before its bar and note
                self._send(target, [name for name in everything if name in changed], tune)
            time.sleep(MIN_INTERVAL_S)  # changes meanwhile wait for the next round

    def _send(self, target: tuple[str, int], names: list[str], tune: dict[str, object]) -> None:
        for name in names:
            for address, value in self._messages(name, tune):
                try:
                    self._socket.sendto(_message(address, value), target)
                except OSError as error:
                    self._problems.warn(f"{target}", f"OSC feedback to {target[0]}:{target[1]}: {error}")
                    return

    def _messages(self, name: str, tune: dict[str, object]) -> list[tuple[str, object]]:
        if name in tune:
            return [(name, tune[name])]
        parameter, value = PARAMETERS[name], self._controls[name]
        text = (parameter.text_address, parameter.text(value))
        if value is None:
            return [text]
        return [(parameter.address, parameter.osc_value(value)), (parameter.norm_address, parameter.to_norm(value)),
                text]


def _message(address: str, value: object) -> bytes:
    builder = OscMessageBuilder(address)
    builder.add_arg(value)
    return builder.build().dgram


def note_name(pitch: int) -> str:
    """MIDI 60 is C4, as most DAWs (and the ABC standard's middle C) name it."""
    return f"{NOTE_NAMES[pitch % 12]}{pitch // 12 - 1}"
