"""Every mistake a user can make on the command line: one line on stderr, exit status 2, before any slow work.

Each case runs `python -m livegen` in a fresh process. Where a mistake must be
caught before the model is opened, the command also names a model file that
does not exist: checked too late, the error would be about the model. Where it
must be caught before TensorFlow loads, TensorFlow is made unimportable: loaded
first, the error would be about the missing training extra. matplotlib is made
missing the same way, as it is on an install without the plot extra.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import mido
import pytest

from livegen.realtime.midi_port import compiled_backends

NO_MODEL = ["--model", "/nonexistent/model.onnx"]
BAD_METRES_AND_TEMPOS = """X:1
T:Wide
M:300/4
L:1/4
K:C
CDEF|

X:2
T:Sevenths
M:5/7
L:1/8
K:C
CDEFG|

X:3
T:Slow
Q:1/9999=1
M:4/4
L:1/4
K:C
CDEF|
"""


def livegen(arguments: list[str], missing_module: str | None = None, before: str = "",
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m livegen ARGUMENTS`, with `missing_module` unimportable (as if not installed), after `before`."""
    block = f"sys.modules[{missing_module!r}] = None; " if missing_module else ""
    program = (f"import runpy, sys; {block}{before}sys.argv = ['livegen', *sys.argv[1:]]; "
               "runpy.run_module('livegen', run_name='__main__')")
    return subprocess.run([sys.executable, "-c", program, *arguments], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).parents[1], env=env)


