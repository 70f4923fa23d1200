"""What a live session is asked to do: the options `livegen run` fills in, with their defaults in one place.

The command line reads its defaults from these dataclasses, so a default is
written once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from livegen.compose.composer import MAX_LENGTH
from livegen.control.osc_server import DEFAULT_OSC_HOST, DEFAULT_OSC_PORT
from livegen.control.parameters import DEFAULT_CC_MAP
from livegen.perform.arrangement import ArrangementSettings

DEFAULT_CONTROL_PORT = "LiveGen Control"  # what `livegen run` listens on for MIDI CC unless told --no-cc


@dataclass(frozen=True)
class OscOptions:
    host: str = DEFAULT_OSC_HOST
    port: int = DEFAULT_OSC_PORT  # 0: any free port (the log says which)
    allow: tuple[str, ...] = ()  # clients accepted when host is not loopback
    feedback: tuple[tuple[str, int], ...] = ()  # (host, port) targets from the start


@dataclass(frozen=True)
class DaemonOptions:
    port: str = "LiveGen"
    backend: str = "auto"
    clock: str = "internal"  # one of livegen.realtime.clock.CLOCK_CHOICES
    link_start_stop: bool = False  # with the Link clock: the session's transport starts and stops livegen
    clock_port: str = "LiveGen Clock"
    model: Path | None = None
    parameters: dict = field(default_factory=dict)  # starting values of the live parameters; the rest default
    constrained: bool = True
    max_length: int = MAX_LENGTH
    lookahead_beats: float = 1.0
    arrangement: ArrangementSettings = ArrangementSettings()  # channels, velocity, transpose: from the parameters
    record: Path | None = None  # parent folder of the session folder; None: the per-user default
    tunes: int | None = None  # stop after this many finished tunes; None: play until stopped
    control_port: str | None = None  # MIDI input for control changes; None: none (the CLI's default:
    # DEFAULT_CONTROL_PORT, so a script embedding the daemon opens no port it did not ask for)
    cc_map: dict = field(default_factory=lambda: dict(DEFAULT_CC_MAP))  # controller number: parameter name
    osc: OscOptions | None = None  # None: no OSC
