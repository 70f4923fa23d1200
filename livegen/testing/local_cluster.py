"""A cluster of `livegen train` workers on this machine: one process per worker on 127.0.0.1, each with its TF_CONFIG.

For the multi-worker tests and bench/distributed_*.py, from a checkout: the
workers run in ROOT, the checkout's top folder. Ports are picked by binding to
port 0, so runs never collide with each other or with anything else listening here.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_ports(count: int) -> list[int]:
    """Ports nothing listens on now (all bound at once, so they differ)."""
    with ExitStack() as stack:
        sockets = [stack.enter_context(socket.socket()) for _ in range(count)]
        for sock in sockets:
            sock.bind(("127.0.0.1", 0))
        return [sock.getsockname()[1] for sock in sockets]


def tf_config(ports: list[int], index: int) -> str:
    return json.dumps({"cluster": {"worker": [f"127.0.0.1:{port}" for port in ports]},
                       "task": {"type": "worker", "index": index}})


def start_workers(count: int, train_arguments: list[str], logs: Path) -> list[subprocess.Popen]:
    """`python -m livegen train ... --strategy multiworker` once per worker; output in logs/worker-N.log."""
    ports = free_ports(count)
    logs.mkdir(parents=True, exist_ok=True)
    workers = []
    for index in range(count):
        with open(logs / f"worker-{index}.log", "w") as log:
            workers.append(subprocess.Popen(
                [sys.executable, "-m", "livegen", "train", *train_arguments, "--strategy", "multiworker"],
                stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                env={**os.environ, "TF_CONFIG": tf_config(ports, index), "PYTHONPATH": str(ROOT)}))
    return workers


def wait_all(workers: list[subprocess.Popen], timeout: float) -> list[int]:
    """Every worker's exit status; past the deadline all are killed and TimeoutError says so."""
    deadline = time.monotonic() + timeout
    try:
        return [worker.wait(timeout=max(0.0, deadline - time.monotonic())) for worker in workers]
    except subprocess.TimeoutExpired:
        raise TimeoutError(f"the workers did not finish within {timeout:.0f} s") from None
    finally:
        stop(workers)


def train_on_cluster(count: int, train_arguments: list[str], logs: Path, timeout: float) -> None:
    """Start count workers and wait for them; RuntimeError (naming the logs) unless every one succeeds."""
    statuses = wait_all(start_workers(count, train_arguments, logs), timeout)
    if any(statuses):
        raise RuntimeError(f"workers exited with {statuses}: see {logs}")


def stop(workers: list[subprocess.Popen]) -> None:
    """SIGKILL, as a crash or a preempted machine ends a worker."""
    for worker in workers:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
