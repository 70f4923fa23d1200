"""What the corpus writes, for livegen.compose.constraints: read once from corpus_vocabulary.json beside this module.

The data file is generated from the corpus (``python -m livegen.export.corpus_vocabulary <corpus>``;
export/corpus_vocabulary.py says why it ships) and installed with the package.
"""

import json
from importlib.resources import files

_DATA_FILE = files(__package__).joinpath("corpus_vocabulary.json")
_VOCABULARY = json.loads(_DATA_FILE.read_text(encoding="utf-8"))["vocabulary"]

BODY_CHARACTERS: tuple[str, ...] = tuple(_VOCABULARY["BODY_CHARACTERS"])
NOTE_LENGTHS: tuple[str, ...] = tuple(_VOCABULARY["NOTE_LENGTHS"])  # commonest first
CHORD_SYMBOLS: tuple[str, ...] = tuple(_VOCABULARY["CHORD_SYMBOLS"])
TITLE_WORDS: tuple[str, ...] = tuple(_VOCABULARY["TITLE_WORDS"])
M_VALUES: tuple[str, ...] = tuple(_VOCABULARY["M_VALUES"])
L_VALUES: tuple[str, ...] = tuple(_VOCABULARY["L_VALUES"])
K_VALUES: tuple[str, ...] = tuple(_VOCABULARY["K_VALUES"])
