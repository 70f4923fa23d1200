"""The live values of the parameters (livegen.control.parameters), changed from any thread.

OSC, MIDI CC and presets all change values through one Controls object, and
whoever needs to react (the daemon, the OSC feedback) listens to it. Readers
take no lock: each value is replaced whole, and `version` counts the
changes, so the generation thread can notice them with one integer
comparison per character.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from livegen.control.parameters import PARAMETERS, default_values

Listener = Callable[[str, object], None]


class Controls:
    def __init__(self, values: dict[str, object] | None = None):
        self._values = default_values() | (values or {})
        self._listeners: list[Listener] = []
        self._write = threading.Lock()  # one change at a time, so listeners hear them in order
        self.version = 0

    def __getitem__(self, name: str) -> object:
        return self._values[name]

    def snapshot(self) -> dict[str, object]:
        return dict(self._values)

    def listen(self, listener: Listener) -> None:
        """Call listener(name, value) after every change (and every trigger), on the changing thread."""
        self._listeners.append(listener)

    def set(self, name: str, value: object) -> None:
        """Set a value already checked against its parameter, or fire a trigger."""
        with self._write:
            if PARAMETERS[name].holds_value:
                if self._values[name] == value:
                    return
                self._values[name] = value
                self.version += 1
            for listener in self._listeners:
                listener(name, value)

    def receive(self, name: str, raw: object, norm: bool = False) -> str | None:
        """Take a value from a controller: clamped into range, or refused.

        Returns None when taken as is, else one line saying what was clamped
        or why it was refused. A trigger fires on a true value (a button
        press); a false one (its release) is ignored.
        """
        parameter = PARAMETERS[name]
        try:
            value, clamped = (parameter.from_norm(raw), False) if norm else parameter.clamp(raw)
        except ValueError as reason:
            return f"{parameter.address}{'/norm' if norm else ''}: refused {reason}"
        if parameter.holds_value:
            self.set(name, value)
        elif value:
            self.set(name, True)
        return f"{parameter.address}: {raw!r} clamped to {value!r}" if clamped else None
