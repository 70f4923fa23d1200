"""The TouchOSC layout (presets/livegen.tosc), generated from the parameter table.

A hand-drawn layout drifts from the daemon as soon as a range or a choice
changes; this one is rebuilt from livegen.control.parameters, and a test checks the
committed file against it. Regenerate it with `python -m livegen.control.touchosc`
(from the repository root) after changing a parameter.

A .tosc file is zlib-compressed XML (the format of TouchOSC by hexler, the
one tosclib reads and writes): a <lexml> root holding one GROUP <node>, whose
<children> are the controls. Each node has typed <properties>, <values> (x,
text, touch) and <messages>; an <osc> message sends when a trigger value
changes, to a <path>, with <arguments> whose VALUE partials are scaled as
scaleMin + value * (scaleMax - scaleMin), and when `receive` is on, a message
arriving at that path sets the value back (the inverse scaling).

Each parameter gets one control that sends to its address and receives the
daemon's feedback there, so it follows changes made elsewhere:
- number: a FADER sending its value, scaled to low..high, to /livegen/P;
- integer: a FADER sending its 0..1 position to /livegen/P/norm, which the
  daemon rounds to the nearest whole number (to /livegen/P it would have to
  be whole already, and how TouchOSC's INTEGER conversion rounds is not
  documented);
- choice: a RADIO with one step per choice sending the index (a radio's x is
  the index, so the scale 0..1 sends it unchanged) to /livegen/P;
- toggle: a BUTTON toggled on press, sending 1 or 0;
- trigger: a momentary BUTTON sending 1 on press only (trigger RISE). It
  receives nothing: the daemon sends no feedback for triggers.
Beside each is a LABEL naming the parameter and, for a value, a LABEL showing
/livegen/P/text; a header shows the tune's title, bar and note.
"""

from __future__ import annotations

import argparse
import math
import uuid
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Iterable
from pathlib import Path

from livegen.control.parameters import PARAMETERS, TUNE_BAR, TUNE_NOTE, TUNE_TITLE, Parameter

DEFAULT_OUTPUT = Path("presets") / "livegen.tosc"
WIDTH, HEIGHT = 1024, 768  # a landscape tablet
MARGIN, GAP = 12, 8
CAPTION_H, BODY_H = 20, 52
ROW_H = CAPTION_H + 4 + BODY_H + GAP
TEXT_W = 100  # the /text label beside a control
TOGGLE_PRESS, MOMENTARY = 2, 0  # buttonType
EAST = 1  # orientation: a horizontal fader or radio
KIND_COLOURS = {"number": (0.2, 0.5, 0.9), "integer": (0.2, 0.7, 0.7), "choice": (0.95, 0.6, 0.2),
                "toggle": (0.3, 0.8, 0.3), "trigger": (0.9, 0.3, 0.3)}
DARK, WHITE, GREY = (0.15, 0.15, 0.15), (1.0, 1.0, 1.0), (0.7, 0.7, 0.7)


def build_layout(parameters: Iterable[Parameter] = PARAMETERS.values()) -> bytes:
    """The .tosc file's content: the same bytes for the same table."""
    root = ET.Element("lexml", version="3")
    group = _node(root, "GROUP", "livegen", (0, 0, WIDTH, HEIGHT), (0.0, 0.0, 0.0),
                  {"grabFocus": False, "interactive": False, "outlineStyle": 0}, {"touch": False})
    column_w = (WIDTH - 3 * MARGIN) // 2
    half = (column_w - GAP) // 2
    header = ((TUNE_TITLE, "tune", MARGIN, column_w), (TUNE_BAR, "bar", 2 * MARGIN + column_w, half),
              (TUNE_NOTE, "note", 2 * MARGIN + column_w + half + GAP, half))
    for address, caption, x, w in header:
        _text_label(group, address, _cell(group, caption, x, MARGIN, w), "")
    parameters = list(parameters)
    rows = math.ceil(len(parameters) / 2)
    for index, parameter in enumerate(parameters):
        column, row = divmod(index, rows)
        body = _cell(group, _caption(parameter), MARGIN + column * (column_w + MARGIN),
                     MARGIN + (row + 1) * ROW_H, column_w)
        _parameter_control(group, parameter, body)
    xml = ET.tostring(root, encoding="UTF-8", xml_declaration=True)
    return zlib.compress(xml, 9)


