"""`livegen VERB --help` says each option's default once, and truly.

Each verb's help is read as a user reads it, from a fresh `python -m livegen`:
one entry per option (its invocation and the lines indented under it).
"""

from __future__ import annotations

import itertools
import os
import re
import subprocess
import sys

import pytest

from livegen.cli.main import build_parser

VERBS = sorted(next(action for action in build_parser()._actions if action.choices).choices)
_ENTRY_START = re.compile(r"^  -", re.MULTILINE)


def help_entries(verb: str) -> dict[str, str]:
    """Each option's help entry, by its invocation ("--seed SEED", "--no-constraints"), whitespace folded."""
    result = subprocess.run([sys.executable, "-m", "livegen", verb, "--help"], capture_output=True, text=True,
                            env=os.environ | {"COLUMNS": "80"}, timeout=60, check=False)
    assert result.returncode == 0, result.stderr
    entries = {}
    for block in _ENTRY_START.split(result.stdout)[1:]:
        first, *following = block.splitlines()
        indented = itertools.takewhile(lambda line: line.startswith(" " * 4), following)  # not the next heading
        invocation, _, help_text = ("-" + first).partition("  ")
        entries[invocation] = " ".join(" ".join([help_text, *indented]).split())
    return entries


def test_every_verb_is_covered():
    assert {"run", "generate", "eval", "train", "export", "render", "info", "ports", "link"} <= set(VERBS)


@pytest.mark.parametrize("verb", VERBS)
def test_each_option_states_its_default_once_and_truly(verb):
    entries = help_entries(verb)
    assert "--help" in " ".join(entries)  # the entries were found
    for invocation, text in entries.items():
        assert text.count("(default") <= 1, f"livegen {verb}: {invocation}: {text}"
        assert "(default: None)" not in text, f"livegen {verb}: {invocation}: {text}"
        is_flag = all(word.strip(",").startswith("-") for word in invocation.split())
        if is_flag:  # --no-constraints (default: True) reads as if constraints were off
            assert "(default: True)" not in text and "(default: False)" not in text, \
                f"livegen {verb}: {invocation}: {text}"
