"""The README's two commands are the ones that work: CI runs the test command verbatim."""

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
