"""Steering a running `livegen run` over real UDP (OSC) and MIDI CC on a JACK server, and hearing the change.

What was heard is lined up, note for note, with the tunes the session wrote
down (session.abc, rendered as the player plays it): the received melody is
those tunes' melody in order, so each note's written beat and pitch are
known, and a change shows as a changed ratio of seconds to beats, a pitch
offset, a velocity, or a different kind of tune.
"""

from __future__ import annotations

import random
import signal
import socket
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

import mido
import pytest
from test_osc import FeedbackReader, message
from test_output import is_all_notes_off, left_sounding

from livegen.abc import parse_tunes
from livegen.abc.collection import read_abc_file
from livegen.control.parameters import FEEDBACK_HERE, PARAMETERS, TUNE_BAR, TUNE_NOTE, TUNE_TITLE, VALUE_PARAMETERS
from livegen.perform.arrangement import PerformedNote
from livegen.perform.render import perform
from livegen.realtime.midi_port import open_output
from livegen.testing.bad_osc import flood_packets
from livegen.testing.daemon_harness import note_ons, session_folder

MELODY = 0  # channel
RECORDING_LAG_S = 3.0  # session.abc is brought up to date at each bar line written and at least once a second
JITTER_S = 0.05  # the most one note may arrive off its time, on a machine busy with other work


class Osc:
    """A UDP client for the daemon's OSC port."""

    def __init__(self, port: int):
        self.port = port
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)

    def send(self, address: str, *arguments) -> None:
        self.socket.sendto(message(address, *arguments), ("127.0.0.1", self.port))

    def send_raw(self, datagram: bytes) -> None:
        self.socket.sendto(datagram, ("127.0.0.1", self.port))

    def close(self) -> None:
        self.socket.close()


@dataclass(frozen=True)
class HeardNote:
    arrival: float
    velocity: int
    pitch: int  # as heard
    written_pitch: int  # as the tune's text and the arrangement have it, untransposed
    beat: float  # in the tune, as written
    tune: int  # 0 for the session's first tune


def steered(livegen, midi_reader, *options: str):
    """`livegen run` playing into a reader's port (so not a note is missed), and an OSC client for it."""
    reader = midi_reader(name="daw")
    run = livegen(reader.port, "--quiet", *options)
    run.wait_started()
    return run, reader, Osc(run.osc_port())


def written_melody(folder: Path) -> list[tuple[int, PerformedNote]]:
    """The session's melody as written so far, each note with its tune's index."""
    return [(index, note) for index, events in enumerate(parse_tunes(read_abc_file(folder / "session.abc")))
            for note in perform(events).notes if note.channel == MELODY]


def heard_melody(received, folder: Path) -> list[HeardNote]:
    """The melody heard, note by note against the session's tunes (untransposed); fails if they don't line up."""
    heard = [record for record in note_ons(received) if record.message.channel == MELODY]
    deadline = time.monotonic() + RECORDING_LAG_S  # while running, session.abc may lag what was just heard
    while len(written := written_melody(folder)) < len(heard) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(heard) <= len(written), "more melody heard than written"
    return [HeardNote(record.arrival, record.message.velocity, record.message.note, note.pitch, float(note.start),
                      index) for record, (index, note) in zip(heard, written)]


def seconds_per_beat(notes: list[HeardNote]) -> float:
    """Median over consecutive notes of one tune: seconds between their arrivals per beat between their onsets."""
    return statistics.median((b.arrival - a.arrival) / (b.beat - a.beat) for a, b in zip(notes, notes[1:])
                             if a.tune == b.tune and b.beat > a.beat)


def mean_leap(notes: list[HeardNote]) -> float:
    """Mean size of the melody's steps in semitones: how far the choices spread."""
    return statistics.mean(abs(b.pitch - a.pitch) for a, b in zip(notes, notes[1:]))


def melody_count(records) -> int:
    return sum(record.message.channel == MELODY for record in note_ons(records))


def wait_for_melody(reader, count: int, timeout: float = 15.0):
    return reader.wait_for(lambda records: melody_count(records) >= count, timeout, f"{count} melody notes")


def stop_cleanly(run) -> None:
    run.process.send_signal(signal.SIGINT)
    status, stderr = run.finish(15.0)
    assert status == 0, stderr


