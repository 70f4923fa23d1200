"""MIDI CC in: control changes on the control port set the live parameters, as OSC does (osc_server).

The controller map (`--cc`, by default each parameter's `cc` in the
parameter table) names the parameter of each controller number. A value
0-127 spans the parameter's range; a button (a trigger) is pressed when its
controller rises through CC_PRESSED, as a sustain pedal is, and not again
while it is held.
"""

from __future__ import annotations

import mido

from livegen.control.controls import Controls
from livegen.control.parameters import PARAMETERS

CC_PRESSED = 64  # a controller at or above this presses a button (as the sustain pedal does)


class MidiCcInput:
    """Applies control-change messages to `controls` through `cc_map` (controller number: parameter name)."""

    def __init__(self, controls: Controls, cc_map: dict[int, str]):
        self.controls = controls
        self.cc_map = cc_map
        self._values: dict[int, int] = {}  # the last value of each controller: a trigger fires on its rise

    def describe(self) -> str:
        return ", ".join(f"CC{number} {name}" for number, name in sorted(self.cc_map.items()))

    def receive(self, message: mido.Message) -> None:
        """One control_change message (on the input's thread); unmapped controllers are ignored."""
        name = self.cc_map.get(message.control)
        pressed_before = self._values.get(message.control, 0) >= CC_PRESSED
        self._values[message.control] = message.value
        if name is not None and (PARAMETERS[name].holds_value or not pressed_before):
            self.controls.receive(name, message.value / 127, norm=True)  # 0-127 always fits
