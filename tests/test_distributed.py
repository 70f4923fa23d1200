"""Training under tf.distribute: two real workers on 127.0.0.1, a worker restart, mirrored devices, TF_CONFIG
mistakes."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from livegen.cli.main import main
from livegen.errors import LivegenError
from livegen.model.model_file import load_model, state_names
from livegen.testing.local_cluster import ROOT, start_workers, stop, wait_all

pytestmark = pytest.mark.slow

TINY = ["--embedding", "16", "--units", "24", "--layers", "2", "--batch-size", "8", "--sequence-length", "32",
        "--max-tunes", "24", "--patience", "9"]
DEADLINE_S = 150


def tiny_training(nottingham: Path, run: Path, epochs: int) -> list[str]:
    return ["--data", str(nottingham), "--out", str(run), *TINY, "--epochs", str(epochs)]


def epoch_lines(log: Path) -> list[str]:
    """The per-epoch scores a worker printed, without its own timing."""
    scores = r"^epoch \d+: training [\d.]+ bits/char, validation [\d.]+ bits/char"
    return re.findall(scores, log.read_text(), re.MULTILINE)


def test_two_workers_train_one_model_that_exports_to_onnx(training_extra, nottingham, tmp_path):
    run = tmp_path / "run"
    workers = start_workers(2, tiny_training(nottingham, run, epochs=2), tmp_path / "logs")
    assert wait_all(workers, DEADLINE_S) == [0, 0], (tmp_path / "logs" / "worker-0.log").read_text()[-3000:]

    chief, other = (epoch_lines(tmp_path / "logs" / f"worker-{index}.log") for index in (0, 1))
    assert len(chief) == 2 and chief == other  # the same losses and validation scores: one model, trained together
    record = json.loads((run / "training.json").read_text())
    assert (record["strategy"], record["workers"], record["replicas"], record["batch_size"]) == ("multiworker", 2, 2, 8)
    assert sorted(path.name for path in run.iterdir()) == ["best.keras", "history.json", "loss.png", "training.json"]

    from livegen.export.onnx_export import export_model

    report = export_model(run / "best.keras", tmp_path / "model.onnx")
    assert report.parity_max_abs_diff <= 1e-4
    model = load_model(tmp_path / "model.onnx")
    state = {name: np.zeros((1, model.units), np.float32) for name in state_names(model.layers)}
    logits, *_ = model.session.run(None, {"token": model.vocabulary.encode("X")[:1].astype(np.int64), **state})
    assert logits.shape == (1, len(model.vocabulary)) and np.isfinite(logits).all()


def test_after_every_worker_is_killed_resume_continues_from_the_last_epoch(training_extra, nottingham, tmp_path):
    """The first run asks for more epochs than it could finish while the test waits, and is killed once every
    worker's backup holds an epoch: it can neither end on its own first nor be killed before its backups."""
    run = tmp_path / "run"
    history = run / "history.json"
    backups = [run / "backup" / f"worker-{index}" / "training_metadata.json" for index in (0, 1)]
    workers = start_workers(2, tiny_training(nottingham, run, epochs=1000), tmp_path / "first")
    deadline = time.monotonic() + DEADLINE_S
    while not (history.exists() and all(backup.exists() for backup in backups)):
        assert all(worker.poll() is None for worker in workers), "a worker ended before it could be killed"
        assert time.monotonic() < deadline, "no epoch was backed up in time"
        time.sleep(0.1)
    stop(workers)
    done = json.loads(backups[1].read_text())["epoch"]

    resumed = [*tiny_training(nottingham, run, epochs=done + 1), "--resume"]
    workers = start_workers(2, resumed, tmp_path / "second")
    assert wait_all(workers, DEADLINE_S) == [0, 0], (tmp_path / "second" / "worker-0.log").read_text()[-3000:]
    assert [row["epoch"] for row in json.loads(history.read_text())] == list(range(1, done + 2))
    assert f"Epoch {done + 1}/{done + 1}" in (tmp_path / "second" / "worker-1.log").read_text()
    assert f"Epoch {done}/" not in (tmp_path / "second" / "worker-1.log").read_text()
    assert not (run / "backup").exists()


