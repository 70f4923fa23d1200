"""The README says what is true: CI runs its test command verbatim, and its CC map is the default one."""

from __future__ import annotations

import re
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parents[1]


def readme_commands() -> list[str]:
    text = (REPOSITORY / "README.md").read_text()
    return re.findall(r"```sh\n(.+?)\n```", text)[:2]


def test_ci_runs_the_readme_test_command_verbatim():
    _, test_command = readme_commands()
    ci_lines = (REPOSITORY / ".ci" / "run").read_text().splitlines()
    assert test_command in ci_lines


def test_the_readme_main_command_installs_and_runs_the_daemon_on_the_shipped_model():
    run_command, _ = readme_commands()
    assert run_command.startswith("pip install") and 'livegen run --port "LiveGen"' in run_command


def test_the_readme_lists_the_default_cc_map():
    from livegen.control.parameters import DEFAULT_CC_MAP

    text = " ".join((REPOSITORY / "README.md").read_text().split())
    listed = dict(re.findall(r"(\d+) ([a-z_]+)[,;]", text[text.index("**MIDI CC**"):text.index("--clock midi")]))
    assert {int(number): name for number, name in listed.items()} == DEFAULT_CC_MAP
