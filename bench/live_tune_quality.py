"""The live path judged like offline generation (issue 11): the session.abc of a `livegen run`, through `livegen eval`.

A private JACK server (dummy driver), `livegen run --record` for the given
minutes at the given tempo, then SIGINT; the tunes it finished (the one in
progress at the stop is left out) are judged by eval beside the corpus, and
the table printed for docs/BENCHMARKS.md.

    nice -n 10 python bench/live_tune_quality.py [--minutes 10] [--tempo 240] [--seed 2026]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from datetime import datetime
from pathlib import Path

from livegen.offline.default_corpus import DEFAULT_CORPUS
from livegen.offline.evaluate import compare_with_corpus, read_abc_texts
from livegen.testing.daemon_harness import Livegen, session_folder
from livegen.testing.jack_harness import JackServer


def record_session(minutes: float, options: list[str], record: Path) -> Path:
    server = JackServer(f"livegen-quality-{datetime.now():%H%M%S}")
    server.start()
    os.environ["JACK_DEFAULT_SERVER"] = server.name
    try:
        livegen = Livegen(record, "livegen-quality", *options)
        try:
            livegen.wait_started()
            time.sleep(minutes * 60)  # the run's length is what is measured, not a wait for a condition
        finally:
            livegen.stop()
    finally:
        server.close()
    return session_folder(record) / "session.abc"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--tempo", type=float, default=240.0)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("extra", nargs="*", help="more run options after --, e.g. -- --form AABB")
    arguments = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        session = record_session(arguments.minutes, ["--tempo", str(arguments.tempo), "--seed", str(arguments.seed),
                                                     *arguments.extra], Path(folder))
        tunes = read_abc_texts(session)[:-1]  # the last was cut short by the stop
    print(f"{len(tunes)} finished tunes in {arguments.minutes:g} minutes at {arguments.tempo:g} BPM")
    print(compare_with_corpus(tunes, read_abc_texts(arguments.corpus)).table())


if __name__ == "__main__":
    main()