def read_layout(data: bytes) -> ET.Element:
    """The <lexml> root of a .tosc file's content."""
    return ET.fromstring(zlib.decompress(data))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m livegen.control.touchosc", description=__doc__.splitlines()[0])
    parser.add_argument("output", nargs="?", type=Path, default=DEFAULT_OUTPUT,
                        help=f"where to write the layout (default: {DEFAULT_OUTPUT})")
    output = parser.parse_args(argv).output
    output.write_bytes(build_layout())
    print(f"wrote {output}")


def _parameter_control(parent: ET.Element, parameter: Parameter, body: tuple[int, int, int, int]) -> None:
    x, y, w, h = body
    if parameter.holds_value:
        w -= TEXT_W + GAP
        _text_label(parent, parameter.text_address, (x + w + GAP, y, TEXT_W, h), parameter.text(parameter.default))
    colour = KIND_COLOURS[parameter.kind]
    frame = (x, y, w, h)
    if parameter.kind in ("number", "integer"):
        if parameter.kind == "integer":
            address, scale = parameter.norm_address, (0, 1)
        else:
            address, scale = parameter.address, (parameter.low, parameter.high)
        position = 0.0 if parameter.default is None else parameter.to_norm(parameter.default)
        node = _node(parent, "FADER", parameter.name, frame, colour,
                     {"bar": True, "barDisplay": 0, "cursor": True, "cursorDisplay": 0, "grid": False,
                      "gridSteps": 13, "orientation": EAST, "response": 0, "responseFactor": 100},
                     {"x": position, "touch": False})
        _osc(node, address, "FLOAT", scale)
    elif parameter.kind == "choice":
        node = _node(parent, "RADIO", parameter.name, frame, colour,
                     {"orientation": EAST, "radioType": 0, "steps": len(parameter.choices)},
                     {"x": parameter.choices.index(parameter.default), "touch": False})
        _osc(node, parameter.address, "INTEGER", (0, 1))
        for step, choice in enumerate(parameter.choices):  # the choices' names over the radio's steps
            left, right = (round(x + k * w / len(parameter.choices)) for k in (step, step + 1))
            _label(parent, f"{parameter.name}.{choice}", (left, y, right - left, h), choice, WHITE,
                   background=False, size=11)
    else:
        toggle = parameter.kind == "toggle"
        node = _node(parent, "BUTTON", parameter.name, frame, colour,
                     {"buttonType": TOGGLE_PRESS if toggle else MOMENTARY, "press": True, "release": True,
                      "valuePosition": False},
                     {"x": float(bool(parameter.default)), "touch": False})
        _osc(node, parameter.address, "INTEGER", (0, 1), condition="ANY" if toggle else "RISE", receive=toggle)


def _cell(parent: ET.Element, caption: str, x: int, y: int, w: int) -> tuple[int, int, int, int]:
    """A caption label; returns the frame below it, for the control."""
    _label(parent, f"{caption}.caption", (x, y, w, CAPTION_H), caption, GREY, background=False, align=1)
    return x, y + CAPTION_H + 4, w, BODY_H


def _caption(parameter: Parameter) -> str:
    name = parameter.name.replace("_", " ")
    return f"{name} ({parameter.unit})" if parameter.unit else name


def _text_label(parent: ET.Element, address: str, frame: tuple[int, int, int, int], text: str) -> None:
    """A label showing whatever string the daemon sends to `address`."""
    node = _label(parent, address, frame, text, WHITE, background=True)
    _osc(node, address, "STRING", (0, 1), value="text", send=False)


