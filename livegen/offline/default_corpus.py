"""Where the Nottingham corpus is when no folder is given: beside the checkout, as the project lays it out.

The data lives at <checkout>/../shared/data/nottingham/ABC_cleaned. It is
found from this file's place, never from the current folder, so `livegen
train` and `livegen eval` find it wherever they are started; an installed
copy without a checkout beside it needs --data or --reference.
"""

from __future__ import annotations

from pathlib import Path

CHECKOUT = Path(__file__).resolve().parents[2]  # livegen/offline/default_corpus.py -> the checkout
DEFAULT_CORPUS = CHECKOUT.parent / "shared" / "data" / "nottingham" / "ABC_cleaned"

