"""The committed TouchOSC layout has the right control, address and range for every parameter, and is current.

check_layout() reads the decompressed XML as TouchOSC would and compares
each control with the parameter table; the mutation tests make sure it
notices when the two disagree.
"""

from __future__ import annotations

import dataclasses
import zlib
from pathlib import Path

import pytest

from livegen.control.parameters import PARAMETERS, TUNE_BAR, TUNE_NOTE, TUNE_TITLE, Parameter
from livegen.control.touchosc import build_layout, main, read_layout

COMMITTED = Path(__file__).resolve().parents[1] / "presets" / "livegen.tosc"


def properties(node) -> dict[str, object]:
    found = {}
    for element in node.find("properties"):
        value = element.find("value")
        found[element.findtext("key")] = [part.text for part in value] if len(value) else value.text
    return found


def default(node, key: str) -> str:
    return next(value.findtext("default") for value in node.find("values") if value.findtext("key") == key)


def osc_messages(root) -> list[dict]:
    """Every OSC message in the layout, with its node."""
    messages = []
    for node in root.iter("node"):
        for osc in node.find("messages").findall("osc"):
            path = osc.find("path").findall("partial")
            assert [partial.findtext("type") for partial in path] == ["CONSTANT"]
            (argument,) = osc.find("arguments").findall("partial")
            messages.append({
                "node": node, "type": node.get("type"), "address": path[0].findtext("value"),
                "send": osc.findtext("send") == "1", "receive": osc.findtext("receive") == "1",
                "triggers": [(t.findtext("var"), t.findtext("condition")) for t in osc.iter("trigger")],
                "argument": (argument.findtext("type"), argument.findtext("value"), argument.findtext("conversion")),
                "scale": (float(argument.findtext("scaleMin")), float(argument.findtext("scaleMax")))})
    return messages


def check_layout(root, parameters: list[Parameter]) -> None:
    """Assert that `root` (a read .tosc) has exactly one control per parameter, as the table says."""
    assert root.tag == "lexml" and [node.get("type") for node in root] == ["GROUP"]
    ids = [node.get("ID") for node in root.iter("node")]
    assert len(ids) == len(set(ids))
    messages = osc_messages(root)
    senders = [message for message in messages if message["send"]]
    assert len(senders) == len(parameters)  # nothing sends anywhere else
    for parameter in parameters:
        if parameter.kind == "integer":  # the daemon rounds a 0..1 position to a whole number
            address, type_, conversion, scale = parameter.norm_address, "FADER", "FLOAT", (0, 1)
        elif parameter.kind == "number":
            address, type_, conversion, scale = parameter.address, "FADER", "FLOAT", (parameter.low, parameter.high)
        elif parameter.kind == "choice":  # a radio's x is the index of its step: scaled by 0..1, sent as is
            address, type_, conversion, scale = parameter.address, "RADIO", "INTEGER", (0, 1)
        else:
            address, type_, conversion, scale = parameter.address, "BUTTON", "INTEGER", (0, 1)
        matching = [message for message in senders if message["address"] == address]
        assert len(matching) == 1, f"{len(matching)} controls send to {address}"
        control = matching[0]
        assert control["type"] == type_, parameter.name
        assert control["argument"] == ("VALUE", "x", conversion), parameter.name
        assert control["scale"] == scale, parameter.name
        assert control["receive"] == parameter.holds_value, parameter.name  # feedback comes to the same address
        found = properties(control["node"])
        if parameter.kind == "choice":
            assert int(found["steps"]) == len(parameter.choices), parameter.name
            assert int(default(control["node"], "x")) == parameter.choices.index(parameter.default)
        if parameter.kind == "toggle":
            assert found["buttonType"] in ("1", "2") and control["triggers"] == [("x", "ANY")], parameter.name
        if parameter.kind == "trigger":  # momentary, and only the press sends: a release would be a 0
            assert found["buttonType"] == "0" and control["triggers"] == [("x", "RISE")], parameter.name
        captions = [default(node, "text") for node in root.iter("node") if node.get("type") == "LABEL"]
        assert any(caption.startswith(parameter.name.replace("_", " ")) for caption in captions), parameter.name
    displayed = [parameter.text_address for parameter in parameters if parameter.holds_value]
    labels = [message for message in messages if message["type"] == "LABEL"]
    assert sorted(label["address"] for label in labels) == sorted(displayed + [TUNE_TITLE, TUNE_BAR, TUNE_NOTE])
    for label in labels:
        assert label["receive"] and label["argument"] == ("VALUE", "text", "STRING"), label["address"]


@pytest.fixture(scope="module")
def committed() -> bytes:
    return COMMITTED.read_bytes()


def test_the_committed_layout_has_a_control_for_every_parameter(committed):
    check_layout(read_layout(committed), list(PARAMETERS.values()))


def test_the_committed_layout_is_what_the_table_builds_now(committed):
    # The XML, not the compressed bytes: another zlib build may compress the same text differently.
    assert zlib.decompress(committed) == zlib.decompress(build_layout()), \
        "presets/livegen.tosc is stale: run `python -m livegen.control.touchosc`"


def test_building_twice_gives_the_same_bytes():
    assert build_layout() == build_layout()


def test_main_writes_the_layout(tmp_path, capsys):
    main([str(tmp_path / "out.tosc")])
    assert (tmp_path / "out.tosc").read_bytes() == build_layout()
    assert "out.tosc" in capsys.readouterr().out


def changed(name: str, **changes) -> list[Parameter]:
    return [dataclasses.replace(p, **changes) if p.name == name else p for p in PARAMETERS.values()]


# An integer's range is not in the layout: its fader sends a 0..1 position, mapped onto the range by the daemon.
@pytest.mark.parametrize("table", [
    pytest.param(changed("tempo", high=400.0), id="a number's range"),
    pytest.param(changed("mode", choices=("major", "minor")), id="a choice's choices"),
    pytest.param(changed("play", kind="trigger"), id="a toggle become a trigger"),
    pytest.param(changed("panic", kind="toggle"), id="a trigger become a toggle"),
    pytest.param(changed("seed", kind="number"), id="an integer become a number"),
    pytest.param([p for p in PARAMETERS.values() if p.name != "humanise"], id="a parameter missing"),
])
def test_check_layout_notices_a_layout_built_from_another_table(table):
    with pytest.raises(AssertionError):
        check_layout(read_layout(build_layout(table)), list(PARAMETERS.values()))
    check_layout(read_layout(build_layout(table)), table)  # while it is right for its own table
