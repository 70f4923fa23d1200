"""Style presets: TOML files that set some of the live parameters at once.

A preset has a `description` and any of the value parameters of the table in
livegen/parameters.py except `play`, under the table's names (`tempo`,
`top_p`, `type`, ...); presets/README.md documents every field. Each value is
checked by the table's own Parameter.check, so a preset can hold nothing the
OSC or MIDI CC controls could not set.

The shipped presets live in the repository's top-level presets/ folder, which
pyproject.toml installs as the package data of `livegen.presets_data`; from a
source checkout or an editable install (where that package is not
importable) they are read from the checkout's presets/ folder.

`load_preset` takes a shipped preset's name (`slip-jig` or `slip_jig`) or a
path to a .toml file; every problem is a LivegenError of one line that names
the file and the field. A preset is a few short lines: a larger file, deep
nesting or a long value is refused, and what is echoed in a message is cut
short (reprlib), so no file can make a huge error line or exhaust the stack.
"""

from __future__ import annotations

import os
import reprlib
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from livegen.control.parameters import PARAMETERS, VALUE_PARAMETERS
from livegen.errors import LivegenError

PRESET_PACKAGE = "livegen.presets_data"  # pyproject.toml maps it onto presets/
SUFFIX = ".toml"
DESCRIPTION = "description"
NOT_IN_PRESETS = ("play",)  # starting and stopping stays with the player
FIELDS: tuple[str, ...] = (DESCRIPTION, *(parameter.name for parameter in VALUE_PARAMETERS
                                          if parameter.name not in NOT_IN_PRESETS))
MAX_FILE_BYTES = 16 * 1024  # the shipped presets are a few hundred bytes
MAX_DESCRIPTION_CHARS = 300
MAX_VALUE_CHARS = 100  # longer than any choice's name


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    values: dict[str, object] = field(default_factory=dict)  # only what the file sets, checked


def shipped_folder() -> Traversable:
    """Where the shipped presets are: the installed package data, else the source checkout's presets/."""
    try:
        return resources.files(PRESET_PACKAGE)
    except ModuleNotFoundError:
        return Path(__file__).resolve().parents[2] / "presets"


def preset_names() -> list[str]:
    """The names of the shipped presets, sorted."""
    folder = shipped_folder()
    if not folder.is_dir():
        return []
    return sorted(entry.name.removesuffix(SUFFIX) for entry in folder.iterdir()
                  if entry.name.endswith(SUFFIX) and entry.is_file())


def load_preset(name_or_path: str) -> Preset:
    """A shipped preset by name, or a preset file by path; LivegenError (one line) for anything wrong.

    Anything ending in .toml or holding a path separator is a path; otherwise a
    shipped name (underscores may stand for hyphens) comes first, then an
    existing file of that name (write ./jig for a file that shadows a preset).
    """
    text = str(name_or_path)
    separators = [os.sep] + ([os.altsep] if os.altsep else [])
    if text.endswith(SUFFIX) or any(separator in text for separator in separators):
        return _load_file(Path(text))
    names = preset_names()
    name = text.replace("_", "-")
    if name in names:
        return _parse(shipped_folder().joinpath(name + SUFFIX).read_bytes(), name, f"preset {name!r}")
    if Path(text).is_file():
        return _load_file(Path(text))
    raise LivegenError(f"no preset {text!r}: the shipped presets are {', '.join(names) or 'missing'} "
                       f"(or give the path of a {SUFFIX} file)")


def _load_file(path: Path) -> Preset:
    where = f"preset file {str(path)!r}"
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise LivegenError(f"{where} not found") from None
    except OSError as error:
        raise LivegenError(f"{where}: cannot read it ({error.strerror or error})") from None
    return _parse(data, path.stem, where)


def _parse(data: bytes, name: str, where: str) -> Preset:
    if len(data) > MAX_FILE_BYTES:
        raise LivegenError(f"{where}: {len(data):,} bytes is too large for a preset (at most {MAX_FILE_BYTES:,})")
    try:
        table = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as error:
        raise LivegenError(f"{where}: not UTF-8 text (byte {error.start})") from None
    except tomllib.TOMLDecodeError as error:
        raise LivegenError(f"{where}: TOML syntax error: {error}") from None
    except RecursionError:  # tomllib recurses once per level of nested arrays and inline tables
        raise LivegenError(f"{where}: nested too deeply for a preset (a preset holds single values)") from None
    description = table.pop(DESCRIPTION, None)
    if not isinstance(description, str) or not description.strip() or len(description) > MAX_DESCRIPTION_CHARS:
        got = "is missing" if description is None else (
            f"must be a string, not {reprlib.repr(description)}" if not isinstance(description, str) else
            "is empty" if not description.strip() else f"is {len(description):,} characters long")
        raise LivegenError(f"{where}: field {DESCRIPTION!r} {got}: say in a few words what the preset plays "
                           f"(at most {MAX_DESCRIPTION_CHARS} characters)")
    values: dict[str, object] = {}
    for key, value in table.items():
        values[key] = _checked(key, value, where)
    return Preset(name=name, description=" ".join(description.split()), values=values)


def _checked(key: str, value: object, where: str) -> object:
    parameter = PARAMETERS.get(key)
    field_name = reprlib.repr(key)
    if parameter is None or key in NOT_IN_PRESETS or not parameter.holds_value:
        if parameter is None:
            hint = key.replace("-", "_")
            reason = f"no such field{f' (did you mean {hint!r}?)' if hint in FIELDS else ''}"
        elif key in NOT_IN_PRESETS:
            reason = "a preset may not set it (starting and stopping is up to the player)"
        else:
            reason = "it is an action, not a setting a preset can hold"
        raise LivegenError(f"{where}: field {field_name}: {reason}; the fields are {', '.join(FIELDS)}")
    if isinstance(value, (dict, list)):
        raise LivegenError(f"{where}: field {field_name}: a {'table' if isinstance(value, dict) else 'list'} "
                           f"where one value belongs ({parameter.describe_range()})")
    if isinstance(value, str) and len(value) > MAX_VALUE_CHARS:
        raise LivegenError(f"{where}: field {field_name}: {reprlib.repr(value)} is too long to be a value "
                           f"({parameter.describe_range()})")
    if parameter.kind == "choice" and not isinstance(value, str):
        raise LivegenError(f"{where}: field {field_name}: {value!r} is not a name; write one of "
                           f"{parameter.describe_range()} in quotes")
    try:
        return parameter.check(value)
    except ValueError as error:
        raise LivegenError(f"{where}: field {field_name}: {error}") from None