def _label(parent: ET.Element, name: str, frame: tuple[int, int, int, int], text: str,
           text_colour: tuple[float, ...], background: bool, size: int = 14, align: int = 2) -> ET.Element:
    return _node(parent, "LABEL", name, frame, DARK,
                 {"background": background, "outline": background, "font": 0, "interactive": False,
                  "textAlignH": align, "textAlignV": 2, "textClip": True, "textColor": text_colour,
                  "textLength": 0, "textSize": size},
                 {"text": text, "touch": False})


def _node(parent: ET.Element, kind: str, name: str, frame: tuple[int, ...], colour: tuple[float, ...],
          properties: dict[str, object], values: dict[str, object]) -> ET.Element:
    """A control with the editor's common properties (`properties` override them); returns its node.

    The ID is derived from the name, so the file is the same every time it is built.
    """
    node = ET.SubElement(parent.find("children") if parent.tag == "node" else parent, "node",
                         ID=str(uuid.uuid5(uuid.NAMESPACE_URL, f"livegen/touchosc/{kind}/{name}")), type=kind)
    common = {"background": True, "color": colour, "cornerRadius": 1.0, "frame": frame, "grabFocus": True,
              "interactive": True, "locked": False, "name": name, "orientation": 0, "outline": True,
              "outlineStyle": 1, "pointerPriority": 0, "shape": 1, "visible": True}
    element = ET.SubElement(node, "properties")
    for key, value in sorted((common | properties).items()):  # the editor writes them sorted by key
        _property(element, key, value)
    element = ET.SubElement(node, "values")
    for key, default in values.items():
        value = ET.SubElement(element, "value")
        _texts(value, key=key, locked="0", lockedDefaultCurrent="0", default=_format(default), defaultPull="0")
    ET.SubElement(node, "messages")
    if kind == "GROUP":
        ET.SubElement(node, "children")
    return node


def _property(parent: ET.Element, key: str, value: object) -> None:
    if key == "frame":
        kind, parts = "r", dict(zip("xywh", value))
    elif key.lower().endswith("color"):
        kind, parts = "c", dict(zip("rgba", (*value, 1.0)))
    else:
        kind = {bool: "b", int: "i", float: "f", str: "s"}[type(value)]
        parts = None
    element = ET.SubElement(parent, "property", type=kind)
    _texts(element, key=key)
    if parts is None:
        _texts(element, value=str(int(value)) if kind == "b" else _format(value))
    else:
        _texts(ET.SubElement(element, "value"), **{part: _format(number) for part, number in parts.items()})


def _osc(node: ET.Element, address: str, conversion: str, scale: tuple[float, float], value: str = "x",
         condition: str = "ANY", send: bool = True, receive: bool = True) -> None:
    """An OSC message to and from `address` with the one argument `value`, scaled to `scale`."""
    osc = ET.SubElement(node.find("messages"), "osc")
    _texts(osc, enabled="1", send=str(int(send)), receive=str(int(receive)), feedback="0", connections="11111")
    _texts(ET.SubElement(ET.SubElement(osc, "triggers"), "trigger"), var=value, condition=condition)
    _partial(ET.SubElement(osc, "path"), "CONSTANT", "STRING", address, (0, 1))
    _partial(ET.SubElement(osc, "arguments"), "VALUE", conversion, value, scale)


def _partial(parent: ET.Element, kind: str, conversion: str, content: str, scale: tuple[float, float]) -> None:
    _texts(ET.SubElement(parent, "partial"), type=kind, conversion=conversion, value=content,
           scaleMin=_format(scale[0]), scaleMax=_format(scale[1]))


def _texts(parent: ET.Element, **texts: str) -> None:
    for tag, text in texts.items():
        ET.SubElement(parent, tag).text = text


def _format(value: object) -> str:
    """Numbers as TouchOSC writes them (no needless .0), booleans as true/false, strings as is."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return str(int(value)) if float(value).is_integer() else repr(float(value))
    return str(value)


if __name__ == "__main__":
    main()
