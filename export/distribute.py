"""Where `livegen train` runs: one device, all local devices, or a cluster of machines.

TensorFlow's tf.distribute does the work; this module picks the strategy from
the command line, checks what a user can get wrong (TF_CONFIG, read in tf_config.py;
--devices, --mixed-precision on a machine without a GPU) and says so in one line, and
tells the training code which worker it is. Every strategy is synchronous
data parallelism: each replica takes its share of the global batch, gradients
are averaged over all replicas, and every replica applies the same update, so
the weights are the same everywhere after each step. docs/DISTRIBUTED.md is
the user's account.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import keras
import numpy as np
import tensorflow as tf

from livegen.errors import LivegenError
from livegen.export.tf_config import read_tf_config


@dataclass(frozen=True)
class Workers:
    """This process's place among the training processes (workers), and what they share.

    Worker 0 is the chief: the task of type "chief", or "worker" 0 when the
    cluster has no chief (TensorFlow's numbering, also its input pipeline ids).
    """

    strategy: tf.distribute.Strategy
    index: int = 0
    count: int = 1

    @property
    def is_chief(self) -> bool:
        return self.index == 0

    def gather(self, values: list[float]) -> np.ndarray:
        """Every worker's values, row i from worker i, on every worker.

        A sum over replicas in which each worker's first replica brings its
        own row and every other entry is zero. A collective operation: every
        worker must call it at the same point of training, or the others
        wait for it.
        """
        replicas_per_worker = self.strategy.num_replicas_in_sync // self.count

        def contribution(context: tf.distribute.experimental.ValueContext) -> tf.Tensor:
            rows = np.zeros((self.count, len(values)))
            if context.replica_id_in_sync_group % replicas_per_worker == 0:
                rows[self.index] = values
            return tf.constant(rows, tf.float64)

        per_replica = self.strategy.experimental_distribute_values_from_function(contribution)
        return self.strategy.reduce(tf.distribute.ReduceOp.SUM, per_replica, axis=None).numpy()


def start(strategy: str, devices: int | None = None, mixed_precision: bool = False) -> Workers:
    """Configure TensorFlow and create the strategy; call before anything else runs on TensorFlow."""
    if devices is not None and strategy != "mirrored":
        raise LivegenError("--devices is for --strategy mirrored (multiworker uses every GPU of each worker)")
    if devices is not None and devices < 1:
        raise LivegenError(f"--devices must be at least 1, not {devices}")
    gpus = tf.config.list_physical_devices("GPU")
    if mixed_precision:
        if not gpus:
            raise LivegenError("--mixed-precision needs a GPU, and TensorFlow sees none here "
                               "(float16 on a CPU is slower than float32, not faster)")
        keras.mixed_precision.set_global_policy("mixed_float16")
    if strategy == "default":
        return Workers(tf.distribute.get_strategy())
    if strategy == "mirrored":
        return Workers(tf.distribute.MirroredStrategy(_mirrored_devices(gpus, devices)))
    index, count = read_tf_config(os.environ.get("TF_CONFIG"))
    return Workers(tf.distribute.MultiWorkerMirroredStrategy(), index, count)


def _mirrored_devices(gpus: list, devices: int | None) -> list[str]:
    """The first `devices` GPUs (all by default), or `devices` logical CPU devices on a machine without one.

    Logical CPU devices share the same cores: they let the set-up be tried
    (and tested) on a laptop, but make nothing faster.
    """
    if gpus:
        if devices is not None and devices > len(gpus):
            raise LivegenError(f"--devices {devices}: TensorFlow sees only {len(gpus)} GPU(s) here")
        return [f"/gpu:{index}" for index in range(devices or len(gpus))]
    if devices is not None:
        try:
            tf.config.set_logical_device_configuration(
                tf.config.list_physical_devices("CPU")[0], [tf.config.LogicalDeviceConfiguration()] * devices)
        except RuntimeError:
            raise LivegenError("--devices must be set before TensorFlow starts (run livegen train in a new "
                               "process)") from None
    return [f"/cpu:{index}" for index in range(devices or 1)]
