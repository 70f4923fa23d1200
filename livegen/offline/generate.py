"""Offline generation: many tunes at once, one engine batch row per tune being written.

Streams run in lockstep; when a tune ends, its row is zeroed and the next
tune starts there, so the batch stays full until the last tunes.
"""

from __future__ import annotations

import dataclasses
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from tqdm import tqdm

from livegen.compose.composer import MAX_LENGTH, TuneComposer, TunePlan
from livegen.compose.sampler import Sampler, SamplingSettings
from livegen.model.engine import Engine
from livegen.model.model_file import StepModelFile, load_model

STREAMS = 16  # tunes written at once by default: a batch costs little more per step than one tune on a CPU


@dataclasses.dataclass(frozen=True)
class SamplingRequest:
    """What `generate` and `eval` ask of a model: which one, how to draw, and how every tune opens."""

    plan: TunePlan  # every tune's; each gets its own number
    settings: SamplingSettings = dataclasses.field(default_factory=SamplingSettings)
    seed: int | None = None
    constrained: bool = True
    max_length: int = MAX_LENGTH
    streams: int = STREAMS
    model: Path | None = None  # None: the shipped model
    threads: int = 1  # onnxruntime's

    def tune_plan(self, index: int) -> TunePlan:
        return dataclasses.replace(self.plan, number=index + 1)


def sample_tunes(request: SamplingRequest, count: int) -> list[TuneComposer]:
    """count tunes as asked, with a progress bar on stderr; a bad metre, key or type is said before any composing."""
    model = load_model(request.model, threads=request.threads)
    request.tune_plan(0).header_after_title()
    with tqdm(total=count, unit="tune", desc="composing", file=sys.stderr, leave=False) as progress:
        return compose_tunes(model, count, request.tune_plan, request.settings, request.seed, request.constrained,
                             request.streams, request.max_length, lambda index, tune: progress.update(1))


def compose_tunes(model: StepModelFile, count: int, plan: Callable[[int], TunePlan],
                  settings: SamplingSettings, seed: int | None, constrained: bool = True,
                  streams: int = STREAMS, max_length: int = MAX_LENGTH,
                  on_finished: Callable[[int, TuneComposer], None] | None = None) -> list[TuneComposer]:
    """Write count tunes; plan(i) says how tune i opens. Same model, seed and settings: same tunes."""
    streams = max(1, min(streams, count))
    engine = Engine(model, streams)
    sampler = Sampler(settings, seed)
    vocabulary = model.vocabulary
    finished: dict[int, TuneComposer] = {}
    queued = iter(range(count))

    def start_next() -> tuple[int, TuneComposer] | None:
        index = next(queued, None)
        return None if index is None else (index, TuneComposer(plan(index), vocabulary, constrained, max_length))

    active = [start_next() for _ in range(streams)]
    logits: np.ndarray | None = None  # before the first step: every tune opens forced
    tokens = np.zeros(streams, dtype=np.int64)
    while any(slot is not None for slot in active):
        for row, slot in enumerate(active):
            if slot is None:
                continue
            index, composer = slot
            character = composer.next_character(sampler, None if logits is None else logits[row])
            composer.accept(character)
            if composer.finished:
                finished[index] = composer
                if on_finished is not None:
                    on_finished(index, composer)
                engine.reset(row)
                active[row] = slot = start_next()
                if slot is not None:  # the new tune's first character goes in this step
                    character = slot[1].next_character(sampler, None)
                    slot[1].accept(character)
            tokens[row] = vocabulary.id_of(character)
        logits = engine.step(tokens)
    return [finished[index] for index in range(count)]
