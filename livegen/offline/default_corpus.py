"""Where the Nottingham corpus is when no folder is given: beside the checkout, as the project lays it out.

The data lives at <checkout>/../shared/data/nottingham/ABC_cleaned. It is
found from this file's place, never from the current folder, so `livegen
train` and `livegen eval` find it wherever they are started; an installed
copy without a checkout beside it needs --data or --reference.
"""

from __future__ import annotations

from pathlib import Path

from livegen.errors import LivegenError

CHECKOUT = Path(__file__).resolve().parents[2]  # livegen/offline/default_corpus.py -> the checkout
DEFAULT_CORPUS = CHECKOUT.parent / "shared" / "data" / "nottingham" / "ABC_cleaned"


def training_corpus(data: Path | None) -> Path:
    """`train`'s --data, else the default corpus; which is missing, said in one line."""
    if data is None:
        if not DEFAULT_CORPUS.is_dir():
            raise LivegenError(f"no --data given and the default corpus {DEFAULT_CORPUS} is not here: "
                               "pass --data FOLDER_OF_ABC_FILES")
        return DEFAULT_CORPUS
    if not data.is_dir():
        raise LivegenError(f"--data {data} is not a folder")
    return data


def reference_corpus(reference: Path | None) -> Path | None:
    """`eval`'s --reference, else the default corpus when it is here; None: the tunes are judged alone."""
    return reference or (DEFAULT_CORPUS if DEFAULT_CORPUS.is_dir() else None)
