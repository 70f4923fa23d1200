"""Per-character step latency: the engine against the seed's way of stepping, in one run.

    python bench/step_latency.py --keras runs/default/best.keras

Pins itself to one core. Times, interleaved in rounds so machine noise falls
on every variant alike:
  - the shipped model through livegen's Engine (batch 1);
  - export variants built from the same Keras weights: float32 without the
    embedding fold, float32 folded, int8 folded; each at onnxruntime's
    graph-optimisation levels "all" and "disabled";
  - the seed's stepping: a stateful batch-1 Keras model called with
    predict_on_batch, same weights.
Then throughput (characters/s) of the shipped model at batch 1, 16 and 64.
Needs the training extra (for the Keras comparison and the variants).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import keras
import numpy as np
import onnx

import livegen.export  # noqa: F401  (quiets TensorFlow before it loads)
from livegen.export.model import ModelConfig, build_sequence_model
from livegen.export.onnx_export import convert_step_model, export_model, read_training_record
from livegen.model.engine import Engine
from livegen.model.model_file import load_model


def time_calls(call, count: int) -> list[float]:
    samples = []
    for _ in range(count):
        started = time.perf_counter()
        call()
        samples.append(time.perf_counter() - started)
    return samples


def engine_caller(path: Path, streams: int = 1, level: str = "all"):
    model = load_model(path, threads=1, optimise_graph=level == "all")
    engine = Engine(model, streams)
    tokens = np.full(streams, model.vocabulary.id_of("A"))
    return lambda: engine.step(tokens)


def seed_caller(keras_path: Path, config: ModelConfig):
    """The seed's live loop: a stateful batch-1 sequence model fed one character per predict_on_batch."""
    trained = keras.models.load_model(keras_path, compile=False)
    stateful = build_sequence_model(config, stateful=True, batch_size=1)
    for layer in stateful.layers:
        if layer.weights:
            layer.set_weights(trained.get_layer(layer.name).get_weights())
    token = np.array([[5]], dtype=np.int32)
    return lambda: stateful.predict_on_batch(token)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--keras", type=Path, default=Path("runs/default/best.keras"),
                        help="the Keras model the shipped ONNX model was exported from (training.json beside it)")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--steps", type=int, default=300, help="timed steps per variant per round")
    arguments = parser.parse_args()
    if not arguments.keras.is_file():
        sys.exit(f"step_latency: {arguments.keras} not found: pass --keras runs/<run>/best.keras")
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})

    config = ModelConfig(**read_training_record(arguments.keras)["config"])
    trained = keras.models.load_model(arguments.keras, compile=False)
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        unfolded = folder / "unfolded.onnx"
        export_model(arguments.keras, folder / "folded.onnx")
        export_model(arguments.keras, folder / "int8.onnx", weights="int8")
        plain = convert_step_model(trained, config, fold_embedding=False)
        reference = onnx.load(folder / "folded.onnx")
        plain.metadata_props.extend(reference.metadata_props)
        onnx.save(plain, unfolded)

        callers = {"engine, shipped model (batch 1)": engine_caller(None)}
        for name, path in (("float32 unfolded", unfolded), ("float32 folded", folder / "folded.onnx"),
                           ("int8 folded", folder / "int8.onnx")):
            for level in ("all", "disabled"):
                callers[f"{name}, ORT optimisation {level}"] = engine_caller(path, level=level)
        callers["seed: stateful Keras predict_on_batch"] = seed_caller(arguments.keras, config)

        samples: dict[str, list[float]] = {name: [] for name in callers}
        for _ in range(arguments.rounds):
            for name, call in callers.items():
                time_calls(call, 20)  # warm caches after the other variants ran
                samples[name] += time_calls(call, arguments.steps if "seed" not in name else arguments.steps // 10)

    medians = {name: statistics.median(values) * 1e6 for name, values in samples.items()}
    engine = medians["engine, shipped model (batch 1)"]
    print(f"\n{'variant':52}{'median us/step':>16}{'vs seed':>10}")
    for name, median in medians.items():
        print(f"{name:52}{median:>16.1f}{medians['seed: stateful Keras predict_on_batch'] / median:>9.1f}x")
    print(f"\nengine median {engine:.1f} us against the seed's "
          f"{medians['seed: stateful Keras predict_on_batch']:.1f} us: "
          f"{medians['seed: stateful Keras predict_on_batch'] / engine:.1f}x faster")

    print(f"\n{'batch':>6}{'median us/step':>16}{'characters/s':>14}")
    for streams in (1, 16, 64):
        call = engine_caller(None, streams)
        time_calls(call, 50)
        median = statistics.median(time_calls(call, 500))
        print(f"{streams:>6}{median * 1e6:>16.1f}{streams / median:>14,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
