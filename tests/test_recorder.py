"""The session recording is written ahead, and a folder that fails is a warning, not the end of the music.

A SIGKILL mid-tune must leave files that open (abc2midi for the ABC, mido for
the MIDI) and hold every note played up to the last bar. A folder made
read-only or filled up mid-session pauses the recording and the music goes
on; once the folder can be written again, the recording catches up. The
read-only and full folders are a small tmpfs of the test's own (mounting one
needs root; CI runs as root).
"""

from __future__ import annotations

import errno
import logging
import os
import re
import shutil
import signal
import subprocess
import time
from pathlib import Path

import mido
import pytest
from conftest import require
from test_output import note_off, note_on

from livegen.realtime.midi_port import open_output
from livegen.realtime.recorder import FLUSH_S, SessionRecorder
from livegen.testing.abc2midi_reference import render_with_abc2midi
from livegen.testing.daemon_harness import note_ons, session_folder

TEMPO = 240.0
SECONDS_PER_BEAT = 60.0 / TEMPO
HEADER = "X:1\nT:Written ahead\nM:4/4\nL:1/8\nK:G\n"


class SmallDisk:
    """A tmpfs mounted on a folder, that a test can make read-only or fill, and then give back."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._filler = folder / "filler"

    def mount(self, size: str) -> None:
        result = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "livegen-test", str(self.folder)],
                                capture_output=True, text=True)
        require(result.returncode == 0, f"a tmpfs mounted by this test ({result.stderr.strip()})")

    def read_only(self, read_only: bool = True) -> None:
        """Remount; a file open for writing at that instant makes it busy, so try until it isn't."""
        deadline = time.monotonic() + 10.0
        while True:
            result = subprocess.run(["mount", "-o", f"remount,{'ro' if read_only else 'rw'}", str(self.folder)],
                                    capture_output=True, text=True)
            if result.returncode == 0:
                return
            assert time.monotonic() < deadline, result.stderr
            time.sleep(0.01)

    def fill(self) -> None:
        """Write a file until the disk is full."""
        with open(self._filler, "wb", buffering=0) as filler:
            try:
                while True:
                    filler.write(b"\0" * 65536)
            except OSError as error:
                assert error.errno == errno.ENOSPC, error

    def free(self) -> None:
        self._filler.unlink()

    def unmount(self) -> None:
        subprocess.run(["umount", "-l", str(self.folder)], capture_output=True)


@pytest.fixture
def small_disk(tmp_path):
    """tmp_path on a 4 MB tmpfs of its own (requested before `livegen`, so livegen stops before it goes)."""
    require(os.geteuid() == 0 and shutil.which("mount") is not None, "root, to mount a small tmpfs")
    disk = SmallDisk(tmp_path)
    disk.mount("4m")
    yield disk
    disk.unmount()


