"""Style presets: the shipped ones load and say what they should; every kind of bad preset is one clear line."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

from livegen.compose.composer import TUNE_TYPES
from livegen.control.parameters import AUTO, PARAMETERS
from livegen.control.presets import FIELDS, Preset, load_preset, preset_names, shipped_folder
from livegen.errors import LivegenError

ROOT = Path(__file__).resolve().parents[1]
PRESETS = ROOT / "presets"
STYLES = {  # preset: (type, metre)
    "jig": ("jig", "6/8"),
    "reel": ("reel", "4/4"),
    "hornpipe": ("hornpipe", "4/4"),
    "polka": ("polka", "2/4"),
    "slip-jig": ("slip-jig", "9/8"),
    "waltz": ("waltz", "3/4"),
    "slow-air": ("slow-air", "3/4"),
}


def metre(preset: Preset) -> str:
    meter = preset.values.get("meter", AUTO)
    return TUNE_TYPES[preset.values["type"]][0] if meter == AUTO else meter


def test_the_seven_styles_are_shipped_and_nothing_else():
    assert preset_names() == sorted(STYLES)
    assert sorted(path.stem for path in PRESETS.glob("*.toml")) == sorted(STYLES)


@pytest.mark.parametrize("name", sorted(STYLES))
def test_each_style_loads_with_its_type_and_metre(name):
    preset = load_preset(name)
    assert preset.name == name
    assert preset.description.strip()
    assert (preset.values["type"], metre(preset)) == STYLES[name]
    assert "tempo" in preset.values


@pytest.mark.parametrize("name", sorted(STYLES))
def test_each_value_is_within_the_table(name):
    preset = load_preset(name)
    assert preset.values
    for field, value in preset.values.items():
        parameter = PARAMETERS[field]
        assert field in FIELDS and field != "play" and parameter.holds_value
        assert parameter.check(value) == value
        if parameter.kind in ("number", "integer"):
            assert parameter.low <= value <= parameter.high
        if parameter.kind == "choice":
            assert value in parameter.choices


@pytest.mark.parametrize("name", sorted(STYLES))
def test_each_file_says_the_dotted_beat_of_a_compound_metre(name):
    """tempo is in quarter notes; a 6/8 or 9/8 preset states its dotted-quarter tempo, and they agree."""
    preset = load_preset(name)
    if metre(preset) not in ("6/8", "9/8", "12/8"):
        return
    text = (PRESETS / f"{name}.toml").read_text()
    dotted = re.search(r"(\d+) dotted-quarter beats", text)
    assert dotted, f"{name}.toml does not say its tempo in dotted quarters"
    assert float(dotted.group(1)) * 1.5 == preset.values["tempo"]


def test_tempos_are_in_a_sensible_order():
    tempo = {name: load_preset(name).values["tempo"] for name in STYLES}
    assert tempo["slow-air"] < tempo["waltz"] < tempo["jig"] < tempo["reel"]
    assert tempo["hornpipe"] < tempo["reel"]


def test_underscores_stand_for_hyphens():
    assert load_preset("slip_jig") == load_preset("slip-jig")


def test_a_path_is_read_as_a_file(tmp_path, monkeypatch):
    path = tmp_path / "mine.toml"
    path.write_text('description = "mine"\ntempo = 150\nkey = "E"\nmode = "dorian"\ntranspose = -2\n')
    preset = load_preset(str(path))
    assert preset == Preset("mine", "mine", {"tempo": 150, "key": "E", "mode": "dorian", "transpose": -2})
    assert load_preset(str(PRESETS / "jig.toml")) == load_preset("jig")
    monkeypatch.chdir(tmp_path)
    (tmp_path / "reel").write_text('description = "not the shipped reel"\n')
    (tmp_path / "odd").write_text('description = "a file without .toml"\n')
    assert load_preset("mine.toml").values["tempo"] == 150
    assert load_preset("odd").description == "a file without .toml"
    assert load_preset("reel").values, "a shipped name comes before a file in the current folder"
    assert load_preset("./reel").description == "not the shipped reel"


def one_line_error(tmp_path, text: str | bytes, name: str = "bad.toml") -> str:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with pytest.raises(LivegenError) as caught:
        load_preset(str(path))
    message = str(caught.value)
    assert "\n" not in message and message.strip() == message
    assert name in message
    return message


GOOD = 'description = "fine"\n'


@pytest.mark.parametrize("text, field, reason", [
    (GOOD + "tempo = 400.0\n", "tempo", "400 is outside 30 to 300 BPM"),
    (GOOD + "tempo = 29\n", "tempo", "29 is outside 30 to 300 BPM"),
    (GOOD + 'tempo = "fast"\n', "tempo", "'fast' is not a number"),
    (GOOD + "tempo = true\n", "tempo", "True is not a number"),
    (GOOD + "tempo = nan\n", "tempo", "nan is not a finite number"),
    (GOOD + "tempo = [120, 130]\n", "tempo", "a list where one value belongs"),
    (GOOD + "[tempo]\nvalue = 120\n", "tempo", "a table where one value belongs"),
    (GOOD + "velocity = 90.5\n", "velocity", "90.5 is not a whole number"),
    (GOOD + "transpose = 13\n", "transpose", "13 is outside -12 to 12"),
    (GOOD + "seed = -1\n", "seed", "-1 is outside 0 to 999999"),
    (GOOD + 'type = "jigg"\n', "type", "'jigg' is not one of auto, jig"),
    (GOOD + "type = 1\n", "type", "1 is not a name"),
    (GOOD + 'meter = "5/4"\n', "meter", "'5/4' is not one of"),
    (GOOD + 'mode = "lydian"\n', "mode", "'lydian' is not one of major"),
    (GOOD + "tempo_bpm = 120\n", "tempo_bpm", "no such field"),
    (GOOD + "top-p = 0.9\n", "top-p", "did you mean 'top_p'"),
    (GOOD + "play = true\n", "play", "may not set it"),
    (GOOD + "new_tune = true\n", "new_tune", "an action"),
    (GOOD + "panic = 1\n", "panic", "an action"),
    ('tempo = 120.0\n', "description", "is missing"),
    ('description = "   "\n', "description", "is empty"),
    ('description = 3\n', "description", "must be a string"),
])
def test_a_bad_field_is_one_line_naming_it(tmp_path, text, field, reason):
    message = one_line_error(tmp_path, text)
    assert f"field {field!r}" in message
    assert reason in message


@pytest.mark.parametrize("field", ["tempo_bpm", "play", "panic"])
def test_an_unknown_or_forbidden_field_lists_the_allowed_ones(tmp_path, field):
    message = one_line_error(tmp_path, GOOD + f"{field} = 1\n")
    assert message.endswith("the fields are " + ", ".join(FIELDS))
    assert "play" not in FIELDS and "new_tune" not in FIELDS and "tempo" in FIELDS


@pytest.mark.parametrize("text, reason", [
    # tomllib recurses per level: past the interpreter's recursion limit it is "nested too
    # deeply", within it (a library in the same process may raise the limit) the value is refused
    (GOOD + "tempo = " + "[" * 1000 + "]" * 1000 + "\n",
     "nested too deeply|field 'tempo': a list where one value belongs"),
    (GOOD + "tempo = " + "{a = " * 1000 + "1" + "}" * 1000 + "\n",
     "nested too deeply|field 'tempo': a table where one value belongs"),
    (GOOD + "[" + ".".join(["deep"] * 1000) + "]\nvalue = 1\n", "field 'deep': no such field"),
    (GOOD + 'type = "' + "x" * 10_000 + '"\n', "is too long to be a value"),
    (GOOD + "x" * 10_000 + " = 1\n", "no such field"),
    ('description = "' + "x" * 10_000 + '"\n', "10,000 characters long"),
    (GOOD + "# " + "x" * 100_000 + "\n", "too large for a preset"),
])
def test_a_deep_or_huge_preset_is_one_short_line(tmp_path, text, reason):
    message = one_line_error(tmp_path, text)
    assert re.search(reason, message) and len(message) < 400, message


def test_a_syntax_error_gives_line_and_column(tmp_path):
    message = one_line_error(tmp_path, GOOD + 'tempo = \ntype = "jig"\n')
    assert "TOML syntax error" in message
    assert "line 2, column 9" in message


def test_text_that_is_not_utf8_is_one_line(tmp_path):
    assert "not UTF-8" in one_line_error(tmp_path, b'description = "caf\xe9"\n')


def test_a_missing_file_is_one_line(tmp_path):
    path = tmp_path / "nowhere.toml"
    with pytest.raises(LivegenError, match=r"^preset file '.*nowhere\.toml' not found$"):
        load_preset(str(path))
    with pytest.raises(LivegenError, match=r"cannot read it"):
        load_preset(str(tmp_path) + "/")


def test_an_unknown_name_lists_the_shipped_presets(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(LivegenError) as caught:
        load_preset("jigg")
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("no preset 'jigg'")
    assert ", ".join(sorted(STYLES)) in message


def test_the_readme_lists_every_field_with_its_range():
    fields_section = (PRESETS / "README.md").read_text().partition("## Fields")[2].partition("\n## ")[0]
    rows = re.findall(r"^\| `([^`]+)` \| (\w+) \| ([^|]+) \|", fields_section, re.MULTILINE)
    assert [name for name, _, _ in rows] == list(FIELDS)
    for name, kind, values in rows[1:]:
        parameter = PARAMETERS[name]
        assert (kind, values.strip()) == (parameter.kind, parameter.describe_range()), name


def test_the_readme_table_of_presets_matches_the_files():
    readme = (PRESETS / "README.md").read_text()
    rows = re.findall(r"^\| `([a-z-]+)` \| ([a-z-]+)[^|]* \| ([0-9/]+) \| (\d+) \|", readme, re.MULTILINE)
    assert {name: (type_, meter, float(tempo)) for name, type_, meter, tempo in rows} == {
        name: (load_preset(name).values["type"], STYLES[name][1], load_preset(name).values["tempo"])
        for name in STYLES}


def test_pyproject_ships_every_package_and_the_presets():
    """The packages are listed by hand (to map presets/ onto livegen.presets_data): none may be forgotten."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {".".join(path.relative_to(ROOT).parts) for path in [ROOT / "livegen", *(ROOT / "livegen").rglob("*")]
               if path.is_dir() and path.name.isidentifier() and path.name != "__pycache__"}
    on_disk |= {"livegen.export." + ".".join(path.relative_to(ROOT / "export").parts)
                for path in (ROOT / "export").rglob("*") if path.is_dir() and path.name.isidentifier()
                and path.name != "__pycache__"}
    assert set(setuptools["packages"]) == on_disk | {"livegen.presets_data", "livegen.export"}
    assert setuptools["package-dir"] == {"livegen.presets_data": "presets", "livegen.export": "export"}
    assert "*.toml" in setuptools["package-data"]["livegen.presets_data"]


def test_the_shipped_folder_is_found():
    assert shipped_folder().joinpath("jig.toml").is_file()
