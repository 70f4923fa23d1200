"""ABC files as collections of tunes."""

from __future__ import annotations

from pathlib import Path


def read_abc_file(path: Path) -> str:
    """ABC collections of this age are Latin-1 or ASCII; never fail on a stray byte."""
    return Path(path).read_bytes().decode("latin-1")


def split_tunes(text: str) -> list[str]:
    """Raw tune texts: from an X: line up to the next blank line or X: line."""
    tunes: list[list[str]] = []
    current: list[str] | None = None
    for line in text.splitlines():
        if line.startswith("X:"):
            current = [line]
            tunes.append(current)
        elif not line.strip():
            current = None
        elif current is not None:
            current.append(line)
    return ["\n".join(lines) + "\n" for lines in tunes]