def test_tempo_transpose_and_a_cc_change_what_is_played(livegen, jack_server, midi_reader, tmp_path):
    run, reader, osc = steered(livegen, midi_reader, "--tempo", "120", "--seed", "3", "--max-length", "3000",
                               "--control-port", "LiveGenCC")
    with open_output("knobs", "jack") as knobs:
        jack_server.connect("knobs:knobs", "LiveGenCC:LiveGenCC")
        try:
            count = melody_count(wait_for_melody(reader, 8))
            osc.send("/livegen/tempo", 240.0)
            osc.send("/livegen/transpose/norm", 19 / 24)  # +7 semitones
            knobs.send(mido.Message("control_change", control=PARAMETERS["velocity"].cc, value=127))
            wait_for_melody(reader, count + 24)
        finally:
            osc.close()
    stop_cleanly(run)
    notes = heard_melody(reader.received(), session_folder(tmp_path))
    offsets = [note.pitch - note.written_pitch for note in notes]
    assert offsets[:8] == [0] * 8 and offsets[-12:] == [7] * 12, offsets
    assert offsets == sorted(offsets), "transposed once, and for good"
    assert seconds_per_beat(notes[:8]) == pytest.approx(0.5, rel=0.1)
    assert seconds_per_beat(notes[-12:]) == pytest.approx(0.25, rel=0.1)
    for a, b in zip(notes, notes[1:]):  # notes queued before the change keep their time: no burst, no gap
        beats = b.beat - a.beat  # (jitter on a busy machine, with jackd not real-time, reached 26 ms)
        assert 0.25 * beats - JITTER_S <= b.arrival - a.arrival <= 0.5 * beats + JITTER_S, (a, b)
    assert all(note.velocity < 127 for note in notes[:8]) and all(note.velocity == 127 for note in notes[-12:])


def test_temperature_changes_the_spread_and_new_tune_starts_a_fresh_header(livegen, midi_reader, tmp_path):
    """Key, metre and temperature asked for mid-tune; new_tune ends the tune at a bar line and the next has them."""
    run, reader, osc = steered(livegen, midi_reader, "--tempo", "240", "--seed", "5", "--max-length", "3000",
                               "--temperature", "0.05")
    try:
        wait_for_melody(reader, 30)
        for address, value in [("/livegen/key", "D"), ("/livegen/mode", "dorian"), ("/livegen/meter", "3/4"),
                               ("/livegen/temperature", 3.0)]:
            osc.send(address, value)
        osc.send("/livegen/new_tune", 1)
        folder = session_folder(tmp_path)
        session_abc = folder / "session.abc"  # written ahead: a tune's text as the model writes it
        # the tune ends at the next bar line written; one that was just written can be a repeat, so the
        # next tune may start only once that strain has been played again
        reader.wait_for(lambda records: "X:2" in session_abc.read_text(), 30.0, "the second tune's header")
        wait_for_melody(reader, melody_count(reader.received()) + 80, 30.0)
    finally:
        osc.close()
    stop_cleanly(run)
    tunes = (folder / "session.abc").read_text().split("\n\n")
    first, second = tunes[0], tunes[1]
    assert "% unfinished" not in first and first.rstrip().endswith(("|]", ":|")), first[-80:]
    assert len(first) < 0.8 * 3000  # ended on request, not by length
    assert second.startswith("X:2\nT:") and "\nM:3/4\n" in second and "\nK:Ddor\n" in second, second[:80]
    notes = heard_melody(reader.received(), folder)
    cold = [note for note in notes if note.tune == 0][:30]
    hot = [note for note in notes if note.tune >= 1]
    assert len(cold) == 30 and len(hot) >= 30
    assert mean_leap(hot) > 1.5 * mean_leap(cold), (mean_leap(cold), mean_leap(hot))