def wait_until(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, f"timed out after {timeout} s waiting for {what}"
        time.sleep(0.02)


def midi_note_ons(path: Path) -> dict[int, list[int]]:
    """The pitches of each channel's note-ons in a MIDI file, in order (which mido must be able to read)."""
    channels: dict[int, list[int]] = {}
    for track in mido.MidiFile(path).tracks:
        for message in track:
            if message.type == "note_on" and message.velocity > 0:
                channels.setdefault(message.channel, []).append(message.note)
    return channels


def received_note_ons(received) -> dict[int, list[int]]:
    channels: dict[int, list[int]] = {}
    for record in note_ons(received):
        channels.setdefault(record.message.channel, []).append(record.message.note)
    return channels


def assert_recorded_everything(folder: Path, received) -> None:
    """session.mid holds exactly the note-ons the reader got, channel by channel, and session.abc opens."""
    assert midi_note_ons(folder / "session.mid") == received_note_ons(received)
    assert not list(folder.glob("*.partial"))
    assert render_with_abc2midi((folder / "session.abc").read_text()).notes


def test_a_tune_is_on_disk_bar_by_bar_before_it_ends(jack_server, tmp_path):
    recorder = SessionRecorder(tmp_path, TEMPO)
    port = recorder.port(open_output("Recorded", backend="jack"))
    try:
        text = list(HEADER + "GABc")
        recorder.tune_progress(text)
        text += list("d2B2|")
        recorder.tune_progress(text)
        port.send(note_on(67))
        port.send(note_off(67))
        wait_until(lambda: recorder.abc_path.exists() and recorder.abc_path.read_text().endswith("d2B2|"),
                   2 * FLUSH_S, "the first bar in session.abc")
        wait_until(lambda: recorder.midi_path.exists(), 2 * FLUSH_S, "session.mid")
        assert midi_note_ons(recorder.midi_path) == {0: [67]}
        text += list("g4|]\n\n")  # the model may end a tune with a blank line of its own
        recorder.tune_progress(text)
        recorder.tune_finished("".join(text), finished=True)
        second = list("X:2\nT:Cut short\nK:D\nDEF|")
        recorder.tune_progress(second)
        recorder.tune_finished("".join(second), finished=False)
    finally:
        port.close()
        recorder.close()
    assert recorder.abc_path.read_text() == (HEADER + "GABcd2B2|g4|]\n\n" + "X:2\nT:Cut short\nK:D\nDEF|\n"
                                             "% unfinished: livegen stopped writing this tune here\n\n")


def test_a_folder_that_fails_pauses_the_recording_and_it_catches_up(jack_server, small_disk, caplog):
    caplog.set_level(logging.WARNING, logger="livegen.realtime.recorder")
    recorder = SessionRecorder(small_disk.folder, TEMPO)
    port = recorder.port(open_output("Paused", backend="jack"))
    try:
        text = list(HEADER + "GABc|")
        recorder.tune_progress(text)
        wait_until(lambda: recorder.abc_path.exists(), 2 * FLUSH_S, "session.abc")
        small_disk.read_only()
        assert recorder.write_error_log("a traceback") is None
        text += list("d4|")
        recorder.tune_progress(text)
        port.send(note_on(62))
        wait_until(lambda: "recording paused" in caplog.text, 2 * FLUSH_S, "the warning")
        small_disk.read_only(False)
        wait_until(lambda: "recording resumed" in caplog.text, 2 * FLUSH_S, "recording to resume")
        assert recorder.abc_path.read_text() == HEADER + "GABc|d4|"
        assert midi_note_ons(recorder.midi_path) == {0: [62]}
        assert recorder.write_error_log("a traceback") == recorder.folder / "error.log"
    finally:
        port.close()
        recorder.close()


def bar_beats(abc: str) -> float:
    """The longest bar any tune of the session has, in beats (quarter notes)."""
    lengths = [4.0]
    for numerator, denominator in re.findall(r"^M:\s*(\d+)/(\d+)", abc, re.MULTILINE):
        lengths.append(4.0 * int(numerator) / int(denominator))
    return max(lengths)


def test_sigkill_mid_tune_loses_at_most_the_last_bar(livegen, midi_reader, tmp_path, abc2midi):
    reader = midi_reader(name="daw")
    run = livegen(reader.port, "--tempo", str(TEMPO), "--seed", "3", "--quiet")
    reader.wait_for(lambda records: len(note_ons(records)) >= 24, 30.0, "24 notes")
    run.process.kill()
    killed_at = time.monotonic()
    run.process.wait(10)
    received = reader.received()

    folder = session_folder(tmp_path)
    abc = (folder / "session.abc").read_text()
    assert abc.count("X:") == 1, "still in the first tune: --max-length is the default"
    bar_s = bar_beats(abc) * SECONDS_PER_BEAT
    before_last_bar = [record for record in received if record.arrival < killed_at - bar_s]
    recorded = midi_note_ons(folder / "session.mid")
    heard = received_note_ons(received)
    for channel, pitches in received_note_ons(before_last_bar).items():
        assert len(recorded.get(channel, [])) >= len(pitches), f"channel {channel}: notes lost"
        assert recorded[channel] == heard[channel][:len(recorded[channel])], f"channel {channel}: not what was sent"
    melody_played = len(received_note_ons(before_last_bar).get(0, []))
    assert len(render_with_abc2midi(abc).channel_notes(0)) >= melody_played


@pytest.mark.parametrize("fault", ["read-only", "full"])
def test_a_folder_failing_mid_session_is_a_warning_and_the_music_goes_on(small_disk, livegen, midi_reader, fault):
    break_it, mend_it = {"read-only": (small_disk.read_only, lambda: small_disk.read_only(False)),
                         "full": (small_disk.fill, small_disk.free)}[fault]
    reader = midi_reader(name="daw")
    run = livegen(reader.port, "--tempo", str(TEMPO), "--max-length", "160", "--seed", "1", "--quiet")
    reader.wait_for(lambda records: len(note_ons(records)) >= 4, 30.0, "the first notes")
    break_it()
    run.wait_for_line("recording paused", 5.0)
    count = len(note_ons(reader.received()))
    reader.wait_for(lambda records: len(note_ons(records)) >= count + 16, 30.0, f"notes while the folder is {fault}")
    mend_it()
    run.wait_for_line("recording resumed", 5.0)
    run.process.send_signal(signal.SIGINT)
    status, stderr = run.finish(15.0)
    assert status == 0, stderr
    assert_recorded_everything(session_folder(small_disk.folder), reader.received())
