"""The seed project's training procedure, to compare the shipped model against.

Same architecture and corpus split as `livegen train`, trained the way the
seed did it: batch 16, sequences of 64, a stateful LSTM carrying its state
from one batch to the next along 16 contiguous streams of the corpus, softmax
outputs with one-hot targets and categorical cross-entropy, Adam at Keras'
default rate. Both models are scored by the same function
(livegen.export.model.bits_per_character: whole validation tunes from a zero state).

    python bench/seed_baseline.py --epochs 12             # as many epochs as the shipped model
    python bench/seed_baseline.py --minutes 60            # or a wall-clock budget

Prints one line per epoch and a final side-by-side with the shipped model's card.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import keras
import numpy as np

import livegen.export  # noqa: F401  (quiets TensorFlow before it loads)
from livegen.export.corpus import corpus_text
from livegen.export.model import ModelConfig, bits_per_character, build_sequence_model, logits_model
from livegen.export.train import split_corpus
from livegen.model.model_file import load_model
from livegen.offline.default_corpus import DEFAULT_CORPUS

BATCH_SIZE = 16
SEQUENCE_LENGTH = 64


def stream_batches(ids: np.ndarray):
    """Batch k holds the k-th 64-character slice of each of 16 contiguous streams."""
    stream_length = (len(ids) - 1) // BATCH_SIZE
    steps = stream_length // SEQUENCE_LENGTH
    inputs = ids[:BATCH_SIZE * stream_length].reshape(BATCH_SIZE, stream_length)
    targets = ids[1:BATCH_SIZE * stream_length + 1].reshape(BATCH_SIZE, stream_length)
    for step in range(steps):
        window = slice(step * SEQUENCE_LENGTH, (step + 1) * SEQUENCE_LENGTH)
        yield inputs[:, window], targets[:, window]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_CORPUS)
    budget = parser.add_mutually_exclusive_group(required=True)
    budget.add_argument("--epochs", type=int, help="train this many epochs")
    budget.add_argument("--minutes", type=float, help="train whole epochs until this much wall-clock time is used")
    parser.add_argument("--json", type=Path, help="also write the per-epoch results here")
    arguments = parser.parse_args()

    keras.utils.set_random_seed(0)
    corpus = split_corpus(arguments.data)
    vocabulary = corpus.vocabulary
    training_ids = vocabulary.encode(corpus_text(corpus.training))
    validation = [vocabulary.encode(tune.text + "\n") for tune in corpus.validation]
    config = ModelConfig(len(vocabulary))
    model = build_sequence_model(config, stateful=True, batch_size=BATCH_SIZE, softmax=True)
    model.compile(optimizer=keras.optimizers.Adam(), loss="categorical_crossentropy")
    one_hot = np.eye(len(vocabulary), dtype=np.float32)

    rows = []
    started = time.perf_counter()
    epoch = 0
    while True:
        epoch += 1
        epoch_started = time.perf_counter()
        for layer in model.layers:
            if hasattr(layer, "reset_states"):
                layer.reset_states()
        characters = 0
        for inputs, targets in stream_batches(training_ids):
            loss = model.train_on_batch(inputs, one_hot[targets])
            characters += inputs.size
        seconds = time.perf_counter() - epoch_started
        score = bits_per_character(logits_model(model, config), validation)
        rows.append({"epoch": epoch, "training_loss_nats": float(loss), "validation_bits_per_char": score,
                     "characters_per_second": characters / seconds, "seconds": seconds})
        print(f"seed epoch {epoch}: validation {score:.3f} bits/char, {characters / seconds:,.0f} characters/s",
              flush=True)
        elapsed_minutes = (time.perf_counter() - started) / 60
        if arguments.epochs is not None and epoch >= arguments.epochs:
            break
        if arguments.minutes is not None and elapsed_minutes + seconds / 60 > arguments.minutes:
            break

    if arguments.json:
        arguments.json.write_text(json.dumps(rows, indent=1))
    shipped = load_model().card
    best = min(row["validation_bits_per_char"] for row in rows)
    throughput = float(np.median([row["characters_per_second"] for row in rows]))
    print(f"\n{'':24}{'validation bits/char':>22}{'epochs':>8}{'characters/s':>14}")
    print(f"{'seed procedure (best)':24}{best:>22.3f}{epoch:>8}{throughput:>14,.0f}")
    print(f"{'seed procedure (last)':24}{rows[-1]['validation_bits_per_char']:>22.3f}{epoch:>8}")
    print(f"{'shipped model':24}{shipped['validation_bits_per_char']:>22.3f}{shipped['epochs']:>8}"
          f"{shipped.get('characters_per_second') or 0:>14,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