def test_mirrored_over_two_logical_cpu_devices_splits_each_batch(training_extra, nottingham, tmp_path):
    run = tmp_path / "run"
    command = [sys.executable, "-m", "livegen", "train", *tiny_training(nottingham, run, epochs=1),
               "--strategy", "mirrored", "--devices", "2"]
    result = subprocess.run(command, capture_output=True, text=True, timeout=DEADLINE_S, cwd=ROOT)
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads((run / "training.json").read_text())
    assert (record["strategy"], record["workers"], record["replicas"]) == ("mirrored", 1, 2)

    odd = subprocess.run([*command[:-1], "3", "--out", str(tmp_path / "odd")], capture_output=True, text=True,
                         timeout=DEADLINE_S, cwd=ROOT)
    assert odd.returncode == 2
    assert "livegen: error: --batch-size 8 is the global batch: it must split evenly over the 3 replicas" in odd.stderr


@pytest.mark.parametrize(("tf_config", "says"), [
    (None, "TF_CONFIG, which is not set"),
    ("{cluster: 1}", "TF_CONFIG is not JSON"),
    ('{"task": {"type": "worker", "index": 0}}', 'needs a "cluster" object and a "task" object'),
    ('{"cluster": {"worker": ["a:1"]}}', 'needs a "cluster" object and a "task" object'),
    ('{"cluster": {"worker": ["a:1"], "ps": ["b:2"]}, "task": {"type": "worker", "index": 0}}',
     'has ps tasks; multiworker training takes only "chief" and "worker"'),
    ('{"cluster": {"worker": "a:1"}, "task": {"type": "worker", "index": 0}}', 'must be a list of "host:port"'),
    ('{"cluster": {"worker": ["a:1", "b:2"]}, "task": {"type": "worker", "index": 2}}',
     "is not one of the cluster's tasks"),
    ('{"cluster": {"worker": ["a:1"]}, "task": {"type": "evaluator", "index": 0}}',
     "is not one of the cluster's tasks"),
])
def test_a_bad_tf_config_is_named_in_one_line(tf_config, says):
    from livegen.export.tf_config import read_tf_config

    with pytest.raises(LivegenError, match=re.escape(says)):
        read_tf_config(tf_config)


def test_tf_config_gives_each_worker_its_index_with_the_chief_first():
    from livegen.export.tf_config import read_tf_config

    cluster = {"chief": ["a:1"], "worker": ["b:2", "c:3"]}
    assert read_tf_config(json.dumps({"cluster": cluster, "task": {"type": "chief", "index": 0}})) == (0, 3)
    assert read_tf_config(json.dumps({"cluster": cluster, "task": {"type": "worker", "index": 1}})) == (2, 3)
    assert read_tf_config(json.dumps({"cluster": {"worker": ["a:1", "b:2"]},
                                      "task": {"type": "worker", "index": 1}})) == (1, 2)


def test_the_command_line_reports_distribution_mistakes_in_one_line(training_extra, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TF_CONFIG", "not json")
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--strategy", "multiworker"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and error.startswith("livegen: error: TF_CONFIG is not JSON")

    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--devices", "2"]) == 2
    assert "--devices is for --strategy mirrored" in capsys.readouterr().err


def test_mixed_precision_is_refused_without_a_gpu(training_extra, tmp_path, capsys):
    import tensorflow as tf

    if tf.config.list_physical_devices("GPU"):
        pytest.skip("this machine has a GPU")
    assert main(["train", "--data", str(tmp_path), "--out", str(tmp_path / "run"), "--mixed-precision"]) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "--mixed-precision needs a GPU" in error