def test_stop_and_panic_silence_everything_and_the_music_starts_afresh_with_feedback(livegen, midi_reader):
    run, reader, osc = steered(livegen, midi_reader, "--tempo", "240", "--seed", "1", "--max-length", "3000")
    feedback = FeedbackReader()
    try:
        osc.send(FEEDBACK_HERE, feedback.port)
        wait_for_melody(reader, 6)
        latest = feedback.wait_for(lambda latest: latest.get(TUNE_BAR, 0) >= 1 and latest.get(TUNE_NOTE)
                                   and latest.get(TUNE_TITLE), "tune title, bar and note")
        assert latest["/livegen/play"] == 1

        stopped_at = time.monotonic()
        osc.send("/livegen/play", 0)
        reader.wait_for(lambda records: any(is_all_notes_off(r.message) and r.arrival > stopped_at for r in records)
                        and not left_sounding([r.message for r in records]), 5.0, "silence after stop")
        feedback.wait_for(lambda latest: latest.get("/livegen/play") == 0, "play off")
        quiet_from = time.monotonic()
        time.sleep(1.0)  # a second of silence is the thing being tested
        assert not [r for r in note_ons(reader.received()) if r.arrival > quiet_from]

        osc.send("/livegen/play/norm", 1.0)
        count = len(note_ons(reader.received()))
        reader.wait_for(lambda records: len(note_ons(records)) >= count + 4, 10.0, "notes after play")

        panicked_at = time.monotonic()
        osc.send("/livegen/panic")
        reader.wait_for(lambda records: any(is_all_notes_off(r.message) and r.arrival > panicked_at for r in records),
                        5.0, "All Notes Off after panic")
        count = len(note_ons(reader.received()))
        reader.wait_for(lambda records: len(note_ons(records)) >= count + 4, 10.0, "notes after panic")
    finally:
        osc.close()
        feedback.close()
    stop_cleanly(run)
    assert not left_sounding(reader.messages())


def test_a_flood_of_bad_packets_never_stops_the_music(livegen, midi_reader):
    """10,000 packets a second for 5 seconds: notes keep coming, the daemon lives, every parameter stays in range."""
    run, reader, osc = steered(livegen, midi_reader, "--tempo", "240", "--seed", "1", "--max-length", "600")
    feedback = FeedbackReader()
    packets = flood_packets(random.Random(7))
    try:
        wait_for_melody(reader, 4)
        flood_start = time.monotonic()
        sent = 0
        while (elapsed := time.monotonic() - flood_start) < 5.0:
            while sent < 10_000 * elapsed:
                osc.send_raw(packets[sent % len(packets)])
                sent += 1
            time.sleep(0.002)
        flood_end = time.monotonic()
        assert sent >= 49_000 and run.process.poll() is None

        latest = feedback.wait_for(lambda latest: all(p.text_address in latest for p in VALUE_PARAMETERS), "snapshot",
                                   ask=lambda: osc.send(FEEDBACK_HERE, feedback.port))  # the backlog may drop one
    finally:
        osc.close()
        feedback.close()
    onsets = [flood_start] + [r.arrival for r in note_ons(reader.received()) if flood_start < r.arrival < flood_end]
    gaps = [b - a for a, b in zip(onsets, onsets[1:] + [flood_end])]
    assert len(onsets) > 5 and max(gaps) < 2.0, f"{len(onsets) - 1} notes; longest silence {max(gaps):.2f} s"
    for parameter in VALUE_PARAMETERS:
        value = latest.get(parameter.address)
        if value is not None:  # the seed, unset, sends only its text
            shown = parameter.choices[value] if parameter.kind == "choice" else value
            parameter.check(shown)  # raises if out of range
    stop_cleanly(run)
    assert not left_sounding(reader.messages())
    warnings = [line for line in run.lines if "refused" in line or "clamped" in line or "flood" in line]
    assert 0 < len(warnings) < 100, f"{len(warnings)} warning lines"


def test_a_preset_sets_the_style_and_options_override_it(livegen, midi_reader, tmp_path):
    reader = midi_reader(name="daw")
    run = livegen(reader.port, "--preset", "waltz", "--tempo", "300", "--tunes", "1", "--max-length", "200",
                  "--seed", "2")
    status, stderr = run.finish(60.0)
    assert status == 0, stderr
    folder = session_folder(tmp_path)
    assert "\nM:3/4\n" in (folder / "session.abc").read_text()  # the waltz preset's type
    notes = heard_melody(reader.received(), folder)
    assert seconds_per_beat(notes) == pytest.approx(0.2, rel=0.1)  # --tempo 300, not the preset's 132
