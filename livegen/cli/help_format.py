"""How `livegen VERB --help` states an option's default: once, and only where the value itself tells the user something.

argparse's ArgumentDefaultsHelpFormatter adds "(default: X)" to every option:
"(default: None)" after a help that already says what happens without the
option, and "(default: True)" on a flag like --no-constraints, which reads as
if constraints were off. This one leaves those out.
"""

from __future__ import annotations

import argparse


class DefaultsHelpFormatter(argparse.HelpFormatter):
    """Adds " (default: X)" to an option's help unless X says nothing or the help says it in its own words."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        help_text = action.help or ""
        default = action.default
        says_nothing = default is None or default is argparse.SUPPRESS or default in ((), [])
        is_flag = action.nargs == 0  # store_true / store_false / store_const: the flag's name says what it does
        takes_default = bool(action.option_strings) or action.nargs in (argparse.OPTIONAL, argparse.ZERO_OR_MORE)
        if says_nothing or is_flag or not takes_default or "(default" in help_text:
            return action.help
        return help_text + " (default: %(default)s)"


class RawDescriptionDefaultsHelpFormatter(argparse.RawDescriptionHelpFormatter, DefaultsHelpFormatter):
    """The same, for a verb whose description and epilog are laid out by hand (`run`)."""
