"""TF_CONFIG, the cluster description every multiworker training process reads, checked without TensorFlow.

Plain JSON and the standard library, so that its checks (and their tests) run
without the training extra; distribute.py hands the result to tf.distribute.
"""

from __future__ import annotations

import json

from livegen.errors import LivegenError

GUIDE = "see docs/DISTRIBUTED.md"


def read_tf_config(text: str | None) -> tuple[int, int]:
    """This worker's index and the number of workers, from TF_CONFIG's cluster and task.

    MultiWorkerMirroredStrategy takes "chief" (at most one) and "worker"
    tasks; parameter servers and evaluators belong to other strategies.
    """
    if text is None:
        raise LivegenError(f"--strategy multiworker reads the cluster from TF_CONFIG, which is not set ({GUIDE})")
    try:
        config = json.loads(text)
    except json.JSONDecodeError as error:
        raise LivegenError(f"TF_CONFIG is not JSON ({error}); {GUIDE}") from None
    if not isinstance(config, dict) or not isinstance(config.get("cluster"), dict) or not isinstance(
            config.get("task"), dict):
        raise LivegenError(f'TF_CONFIG needs a "cluster" object and a "task" object; {GUIDE}')
    cluster, task = config["cluster"], config["task"]
    other_jobs = sorted(set(cluster) - {"chief", "worker"})
    if other_jobs:
        raise LivegenError(f"TF_CONFIG's cluster has {', '.join(other_jobs)} tasks; multiworker training takes "
                           f'only "chief" and "worker" ({GUIDE})')
    sizes = {}
    for job in ("chief", "worker"):
        addresses = cluster.get(job, [])
        if not isinstance(addresses, list) or not all(isinstance(address, str) for address in addresses):
            raise LivegenError(f'TF_CONFIG\'s cluster "{job}" must be a list of "host:port" addresses')
        sizes[job] = len(addresses)
    if sizes["chief"] > 1:
        raise LivegenError('TF_CONFIG\'s cluster may have one "chief", not several')
    job, index = task.get("type"), task.get("index")
    if job not in sizes or not isinstance(index, int) or not 0 <= index < sizes[job]:
        raise LivegenError(f'TF_CONFIG\'s task {json.dumps(task)} is not one of the cluster\'s tasks: it needs '
                           f'"type" "chief" or "worker" and an "index" within that list')
    return (index if job == "chief" else sizes["chief"] + index), sizes["chief"] + sizes["worker"]
