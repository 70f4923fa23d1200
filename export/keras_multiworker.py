"""Keras 3's Model.fit under MultiWorkerMirroredStrategy, repaired for the length of one fit.

Keras 3 (checked with 3.15) cannot run fit with TensorFlow's multi-worker
strategy at all (keras-team/keras#20585, tensorflow/tensorflow#72388): it
reduces the first input batch with a cross-worker MEAN before building the
model (a tuple of per-replica int batches: TensorFlow refuses), and it
averages each step's scalar logs with `reduce(MEAN, axis=0)` (a scalar has
no axis 0). Both are two-line mistakes in its TensorFlow trainer, so rather
than a training loop of our own, `repaired_fit` swaps those two places for
what they mean to do, and only while a multi-worker strategy is in use:
build from this worker's own first batch, and average the logs over workers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import tensorflow as tf
from keras.src import tree
from keras.src.backend.tensorflow import trainer as tf_trainer


def _multiworker(strategy: tf.distribute.Strategy) -> bool:
    return isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy) and strategy.extended._in_multi_worker_mode()


@contextlib.contextmanager
def repaired_fit(strategy: tf.distribute.Strategy) -> Iterator[None]:
    """Within this block, Model.fit works under a multi-worker strategy; elsewhere Keras is untouched."""
    if not _multiworker(strategy):
        yield
        return
    reduce_per_replica = tf_trainer.reduce_per_replica
    maybe_symbolic_build = tf_trainer.TensorFlowTrainer._maybe_symbolic_build

    def reduce_logs(values, strategy, reduction):
        if reduction in ("auto", "mean"):
            return tree.map_structure(lambda value: strategy.reduce("MEAN", value, axis=None), values)
        return reduce_per_replica(values, strategy, reduction)

    def build_from_local_batch(model, iterator=None, data_batch=None):
        if iterator is not None:
            local = model.distribute_strategy.experimental_local_results
            for _, _, batches in iterator:
                data_batch = tree.map_structure(lambda value: local(value)[0], next(batches))
                break
        return maybe_symbolic_build(model, data_batch=data_batch)

    tf_trainer.reduce_per_replica = reduce_logs
    tf_trainer.TensorFlowTrainer._maybe_symbolic_build = build_from_local_batch
    try:
        yield
    finally:
        tf_trainer.reduce_per_replica = reduce_per_replica
        tf_trainer.TensorFlowTrainer._maybe_symbolic_build = maybe_symbolic_build
