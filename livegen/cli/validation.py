"""Checks on the command line made while it is read, so a mistake costs no composing and no TensorFlow.

Each type function gives argparse a value or an ArgumentTypeError saying what
is wrong; OneLineParser turns any argparse error into the one line every
other user mistake gets (`livegen: error: ...`), not a usage block.
"""

from __future__ import annotations

import argparse
import math
import os
from pathlib import Path

from livegen.abc.fields import parse_meter
from livegen.cli.help_format import DefaultsHelpFormatter
from livegen.control.parameters import Parameter, parse_cc_map
from livegen.errors import LivegenError
from livegen.perform.midi_file import MAX_TEMPO_US, MIN_TEMPO_US, time_signature, time_signature_problem

LOWEST_BPM = 60_000_000 / MAX_TEMPO_US  # the tempo range a MIDI file's set_tempo can hold
HIGHEST_BPM = 60_000_000 / MIN_TEMPO_US


class OneLineParser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one line on stderr and exit status 2 (subparsers inherit it).

    Its help states each option's default once (DefaultsHelpFormatter), whatever verb it serves.
    """

    def __init__(self, *args, formatter_class: type[argparse.HelpFormatter] = DefaultsHelpFormatter, **kwargs):
        super().__init__(*args, formatter_class=formatter_class, **kwargs)

    def error(self, message: str):
        self.exit(2, f"livegen: error: {' '.join(message.split())} (see `{self.prog} --help`)\n")


def positive_int(text: str) -> int:
    value = _number(text, int, "a whole number")
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def port_number(text: str) -> int:
    """A UDP port to listen on; 0 asks the system for any free one."""
    value = _number(text, int, "a port number")
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"a port number is 0-65535, not {value}")
    return value


def positive_float(text: str) -> float:
    value = _number(text, float, "a number")
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be more than 0, not {text}")
    return value


def fraction_below_one(text: str) -> float:
    """A share such as a dropout rate: 0 or more, under 1."""
    value = _number(text, float, "a number")
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 0 and less than 1, not {text}")
    return value


def tempo_bpm(text: str) -> float:
    """Quarter notes per minute, within what a MIDI file's tempo can hold."""
    value = _number(text, float, "a number")
    if not LOWEST_BPM <= value <= HIGHEST_BPM:
        raise argparse.ArgumentTypeError(f"a MIDI file holds tempos from {LOWEST_BPM:.2f} to {HIGHEST_BPM:g} "
                                         f"quarter notes per minute, not {text}")
    return value


def output_folder(text: str) -> Path:
    """A folder to write into: it may not exist yet, but nothing in the way may be a file."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a file, not a folder")
    _check_writable_ancestor(path)
    return path


def output_file(text: str) -> Path:
    """A file to write (or replace): not a folder, and in a folder that can be made and written."""
    path = Path(text)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{path} is a folder: give the name of the file to write")
    _check_writable_ancestor(path.parent)
    return path


def existing_file(text: str) -> Path:
    path = Path(text)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{path} is a folder, not a file" if path.is_dir()
                                         else f"no such file: {path}")
    return path


def _check_writable_ancestor(path: Path) -> None:
    """The nearest part of `path` that exists must be a folder this process may write in."""
    existing = path.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise argparse.ArgumentTypeError(f"cannot make {path}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise argparse.ArgumentTypeError(f"cannot write in {existing} (permission denied)")


def midi_value(text: str, lowest: int = 0) -> int:
    value = _number(text, int, "a whole number")
    if not lowest <= value <= 127:
        raise argparse.ArgumentTypeError(f"this MIDI value is {lowest}-127, not {value}")
    return value


def velocity(text: str) -> int:
    return midi_value(text, lowest=1)  # a note-on with velocity 0 is a note-off


def host_and_port(text: str) -> tuple[str, int]:
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT, e.g. 127.0.0.1:9001")
    return host, int(port)


def cc_map(text: str) -> dict[int, str]:
    """`--cc temperature=74,tempo=71` as {cc: name}."""
    try:
        return parse_cc_map(text)
    except ValueError as reason:
        raise argparse.ArgumentTypeError(str(reason)) from None


def parameter_value(parameter: Parameter):
    """The type function of a live parameter's option: the parameter table's own check."""

    def convert(text: str):
        try:
            value = text if parameter.kind == "choice" else float(text)
            return parameter.check(value)
        except ValueError as reason:
            raise argparse.ArgumentTypeError(str(reason)) from None

    convert.__name__ = parameter.name  # argparse names the type in its messages
    return convert


def _number(text: str, kind: type, what: str):
    try:
        value = kind(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not {what}") from None
    if kind is float and not math.isfinite(value):
        raise argparse.ArgumentTypeError(f"{text!r} is not a finite number")
    return value


def check_meter_for_midi(text: str | None) -> None:
    """`generate --meter`: refused up front when the .mid files could not hold it (5/7, 300/4)."""
    meter = parse_meter(text) if text is not None else None
    signature = time_signature(meter) if meter is not None else None
    problem = time_signature_problem(signature) if signature is not None else None
    if problem:
        raise LivegenError(f"--meter {text}: {problem}, and generate writes .mid files")
