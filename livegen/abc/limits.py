"""Caps on everything the streaming parser buffers, so that garbage cannot grow its memory.

Counted in characters unless said otherwise.
"""

MAX_FIELD = 256
MAX_QUOTE = 128
MAX_DECORATION = 32
MAX_BAR = 8
MAX_ENDING = 16
MAX_LENGTH = 8
MAX_TUPLET = 8
MAX_CHORD_NOTES = 16  # notes
MAX_DECORATIONS = 8  # pending decorations on one note
MAX_OCTAVE_MARKS = 8
MAX_REST_BARS = 999
MAX_CACHED_LENGTHS = 64  # distinct written lengths remembered
