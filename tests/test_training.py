"""Training: a tiny real model learns, keeps its best checkpoint, and resumes after an interruption."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from livegen.cli.main import main

pytestmark = pytest.mark.slow


def test_a_tiny_model_learns_and_leaves_a_complete_run_folder(tiny_run):
    record = json.loads((tiny_run / "training.json").read_text())
    history = json.loads((tiny_run / "history.json").read_text())
    assert (tiny_run / "best.keras").is_file() and (tiny_run / "loss.png").stat().st_size > 1000
    assert [row["epoch"] for row in history] == [1, 2]
    uniform = math.log2(len(record["vocabulary"]))
    assert history[-1]["validation_bits_per_char"] < uniform  # better than guessing
    assert record["validation_bits_per_char"] == min(row["validation_bits_per_char"] for row in history)
    assert len(record["parity_text"]) == 500
    assert not (tiny_run / "backup").exists()  # a finished run leaves no resume state


# `python -m livegen` with Ctrl-C (SIGINT) raising KeyboardInterrupt, as it does from a terminal: a suite
# started in the background (nohup ... &) hands its children SIGINT ignored, and the run would never stop.
WITH_CTRL_C = ("import runpy, signal; signal.signal(signal.SIGINT, signal.default_int_handler); "
               "runpy.run_module('livegen', run_name='__main__')")


def test_an_interrupted_run_resumes_where_it_stopped(training_extra, nottingham, tmp_path):
    """Ctrl-C after an epoch, then --resume: training goes on from the last epoch, and each epoch has one row.

    The run to interrupt is asked for more epochs than it could finish in the test's whole time, so the
    signal always finds it training. (It once had 4, about a second after the first: on a loaded machine the
    run finished before SIGINT landed and exited 0.)
    """
    run = tmp_path / "run"
    history = run / "history.json"
    options = ["--data", str(nottingham), "--out", str(run), "--embedding", "8", "--units", "16", "--layers", "1",
               "--batch-size", "8", "--sequence-length", "32", "--max-tunes", "12", "--patience", "1000"]
    process = subprocess.Popen([sys.executable, "-c", WITH_CTRL_C, "train", *options, "--epochs", "1000"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not (history.exists() and json.loads(history.read_text())):  # written whole (os.replace)
            assert process.poll() is None, "training ended before it could be interrupted"
            assert time.monotonic() < deadline, "no epoch finished within five minutes"
            time.sleep(0.1)
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=300) == 130
    finally:
        if process.poll() is None:
            process.kill()
    rows = json.loads(history.read_text())
    done = len(rows)
    assert [row["epoch"] for row in rows] == list(range(1, done + 1)) and (run / "backup").exists()

    # Ctrl-C after an epoch's row is written and before its backup leaves a row the backup doesn't hold:
    # the resumed run trains that epoch again and replaces its row.
    history.write_text(json.dumps([*rows, {**rows[-1], "epoch": done + 1}]))
    assert main(["train", *options, "--resume", "--epochs", str(done + 2)]) == 0
    assert [row["epoch"] for row in json.loads(history.read_text())] == list(range(1, done + 3))
    assert not (run / "backup").exists()


def test_training_twice_into_one_folder_or_resuming_nothing_is_a_clear_error(tiny_run, tmp_path, capsys):
    assert main(["train", "--data", str(tiny_run), "--out", str(tiny_run)]) == 2
    assert "already holds a training run" in capsys.readouterr().err
    assert main(["train", "--data", str(tiny_run), "--out", str(tmp_path / "empty"), "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err


def test_without_the_training_extra_train_says_how_to_install_it():
    blocked = ("import sys; sys.modules['tensorflow'] = None; from livegen.cli.main import main; "
               "sys.exit(main(['train']))")
    result = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).parents[1])})
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1 and "pip install" in result.stderr and "[train]" in result.stderr
