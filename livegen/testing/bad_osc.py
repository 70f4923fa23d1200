"""OSC messages as a client sends them, and the packets a broken or hostile client might send.

For the OSC tests, the flood test and bench/osc_flood.py.
"""

from __future__ import annotations

import math
import random

from pythonosc.osc_message_builder import OscMessageBuilder

from livegen.control.parameters import FEEDBACK_HERE, PARAMETERS


def message_builder(address: str, *arguments) -> OscMessageBuilder:
    """One OSC message, to build alone or to add to a bundle."""
    builder = OscMessageBuilder(address)
    for argument in arguments:
        builder.add_arg(argument)
    return builder


def message(address: str, *arguments) -> bytes:
    """One OSC message as the datagram a client sends."""
    return message_builder(address, *arguments).build().dgram


# Parameters whose bottom is a player's real request for quiet: play off stops the music, 30 BPM leaves
# two seconds between quarter notes. A value clamped to it is obeyed, so it has no place in a flood
# that must not stop the music.
BOTTOM_QUIETS = ("play", "tempo")


def flood_packets(rng: random.Random, clamped: bool = True) -> list[bytes]:
    """Everything a broken or hostile client might send: none of it may stop the music.

    With clamped=False, only what is refused outright: no value that would be
    clamped into range and change the music (bench/osc_flood.py times notes
    against the tunes as written).
    """
    packets = [bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 64))) for _ in range(50)]
    packets += [b"", b"#bundle\x00", b"/livegen/tempo\x00\x00,i\x00\x00\x00\x01", b"/livegen/\x00\x00\x00,ffff"]
    for parameter in PARAMETERS.values():
        bad = [math.nan, math.inf, -math.inf, "loud"]
        norms = [math.nan, "x"]
        if clamped:
            bad += [3e38]  # near the top of OSC's 32-bit floats
            norms += [5.0]
            if parameter.name not in BOTTOM_QUIETS:
                norms += [-5.0]
                if parameter.kind in ("number", "integer"):
                    bad += [parameter.low - 1e6, parameter.high + 1e6, -3e38]
        if not parameter.holds_value:
            bad = [math.nan, "loud"]  # a trigger fires on any true value
        packets += [message(parameter.address, value) for value in bad]
        packets += [message(parameter.norm_address, value) for value in norms if parameter.holds_value]
        packets += [message(parameter.address, 1, 2)]
    packets += [message("/livegen/nothing", 1.0), message("/somewhere/else", 1), message(FEEDBACK_HERE, "x")]
    return packets
