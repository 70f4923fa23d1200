"""`livegen train`: fit the character model on a folder of ABC tunes.

A run lives in one folder: best.keras (the best validation score so far),
training.json (vocabulary, sizes, corpus and scores: everything export needs
for the model card), history.json (one row per epoch), loss.png, and backup/
(Keras BackupAndRestore, so --resume continues an interrupted run where it
stopped, optimizer state included).

Training runs under a tf.distribute strategy (export/distribute.py). With
several workers only the chief (worker 0) writes the run folder; the others
write the same files to a temporary folder, because saving a model is a
collective operation every worker must take part in. Each worker keeps its
own backup, in backup/worker-N.
"""

from __future__ import annotations

import json
import math
import os
import re
import signal
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from livegen.errors import LivegenError
from livegen.export import distribute, transpose
from livegen.export.corpus import Tune, corpus_text, load_tunes
from livegen.export.keras_multiworker import repaired_fit
from livegen.export.model import ModelConfig, build_sequence_model, cross_entropy_totals
from livegen.export.run_folder import BACKUP_FOLDER, TRAINING_RECORD, check_run_folder
from livegen.model.sizes import SHIPPED_SIZES
from livegen.model.vocab import Vocabulary

HISTORY = "history.json"
BEST_MODEL = "best.keras"
PARITY_CHARACTERS = 500


@dataclass
class TrainingOptions:
    data: Path
    out: Path
    embedding: int = SHIPPED_SIZES.embedding
    units: int = SHIPPED_SIZES.units
    layers: int = SHIPPED_SIZES.layers
    dropout: float = SHIPPED_SIZES.dropout
    epochs: int = 100
    batch_size: int = 64
    sequence_length: int = 128
    learning_rate: float = 2e-3
    patience: int = 3
    learning_rate_schedule: str = "plateau"  # halve it after an epoch without improvement; or "constant"
    transpose_to: str = "auto"  # "none", or tonics "G,D,A" (see split_corpus)
    max_tunes: int | None = None
    seed: int = 0
    resume: bool = False
    strategy: str = "default"
    devices: int | None = None
    mixed_precision: bool = False
    command: str = "livegen train"
    verbose: int = field(default_factory=lambda: 1 if sys.stdout.isatty() else 2)


@dataclass(frozen=True)
class CorpusSplit:
    training: list[Tune]  # the training tunes, then their transposed copies
    validation: list[Tune]
    vocabulary: Vocabulary
    transposed_to: dict[str, list[str]] = field(default_factory=dict)  # mode -> tonics offered
    transposed_copies: int = 0
    set_aside: int = 0  # training tunes that are a validation tune in another key


def split_corpus(data: Path, max_tunes: int | None = None, transpose_to: str = "none") -> CorpusSplit:
    """Tunes of data, split by each tune's hash, training tunes offered in other keys too.

    The split is taken before transposing, so validation is exactly the
    untransposed held-out tunes of every earlier run. A training tune that is
    a validation tune in another key is set aside: its copies would carry
    the validation tune into training. The vocabulary covers every text.
    """
    tunes = load_tunes(data)
    if max_tunes is not None:
        tunes = tunes[:max_tunes]
    if not tunes:
        raise LivegenError(f"no ABC tunes found under {data} (looked for X: lines in *.abc files)")
    validation = [tune for tune in tunes if tune.is_validation]
    training = [tune for tune in tunes if not tune.is_validation]
    if not validation:  # a handful of tunes may all hash into training
        validation, training = training[-1:], training[:-1] or training
    keys = _transposition_keys(transpose_to, tunes)
    held_out = {transpose.fingerprint(tune.text) for tune in validation}
    kept = [tune for tune in training if transpose.fingerprint(tune.text) not in held_out] if keys else training
    copies = [Tune(copy, f"{tune.source} in {transpose.tonic_of(copy)[0]}")
              for tune in kept for copy in transpose.transpositions(tune.text, keys)]
    training = kept + copies
    return CorpusSplit(training, validation, Vocabulary.from_text(corpus_text(training + validation)), keys,
                       len(copies), len(tunes) - len(validation) - len(kept))


