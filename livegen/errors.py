"""The one exception type a user's mistake turns into.

The command line prints a LivegenError as a single line on stderr and exits
non-zero; anything else is a bug and keeps its traceback.
"""


class LivegenError(Exception):
    """A problem the user can fix: the message says what and how, in one line."""
