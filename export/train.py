"""`livegen train`: fit the character model on a folder of ABC tunes.

A run lives in one folder: best.keras (the best validation score so far),
training.json (vocabulary, sizes, corpus and scores: everything export needs
for the model card), history.json (one row per epoch), loss.png, and backup/
(Keras BackupAndRestore, so --resume continues an interrupted run where it
stopped, optimizer state included).
"""

from __future__ import annotations

import json
import math
import sys
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import keras
import numpy as np

from export.corpus import Tune, corpus_text, load_tunes
from export.model import ModelConfig, bits_per_character, build_sequence_model
from livegen.errors import LivegenError
from livegen.vocab import Vocabulary

TRAINING_RECORD = "training.json"
HISTORY = "history.json"
BEST_MODEL = "best.keras"
PARITY_CHARACTERS = 500


@dataclass
class TrainingOptions:
    data: Path
    out: Path
    embedding: int = 512
    units: int = 256
    layers: int = 3
    dropout: float = 0.2
    epochs: int = 100
    batch_size: int = 64
    sequence_length: int = 128
    learning_rate: float = 2e-3
    patience: int = 3
    max_tunes: int | None = None
    seed: int = 0
    resume: bool = False
    command: str = "livegen train"
    verbose: int = field(default_factory=lambda: 1 if sys.stdout.isatty() else 2)


@dataclass(frozen=True)
class CorpusSplit:
    training: list[Tune]
    validation: list[Tune]
    vocabulary: Vocabulary


def split_corpus(data: Path, max_tunes: int | None = None) -> CorpusSplit:
    """Tunes of data, split by each tune's hash; the vocabulary covers both halves."""
    tunes = load_tunes(data)
    if max_tunes is not None:
        tunes = tunes[:max_tunes]
    if not tunes:
        raise LivegenError(f"no ABC tunes found under {data} (looked for X: lines in *.abc files)")
    validation = [tune for tune in tunes if tune.is_validation]
    training = [tune for tune in tunes if not tune.is_validation]
    if not validation:  # a handful of tunes may all hash into training
        validation, training = training[-1:], training[:-1] or training
    return CorpusSplit(training, validation, Vocabulary.from_text(corpus_text(tunes)))