def _transposition_keys(transpose_to: str, tunes: list[Tune]) -> dict[str, list[str]]:
    """Per mode, the tonics to offer training tunes in, from --transpose-to."""
    if transpose_to == "none":
        return {}
    if transpose_to == "auto":
        return transpose.target_keys([tune.text for tune in tunes])
    tonics = [tonic.strip() for tonic in transpose_to.split(",") if tonic.strip()]
    unknown = [tonic for tonic in tonics if not re.fullmatch(r"[A-G][#b]?", tonic)]
    if unknown or not tonics:
        raise LivegenError(f"--transpose-to {transpose_to!r}: give auto, none, or tonics such as G,D,A")
    modes = {transpose.tonic_of(tune.text)[1] for tune in tunes if transpose.tonic_of(tune.text)}
    return {mode: tonics for mode in modes}


def window_batches(ids: np.ndarray, batch_size: int, sequence_length: int, seed: int
                   ) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Endless batches of (input, next-character target) windows, each at a fresh random offset.

    Built by numpy fancy indexing over one int32 array of the corpus: no
    Python loop per character, no one-hot tensors.
    """
    rng = np.random.default_rng(seed)
    offsets = np.arange(sequence_length + 1)
    highest_start = len(ids) - len(offsets)
    while True:
        windows = ids[rng.integers(0, highest_start + 1, size=batch_size)[:, None] + offsets]
        yield windows[:, :-1], windows[:, 1:]


def training_batches(workers: distribute.Workers, ids: np.ndarray, global_batch: int, sequence_length: int,
                     seed: int) -> tf.distribute.DistributedDataset | tf.data.Dataset:
    """Each replica's share of every global batch, drawn where it is used.

    One input pipeline per worker, seeded by its id, so workers never draw
    the same windows and none draws (then drops) another's. Windows are
    random, so there is nothing for tf.data to shard.
    """
    def pipeline(context: tf.distribute.InputContext) -> tf.data.Dataset:
        batch = context.get_per_replica_batch_size(global_batch)
        spec = tf.TensorSpec([batch, sequence_length], tf.int32)
        batches = tf.data.Dataset.from_generator(
            lambda: window_batches(ids, batch, sequence_length, seed + context.input_pipeline_id),
            output_signature=(spec, spec))
        return batches.prefetch(tf.data.AUTOTUNE)

    return workers.strategy.distribute_datasets_from_function(pipeline)


class ValidationAndEarlyStop(keras.callbacks.Callback):
    """Scores whole validation tunes after each epoch, keeps the best model, stops on a plateau.

    One callback rather than Keras' EarlyStopping + ModelCheckpoint because
    their memory of the best score is lost on resume; here it is read back
    from history.json. With several workers, each scores its share of the
    tunes and the sums are gathered, so every worker has the same score and
    takes the same decisions at the same time (to save, to stop): a worker
    that stopped alone would leave the others waiting for it.
    """

    def __init__(self, folder: Path, validation: list[np.ndarray], characters_per_epoch: int,
                 patience: int, record: dict, workers: distribute.Workers, halve_on_plateau: bool = False):
        super().__init__()
        self.halve_on_plateau = halve_on_plateau
        self.folder = folder
        self.validation = validation
        self.characters_per_epoch = characters_per_epoch
        self.patience = patience
        self.record = record
        self.workers = workers
        self.history = json.loads((folder / HISTORY).read_text()) if (folder / HISTORY).exists() else []
        scores = [row["validation_bits_per_char"] for row in self.history]
        self.best = min(scores, default=math.inf)
        self.waited = len(scores) - 1 - scores.index(self.best) if scores else 0

    def on_train_begin(self, logs=None):
        best, waited = self.workers.gather([self.best, self.waited])[0]  # the chief's, which read history.json
        self.best, self.waited = float(best), int(waited)

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.started
        share = self.validation[self.workers.index::self.workers.count]
        bits, characters = self.workers.gather(list(cross_entropy_totals(self.model, share))).sum(axis=0)
        score = float(bits / characters)
        row = {
            "epoch": epoch + 1,
            "training_bits_per_char": logs["loss"] / math.log(2),
            "validation_bits_per_char": score,
            "seconds": seconds,
            "characters_per_second": self.characters_per_epoch / seconds,
        }
        with _ctrl_c_held():  # the best model, record and row are written whole
            improved = score < self.best - 1e-4
            if improved:
                self.best, self.waited = score, 0
                self.model.save(self.folder / BEST_MODEL)
                self.record.update(validation_bits_per_char=score, epochs=epoch + 1,
                                   characters_per_second=row["characters_per_second"])
                _write_json(self.folder / TRAINING_RECORD, self.record)
            else:
                self.waited += 1
                if self.halve_on_plateau:  # the optimizer's state, so BackupAndRestore keeps it on resume
                    self.model.optimizer.learning_rate.assign(self.model.optimizer.learning_rate * 0.5)
            row["next_learning_rate"] = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
            # An epoch trained again after an interrupt (its row written, its backup not) replaces its row.
            self.history = [*(old for old in self.history if old["epoch"] < row["epoch"]), row]
            _write_json(self.folder / HISTORY, self.history)  # last: an epoch in history.json has its model and record
        print(f"epoch {epoch + 1}: training {row['training_bits_per_char']:.3f} bits/char, "
              f"validation {score:.3f} bits/char{' (best so far)' if improved else ''}, "
              f"{row['characters_per_second']:,.0f} characters/s", flush=True)
        if self.waited >= self.patience:
            print(f"validation has not improved for {self.patience} epochs: stopping", flush=True)
            self.model.stop_training = True


class WholeBackup(keras.callbacks.BackupAndRestore):
    """Keras' backup for --resume, written whole even when Ctrl-C lands while it is written.

    Interrupted half way, the weights file is left without its variables, and --resume fails to load it.
    """

    def on_epoch_end(self, epoch, logs=None):
        with _ctrl_c_held():
            super().on_epoch_end(epoch, logs)


@contextmanager
def _ctrl_c_held():
    """Hold Ctrl-C (SIGINT) until the block is done, then act on it as usual (KeyboardInterrupt)."""
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        yield
        return
    caught = []
    previous = signal.signal(signal.SIGINT, lambda number, frame: caught.append(number))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
        if caught and callable(previous):
            previous(signal.SIGINT, None)


def train(options: TrainingOptions) -> Path:
    """Run (or resume) a training run, as one of options.strategy's workers; returns the path of the best model."""
    workers = distribute.start(options.strategy, options.devices, options.mixed_precision)
    run = options.out
    backup = run / BACKUP_FOLDER / f"worker-{workers.index}" if workers.count > 1 else run / BACKUP_FOLDER
    check_run_folder(run, options.resume, backup)
    replicas = workers.strategy.num_replicas_in_sync
    if options.batch_size % replicas:
        raise LivegenError(f"--batch-size {options.batch_size} is the global batch: it must split evenly over "
                           f"the {replicas} replicas")
    run.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(options.seed)

    corpus = split_corpus(options.data, options.max_tunes, options.transpose_to)
    vocabulary = corpus.vocabulary
    training_ids = vocabulary.encode(corpus_text(corpus.training))
    if len(training_ids) <= options.sequence_length + 1:
        raise LivegenError(f"the training text has {len(training_ids)} characters, too few for "
                           f"--sequence-length {options.sequence_length}")
    validation_ids = [vocabulary.encode(tune.text + "\n") for tune in corpus.validation]
    config = ModelConfig(len(vocabulary), options.embedding, options.units, options.layers, options.dropout)
    steps = max(1, (len(training_ids) - 1) // (options.sequence_length * options.batch_size))

    record = _training_record(options, corpus, config, workers)
    if options.resume and (run / TRAINING_RECORD).exists():
        record = {**json.loads((run / TRAINING_RECORD).read_text()), "command": record["command"]}
    with workers.strategy.scope():
        model = build_sequence_model(config)
        model.compile(
            optimizer=keras.optimizers.Adam(learning_rate=options.learning_rate, clipnorm=1.0),
            loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        )
    where = f"worker {workers.index} of {workers.count}, " if workers.count > 1 else ""
    print(f"training on {len(corpus.training)} tunes ({corpus.transposed_copies} of them transposed copies; "
          f"{corpus.set_aside} set aside as validation tunes in another key; {len(training_ids):,} characters), "
          f"validating on {len(corpus.validation)}; vocabulary of {len(vocabulary)} characters; "
          f"{model.count_params():,} parameters; {where}{replicas} replica(s) sharing batches of "
          f"{options.batch_size}; run folder {run}", flush=True)
    with tempfile.TemporaryDirectory(prefix="livegen-worker-") as scratch:
        tracker = ValidationAndEarlyStop(run if workers.is_chief else Path(scratch), validation_ids,
                                         steps * options.batch_size * options.sequence_length, options.patience,
                                         record, workers, options.learning_rate_schedule == "plateau")
        batches = training_batches(workers, training_ids, options.batch_size, options.sequence_length, options.seed)
        # The tracker before the backup: an epoch the backup holds has its row, best model and record written,
        # whenever Ctrl-C lands.
        _fit(model, workers, batches, steps, options, [tracker, WholeBackup(str(backup))])
    if workers.count > 1:
        with suppress(OSError):
            backup.parent.rmdir()  # backup/, once every worker's own folder is gone
    if not workers.is_chief:
        print(f"worker {workers.index} done; the chief holds the run folder")
        return run / BEST_MODEL
    plot_loss_curve(tracker.history, run / "loss.png")
    print(f"best validation {tracker.best:.3f} bits/char; model {run / BEST_MODEL}; loss curve {run / 'loss.png'}")
    print(f"next: livegen export {run / BEST_MODEL} -o model.onnx")
    return run / BEST_MODEL


def _fit(model: keras.Model, workers: distribute.Workers, batches, steps: int, options: TrainingOptions,
         callbacks: list[keras.callbacks.Callback]) -> None:
    """Model.fit, with a worker lost mid-run (crash, preemption) told as what to do next."""
    try:
        with repaired_fit(workers.strategy):
            model.fit(batches, epochs=options.epochs, steps_per_epoch=steps, shuffle=False,
                      verbose=options.verbose, callbacks=callbacks)
    except tf.errors.UnavailableError:
        raise LivegenError("another worker stopped answering (see its log): start every worker again with the "
                           "same command and --resume, and each continues from its last epoch") from None


def _write_json(path: Path, data) -> None:
    """Replace path whole: a process killed while writing it must not leave it empty for --resume."""
    partial = path.with_name(path.name + ".partial")
    partial.write_text(json.dumps(data, indent=1))
    os.replace(partial, path)


def _training_record(options: TrainingOptions, corpus: CorpusSplit, config: ModelConfig,
                     workers: distribute.Workers) -> dict:
    parity_text = (corpus.validation[0].text + "\n" + corpus_text(corpus.validation[1:]))[:PARITY_CHARACTERS]
    return {
        "vocabulary": corpus.vocabulary.characters,
        "config": config.as_dict(),
        "corpus": str(options.data),
        "tunes": len(corpus.training) - corpus.transposed_copies,
        "transposed_copies": corpus.transposed_copies,
        "transposed_to": corpus.transposed_to,
        "set_aside": corpus.set_aside,
        "learning_rate_schedule": options.learning_rate_schedule,
        "validation_tunes": len(corpus.validation),
        "batch_size": options.batch_size,  # global: all replicas together
        "sequence_length": options.sequence_length,
        "learning_rate": options.learning_rate,
        "strategy": options.strategy,
        "workers": workers.count,
        "replicas": workers.strategy.num_replicas_in_sync,
        "mixed_precision": options.mixed_precision,
        "command": options.command,
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "parity_text": parity_text,
        "validation_texts": [tune.text + "\n" for tune in corpus.validation],
    }


def plot_loss_curve(history: list[dict], target: Path) -> None:
    """Training and validation bits/char per epoch, for the run folder."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot

    epochs = [row["epoch"] for row in history]
    figure, axes = pyplot.subplots(figsize=(6, 4))
    axes.plot(epochs, [row["training_bits_per_char"] for row in history], label="training")
    axes.plot(epochs, [row["validation_bits_per_char"] for row in history], label="validation (whole tunes)")
    axes.set_xlabel("epoch")
    axes.set_ylabel("bits per character")
    axes.legend()
    axes.grid(alpha=0.3)
    figure.tight_layout()
    figure.savefig(target, dpi=100)
    pyplot.close(figure)
