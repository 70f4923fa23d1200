"""What writing tunes costs: offline characters per second, and the live generation thread's cost per character.

    python bench/generation_speed.py            # 64 tunes at batch 16, then 4 tunes one character at a time

Offline: compose_tunes with 16 streams, as `livegen generate` runs it
(engine steps, sampling under the constraints, parsing); characters per
second of wall clock. Live: one stream stepped the way the live session's
generation thread does it (engine step, a drawn character, the composer,
LivePlayer.add), timed per character with the share spent in the composer
(drawing under the constraints and parsing) shown apart.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from datetime import datetime

import numpy as np

from livegen.compose.composer import TuneComposer, TunePlan
from livegen.compose.sampler import Sampler, SamplingSettings
from livegen.model.engine import Engine
from livegen.model.model_file import load_model
from livegen.offline.generate import compose_tunes
from livegen.perform.arrangement import ArrangementSettings
from livegen.perform.live_player import LivePlayer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tunes", type=int, default=64, help="tunes written offline")
    parser.add_argument("--live-tunes", type=int, default=4, help="tunes written one character at a time")
    parser.add_argument("--seed", type=int, default=101)
    options = parser.parse_args()
    model = load_model(threads=1)
    print(f"{datetime.now():%Y-%m-%d %H:%M} {platform.node()} {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    started = time.perf_counter()
    tunes = compose_tunes(model, options.tunes, lambda i: TunePlan(number=i + 1), SamplingSettings(), options.seed)
    spent = time.perf_counter() - started
    characters = sum(len(tune.text) for tune in tunes)
    print(f"offline, batch 16: {options.tunes} tunes, {characters} characters in {spent:.1f} s: "
          f"{characters / spent:,.0f} characters/s")
    total, composing, characters = live_cost(model, options.live_tunes, options.seed)
    print(f"live, batch 1: {characters} characters, {total / characters * 1e6:.0f} us per character, "
          f"of which the composer {composing / characters * 1e6:.0f} us")
    return 0


def live_cost(model, count: int, seed: int) -> tuple[float, float, int]:
    """Seconds in all and in the composer, and characters written, over count tunes written as the live thread does."""
    engine, sampler = Engine(model, 1), Sampler(SamplingSettings(), seed)
    total = composing = 0.0
    characters = 0
    for number in range(1, count + 1):
        composer = TuneComposer(TunePlan(number=number), model.vocabulary)
        player = LivePlayer(ArrangementSettings())
        engine.reset()
        logits = None
        while not composer.finished:
            started = time.perf_counter()
            character = draw(composer, sampler, logits)
            events = composer.accept(character)
            composed = time.perf_counter()
            if events:
                player.add(events)
            logits = engine.step(np.array([model.vocabulary.id_of(character)]))
            finished = time.perf_counter()
            total, composing = total + finished - started, composing + composed - started
            characters += 1
    return total, composing, characters


def draw(composer: TuneComposer, sampler: Sampler, logits) -> str:
    """The composer's next character given the logits of the last step (None before the first)."""
    return composer.next_character(sampler, None if logits is None else logits[0])


if __name__ == "__main__":
    sys.exit(main())
