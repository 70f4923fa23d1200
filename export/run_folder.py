"""What a training run's folder holds, readable without TensorFlow.

The CLI checks --out and --resume against it before TensorFlow loads, so a
mistaken command fails in a moment rather than after the import.
"""

from __future__ import annotations

from pathlib import Path

from livegen.errors import LivegenError

TRAINING_RECORD = "training.json"
BACKUP_FOLDER = "backup"


def check_run_folder(run: Path, resume: bool, backup: Path | None = None) -> None:
    """Refuse to resume what is not there, or to start over a finished run; backup is this worker's own."""
    backup = backup or run / BACKUP_FOLDER
    if resume and not backup.exists():
        raise LivegenError(f"nothing to resume in {run}: no interrupted training run is there")
    if not resume and (run / TRAINING_RECORD).exists():
        raise LivegenError(f"{run} already holds a training run: pass --resume to continue it, or choose another --out")
