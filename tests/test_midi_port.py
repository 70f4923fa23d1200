"""Opening ports on a private JACK server and reading back what they carry; the errors a user can meet."""

from __future__ import annotations

import os
import threading
import time

import mido
import pytest

from livegen.errors import LivegenError
from livegen.realtime import midi_port
from livegen.realtime.clock import MidiClockFollower
from livegen.realtime.midi_port import format_ports, list_ports, open_input, open_output, resolve_backend

NOTE = mido.Message("note_on", channel=2, note=64, velocity=90)
NOTE_OFF = mido.Message("note_off", channel=2, note=64)


@pytest.fixture
def no_alsa(monkeypatch, tmp_path):
    """As on a machine without the ALSA sequencer (this one, and most containers)."""
    monkeypatch.setattr(midi_port, "ALSA_SEQUENCER", tmp_path / "no-seq")


@pytest.fixture
def no_jack(monkeypatch):
    """JACK clients look for a server that isn't running."""
    monkeypatch.setenv("JACK_DEFAULT_SERVER", f"livegen-absent-{os.getpid()}")


def test_virtual_output_on_jack_is_a_client_named_after_the_port(jack_server, midi_reader):
    with open_output("LiveGen Test", backend="jack") as port:
        assert not port.existing and port.backend == "jack"
        assert "LiveGen Test:LiveGen Test" in jack_server.ports()
        reader = midi_reader("LiveGen Test:LiveGen Test")
        port.send(NOTE)
        port.send(NOTE_OFF)
        received = reader.wait_for_count(2)
    assert [record.message for record in received] == [NOTE, NOTE_OFF]


def test_existing_port_is_joined_not_duplicated(jack_server, midi_reader):
    reader = midi_reader(name="Synth")  # another program's MIDI input, here a reader
    with open_output("Synth", backend="jack") as port:
        assert port.existing and port.name == "Synth:Synth"
        # no jack_connect needed. A note sent right after joining missed it 1 run in 12 (JACK applies a graph
        # change at a cycle boundary, the likely cause): send until one arrives
        deadline = time.monotonic() + 5.0
        while not reader.messages():
            assert time.monotonic() < deadline, "nothing arrived within 5 s"
            port.send(NOTE)
            time.sleep(0.05)
        assert all(message == NOTE for message in reader.messages())
    assert not any(name.startswith("Synth-") for name in jack_server.ports())


def test_a_name_already_taken_is_refused(jack_server):
    with open_output("Twice", backend="jack"):
        with pytest.raises(LivegenError, match="already taken"):
            open_output("Twice", backend="jack")


def test_jack_without_a_server_says_how_to_start_one(no_jack):
    with pytest.raises(LivegenError) as caught:
        open_output("LiveGen", backend="jack")
    message = str(caught.value)
    assert "no JACK server" in message and "jackd -d dummy" in message and "\n" not in message


def test_no_midi_system_at_all_says_what_to_load_or_start(no_alsa, no_jack):
    with pytest.raises(LivegenError) as caught:
        open_output("LiveGen")
    message = str(caught.value)
    assert "snd-seq" in message and "jackd -d dummy" in message and "--backend jack" in message
    assert "\n" not in message


def test_alsa_without_its_sequencer_is_a_clear_error(no_alsa):
    with pytest.raises(LivegenError, match="modprobe snd-seq"):
        resolve_backend("alsa")


def test_auto_falls_back_to_a_running_jack(jack_server, no_alsa):
    assert resolve_backend("auto") == "jack"


def test_unknown_and_foreign_backends_are_refused():
    with pytest.raises(LivegenError, match="unknown MIDI backend 'pulse'"):
        resolve_backend("pulse")
    foreign = next(backend for backend in midi_port.BACKEND_APIS if backend not in midi_port.compiled_backends())
    with pytest.raises(LivegenError, match="not available on this platform"):
        resolve_backend(foreign)


def test_list_ports_shows_each_backend_or_why_not(jack_server, midi_reader, no_alsa):
    reader = midi_reader()
    with open_output("Lister", backend="jack"):
        listing = list_ports()
    assert set(listing) == set(midi_port.compiled_backends())
    assert "Lister:Lister" in listing["jack"].inputs  # livegen could read from it
    assert reader.port in listing["jack"].outputs  # and play into this one
    assert "snd-seq" in listing["alsa"].problem
    text = format_ports(listing)
    assert "Lister:Lister" in text and reader.port in text and "alsa: not available" in text


def test_list_ports_reports_a_missing_jack_server_instead_of_raising(no_jack):
    assert "jackd -d dummy" in list_ports()["jack"].problem


def test_input_delivers_clock_messages_with_arrival_times(jack_server):
    follower = MidiClockFollower(tempo_bpm=60.0)
    got = threading.Condition()
    arrivals = []

    def on_message(message, arrival):
        follower.feed(message, arrival)
        with got:
            arrivals.append(arrival)
            got.notify_all()

    with open_output("Clock Source", backend="jack") as source, \
            open_input("LiveGen Clock", on_message, backend="jack") as clock_in:
        jack_server.connect("Clock Source:Clock Source", "LiveGen Clock:LiveGen Clock")
        source.send(mido.Message("start"))
        for _ in range(24):
            source.send(mido.Message("clock"))
        with got:
            assert got.wait_for(lambda: len(arrivals) == 25, timeout=5)
        assert clock_in.name == "LiveGen Clock"
    assert follower.running and follower.time_of(0) is not None
    assert arrivals == sorted(arrivals)


def test_input_joins_an_existing_source(jack_server):
    received = []
    done = threading.Event()
    with open_output("DAW clock", backend="jack") as source:
        with open_input("DAW clock", lambda message, _: (received.append(message), done.set()), backend="jack"):
            source.send(mido.Message("start"))
            assert done.wait(5)
    assert received == [mido.Message("start")]


def test_arrival_times_take_the_earliest_reading_as_the_origin():
    arrivals = midi_port._ArrivalTimes()
    assert arrivals.of(0.0, read_at=10.004) == pytest.approx(10.004)  # read 4 ms after it came: unknown yet
    assert arrivals.of(0.010, read_at=10.0105) == pytest.approx(10.0105)  # this one was read at once
    assert arrivals.of(0.010, read_at=10.030) == pytest.approx(10.0205)  # spacing from the driver, not the reads


def test_ports_notice_their_jack_server_stopping(jack_server):
    got = threading.Event()
    output = open_output("Doomed", backend="jack")
    clock_in = open_input("Doomed Clock", lambda *_: got.set(), backend="jack")
    assert output.alive() and clock_in.alive()
    jack_server.stop()
    assert not output.alive() and not clock_in.alive()
    clock_in.close()
    output.close()


def test_a_port_left_open_on_a_dead_server_is_closed_before_a_new_client_opens(jack_server, midi_reader):
    stale = open_output("Stale", backend="jack")
    jack_server.stop()
    jack_server.start()
    with open_output("Fresh", backend="jack") as fresh:  # libjack would crash on closing `stale` after this
        reader = midi_reader("Fresh:Fresh")
        fresh.send(NOTE)
        reader.wait_for_count(1)
    assert not stale.alive()
    with pytest.raises(OSError):
        stale.send(NOTE)
    stale.close()  # already closed: nothing happens
