"""A piano-roll picture of a performed tune (`livegen generate --plot`).

matplotlib is optional (the `plot` extra): the live daemon never needs it.
"""

from __future__ import annotations

from pathlib import Path

from livegen.errors import LivegenError
from livegen.perform.render import PerformedTune

CHANNEL_COLOURS = ("tab:blue", "tab:orange", "tab:green", "tab:red")


def require_matplotlib():
    """matplotlib, or one line saying how to install it (`generate` asks before composing)."""
    try:
        import matplotlib
    except ImportError:
        raise LivegenError("--plot needs matplotlib: pip install 'livegen[plot]'") from None
    return matplotlib


def write_piano_roll(tune: PerformedTune, target: Path) -> None:
    require_matplotlib().use("Agg")
    from matplotlib import pyplot

    figure, axes = pyplot.subplots(figsize=(12, 4))
    for note in tune.notes:
        axes.broken_barh([(float(note.start), float(note.duration))], (note.pitch - 0.4, 0.8),
                         facecolors=CHANNEL_COLOURS[note.channel % len(CHANNEL_COLOURS)])
    axes.set_xlabel("beats")
    axes.set_ylabel("MIDI pitch")
    axes.set_title(tune.title or "untitled")
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(target, dpi=80)
    pyplot.close(figure)