@pytest.fixture
def a_file(tmp_path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("not a folder")
    return path


@pytest.fixture
def finished_run(tmp_path) -> Path:
    """A run folder whose training record is written, as a finished run leaves it."""
    run = tmp_path / "finished"
    run.mkdir()
    (run / "training.json").write_text("{}")
    return run


CASES = {
    "output folder is a file": (["generate", "-o", "{a_file}", "-n", "1", *NO_MODEL], None, "is a file, not a folder"),
    "output folder inside a file": (["render", "{a_file}", "-o", "{a_file}/out"], None, "is a file, not a folder"),
    "OSC port out of range": (["run", "--osc-port", "70000"], None, "a port number is 0-65535"),
    "a MIDI value that is no number": (["run", "--accent", "x"], None, "'x' is not a whole number"),
    "no tunes": (["generate", "-n", "0", *NO_MODEL], None, "at least 1"),
    "negative tunes": (["generate", "-n", "-3", *NO_MODEL], None, "at least 1"),
    "zero streams": (["generate", "--streams", "0", *NO_MODEL], None, "at least 1"),
    "zero tempo": (["render", "{a_file}", "--tempo", "0"], None, "a MIDI file holds tempos"),
    "NaN tempo": (["generate", "--tempo", "nan", *NO_MODEL], None, "not a finite number"),
    "a metre no MIDI file holds": (["generate", "--meter", "5/7", *NO_MODEL], None, "powers of 2"),
    "a metre too wide for a MIDI file": (["generate", "--meter", "300/4", *NO_MODEL], None, "numerators up to 255"),
    "plot without matplotlib": (["generate", "--plot", "-n", "1", *NO_MODEL], "matplotlib", "--plot needs matplotlib"),
    "export of a missing model": (["export", "/nonexistent.keras"], "tensorflow", "no such file"),
    "export onto a folder": (["export", "{a_file}", "-o", "{tmp_path}"], "tensorflow", "is a folder"),
    "train on a missing folder": (["train", "--data", "/nonexistent"], "tensorflow", "is not a folder"),
    "train into a file": (["train", "--data", "{tmp_path}", "--out", "{a_file}"], "tensorflow", "is a file"),
    "train with no epochs": (["train", "--epochs", "0"], "tensorflow", "at least 1"),
    "train with dropout 1": (["train", "--dropout", "1"], "tensorflow", "less than 1"),
    "train --resume with nothing to resume": (["train", "--data", "{tmp_path}", "--out", "{tmp_path}/new", "--resume"],
                                              "tensorflow", "nothing to resume"),
    "train into a finished run": (["train", "--data", "{tmp_path}", "--out", "{finished_run}"], "tensorflow",
                                  "already holds a training run"),
    "an unknown option": (["generate", "--no-such-option"], None, "unrecognized arguments"),
}


@pytest.mark.parametrize("case", CASES)
def test_a_mistake_is_one_line_and_status_2_before_any_slow_work(case, a_file, finished_run, tmp_path):
    arguments, missing_module, reason = CASES[case]
    arguments = [argument.format(a_file=a_file, tmp_path=tmp_path, finished_run=finished_run)
                 for argument in arguments]
    result = livegen(arguments, missing_module)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("livegen: error: "), result.stderr
    assert reason in result.stderr, result.stderr
    assert result.stdout == ""


def test_render_writes_what_a_midi_file_cannot_hold_as_near_as_it_can_with_a_warning_each(tmp_path):
    abc = tmp_path / "odd.abc"
    abc.write_text(BAD_METRES_AND_TEMPOS)
    result = livegen(["render", str(abc), "-o", str(tmp_path / "out")])
    assert result.returncode == 0, result.stderr
    warnings = result.stderr.splitlines()
    assert len(warnings) == 3 and all(line.startswith("livegen: ") for line in warnings), result.stderr
    assert "300/4" in warnings[0] and "5/7" in warnings[1] and "0.0004 BPM" in warnings[2]
    files = sorted((tmp_path / "out").glob("*.mid"))
    assert [path.name for path in files] == ["01-wide.mid", "02-sevenths.mid", "03-slow.mid"]
    for path, notes, metre in zip(files, (4, 5, 4), (None, None, (4, 4))):
        midi = mido.MidiFile(path)  # mido reads back what it wrote: the file is whole
        assert sum(message.type == "note_on" for message in midi) == notes
        signatures = [(message.numerator, message.denominator) for message in midi.tracks[0]
                      if message.type == "time_signature"]
        assert signatures == ([metre] if metre else [])
    slow = next(message for message in mido.MidiFile(files[2]).tracks[0] if message.type == "set_tempo")
    assert slow.tempo == 0xFFFFFF  # the slowest tempo a MIDI file holds


def test_a_note_longer_than_a_midi_file_can_wait_is_shortened_with_a_warning(tmp_path):
    abc = tmp_path / "long.abc"
    abc.write_text("X:1\nT:Long\nM:4/4\nL:9999/1\nK:C\nA9999 B|\n")
    result = livegen(["render", str(abc), "-o", str(tmp_path / "out")])
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("\n") == 1 and "longer than a MIDI file can hold" in result.stderr
    track = mido.MidiFile(tmp_path / "out" / "01-long.mid").tracks[1]
    assert max(message.time for message in track) == 0x0FFFFFFF
    assert [message.type for message in track if not message.is_meta] == ["note_on", "note_off"] * 2


def test_generate_writes_a_tune_whose_own_metre_no_midi_file_holds(tmp_path):
    prime = "X:1\\nT:Sevenths\\nM:5/7\\nL:1/8\\nK:G\\n"
    result = livegen(["generate", "-n", "1", "--prime", prime, "--max-length", "200", "--seed", "3",
                      "-o", str(tmp_path)])
    assert result.returncode == 0, result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("livegen")]  # not the progress bar
    assert len(lines) == 1 and "the metre 5/7 is left out" in lines[0], result.stderr
    (midi,) = tmp_path.glob("*.mid")
    assert not any(message.type == "time_signature" for message in mido.MidiFile(midi))


def test_a_jack_server_gone_between_the_probe_and_the_listing_is_one_line(tmp_path):
    """Listing ports opens JACK clients too. A server that went away after the backend was probed (other JACK
    clients coming and going made this 2 starts in 9) once gave "internal error: SystemError: MidiInJack::
    initialize: JACK server not running?". Here the probe is passed over and no server of that name runs."""
    if "jack" not in compiled_backends():
        pytest.skip("this python-rtmidi has no JACK backend")
    passed_probe = "import livegen.realtime.midi_port as ports; ports._problem = lambda backend: None; "
    env = {**os.environ, "JACK_DEFAULT_SERVER": f"livegen-no-such-server-{os.getpid()}"}
    run = livegen(["run", "--backend", "jack", "--no-osc", "--no-cc", "--tunes", "1", "--record", str(tmp_path)],
                  before=passed_probe, env=env)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert run.stderr.count("\n") == 1 and "livegen: error: could not open MIDI port 'LiveGen' on jack" in run.stderr
    listing = livegen(["ports"], before=passed_probe, env=env)
    assert listing.returncode == 0 and listing.stderr == "", listing.stderr
    assert "jack: not available: could not open jack MIDI" in listing.stdout