class RandomWindows(keras.utils.PyDataset):
    """Batches of (input, next-character target) windows at fresh random offsets each epoch.

    Built by numpy fancy indexing over one int32 array of the corpus: no
    Python loop per character, no one-hot tensors.
    """

    def __init__(self, ids: np.ndarray, batch_size: int, sequence_length: int, seed: int):
        super().__init__()
        if len(ids) <= sequence_length + 1:
            raise LivegenError(
                f"the training text has {len(ids)} characters, too few for --sequence-length {sequence_length}"
            )
        self.ids = ids
        self.batch_size = batch_size
        self.offsets = np.arange(sequence_length + 1)
        self.batches = max(1, (len(ids) - 1) // (sequence_length * batch_size))
        self.rng = np.random.default_rng(seed)
        self.on_epoch_end()

    def __len__(self) -> int:
        return self.batches

    def __getitem__(self, index: int):
        starts = self.starts[index * self.batch_size:(index + 1) * self.batch_size]
        windows = self.ids[starts[:, None] + self.offsets]
        return windows[:, :-1], windows[:, 1:]

    def on_epoch_end(self):
        highest_start = len(self.ids) - len(self.offsets)
        self.starts = self.rng.integers(0, highest_start + 1, size=self.batches * self.batch_size)

    @property
    def characters_per_epoch(self) -> int:
        return self.batches * self.batch_size * (len(self.offsets) - 1)


class ValidationAndEarlyStop(keras.callbacks.Callback):
    """Scores whole validation tunes after each epoch, keeps the best model, stops on a plateau.

    One callback rather than Keras' EarlyStopping + ModelCheckpoint because
    their memory of the best score is lost on resume; here it is read back
    from history.json.
    """

    def __init__(self, run: Path, validation: list[np.ndarray], characters_per_epoch: int,
                 patience: int, record: dict):
        super().__init__()
        self.run = run
        self.validation = validation
        self.characters_per_epoch = characters_per_epoch
        self.patience = patience
        self.record = record
        self.history = json.loads((run / HISTORY).read_text()) if (run / HISTORY).exists() else []
        scores = [row["validation_bits_per_char"] for row in self.history]
        self.best = min(scores, default=math.inf)
        self.waited = len(scores) - 1 - scores.index(self.best) if scores else 0

    def on_epoch_begin(self, epoch, logs=None):
        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        seconds = time.perf_counter() - self.started
        score = bits_per_character(self.model, self.validation)
        row = {
            "epoch": epoch + 1,
            "training_bits_per_char": logs["loss"] / math.log(2),
            "validation_bits_per_char": score,
            "seconds": seconds,
            "characters_per_second": self.characters_per_epoch / seconds,
        }
        self.history.append(row)
        (self.run / HISTORY).write_text(json.dumps(self.history, indent=1))
        improved = score < self.best - 1e-4
        if improved:
            self.best, self.waited = score, 0
            self.model.save(self.run / BEST_MODEL)
            self.record.update(validation_bits_per_char=score, epochs=epoch + 1,
                               characters_per_second=row["characters_per_second"])
            (self.run / TRAINING_RECORD).write_text(json.dumps(self.record, indent=1))
        else:
            self.waited += 1
        print(f"epoch {epoch + 1}: training {row['training_bits_per_char']:.3f} bits/char, "
              f"validation {score:.3f} bits/char{' (best so far)' if improved else ''}, "
              f"{row['characters_per_second']:,.0f} characters/s", flush=True)
        if self.waited >= self.patience:
            print(f"validation has not improved for {self.patience} epochs: stopping", flush=True)
            self.model.stop_training = True


def train(options: TrainingOptions) -> Path:
    """Run (or resume) a training run; returns the path of the best model."""
    run = options.out
    backup = run / "backup"
    if options.resume and not backup.exists():
        raise LivegenError(f"nothing to resume in {run}: no interrupted training run is there")
    if not options.resume and (run / TRAINING_RECORD).exists():
        raise LivegenError(f"{run} already holds a training run: pass --resume to continue it, or choose another --out")
    run.mkdir(parents=True, exist_ok=True)
    keras.utils.set_random_seed(options.seed)

    corpus = split_corpus(options.data, options.max_tunes)
    vocabulary = corpus.vocabulary
    training_ids = vocabulary.encode(corpus_text(corpus.training))
    validation_ids = [vocabulary.encode(tune.text + "\n") for tune in corpus.validation]
    config = ModelConfig(len(vocabulary), options.embedding, options.units, options.layers, options.dropout)
    batches = RandomWindows(training_ids, options.batch_size, options.sequence_length, options.seed)

    record = _training_record(options, corpus, config)
    if options.resume and (run / TRAINING_RECORD).exists():
        record = {**json.loads((run / TRAINING_RECORD).read_text()), "command": record["command"]}
    model = build_sequence_model(config)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=options.learning_rate, clipnorm=1.0),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    print(f"training on {len(corpus.training)} tunes ({len(training_ids):,} characters), "
          f"validating on {len(corpus.validation)}; vocabulary of {len(vocabulary)} characters; "
          f"{model.count_params():,} parameters; run folder {run}", flush=True)
    tracker = ValidationAndEarlyStop(run, validation_ids, batches.characters_per_epoch, options.patience, record)
    model.fit(
        batches,
        epochs=options.epochs,
        verbose=options.verbose,
        callbacks=[keras.callbacks.BackupAndRestore(str(backup)), tracker],
    )
    plot_loss_curve(tracker.history, run / "loss.png")
    print(f"best validation {tracker.best:.3f} bits/char; model {run / BEST_MODEL}; loss curve {run / 'loss.png'}")
    print(f"next: livegen export {run / BEST_MODEL} -o model.onnx")
    return run / BEST_MODEL


def _training_record(options: TrainingOptions, corpus: CorpusSplit, config: ModelConfig) -> dict:
    parity_text = (corpus.validation[0].text + "\n" + corpus_text(corpus.validation[1:]))[:PARITY_CHARACTERS]
    return {
        "vocabulary": corpus.vocabulary.characters,
        "config": config.as_dict(),
        "corpus": str(options.data),
        "tunes": len(corpus.training),
        "validation_tunes": len(corpus.validation),
        "batch_size": options.batch_size,
        "sequence_length": options.sequence_length,
        "learning_rate": options.learning_rate,
        "command": options.command,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
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
