"""A JACK server that dies, however it dies, is noticed within a second, and every port comes back with a new one.

jackd killed with SIGKILL leaves its socket file behind, so a check of that
file alone sees nothing wrong until a new server replaces it; and an input
used to be opened once and never again. These tests kill a real jackd with
SIGKILL, restart it, and play through the ports that came back.
"""

from __future__ import annotations

import signal
import threading
import time

import mido
from test_output import is_all_notes_off

from livegen.realtime.midi_port import open_input, open_output
from livegen.realtime.output import OutputThread, PortState
from livegen.testing.daemon_harness import note_ons

NOTICE_S = 1.0  # the promise: a lost server is noticed within a second


def test_a_killed_server_is_noticed_within_a_second_by_the_output_thread(jack_server):
    lost = threading.Event()
    noticed_at = []

    def on_state(state):
        if state is PortState.LOST:
            noticed_at.append(time.monotonic())
            lost.set()

    with OutputThread(lambda: open_output("Killed", backend="jack"), on_state=on_state):
        jack_server.kill()
        killed_at = time.monotonic()
        assert lost.wait(10.0), "the output thread never noticed"
        assert noticed_at[0] - killed_at <= NOTICE_S


def test_an_input_notices_a_killed_server_and_comes_back_with_a_new_one(jack_server):
    received = []
    got = threading.Condition()

    def on_message(message, _arrival):
        with got:
            received.append(message)
            got.notify_all()

    with open_input("Comeback", on_message, backend="jack") as control:
        jack_server.kill()
        killed_at = time.monotonic()
        while control.alive():
            assert time.monotonic() - killed_at <= NOTICE_S, "the input did not notice within a second"
            time.sleep(0.01)
        jack_server.start()
        deadline = time.monotonic() + 10.0
        while not control.alive():
            assert time.monotonic() < deadline, "the input did not come back"
            time.sleep(0.05)
        with open_output("Controller", backend="jack") as controller:
            jack_server.connect("Controller:Controller", "Comeback:Comeback")
            controller.send(mido.Message("control_change", control=21, value=90))
            with got:
                assert got.wait_for(lambda: received, timeout=5.0), "nothing came through the reopened input"
    assert received == [mido.Message("control_change", control=21, value=90)]


def test_the_daemon_survives_a_killed_server_and_its_control_input_comes_back(livegen, jack_server, midi_reader):
    run = livegen("LiveGenKilled", "--tempo", "240", "--max-length", "160", "--seed", "1", "--quiet")
    run.wait_started()
    jack_server.kill()
    run.wait_for_line("MIDI port lost", 2 * NOTICE_S)
    run.wait_for_line("MIDI input 'LiveGen Control' lost", 2 * NOTICE_S)
    jack_server.start()
    run.wait_for_line("MIDI port is back", 10.0)
    run.wait_for_line("MIDI input 'LiveGen Control' is back", 10.0)
    reader = midi_reader("LiveGenKilled:LiveGenKilled")
    reader.wait_for(lambda records: len(note_ons(records)) >= 2, 10.0, "notes after the server came back")
    with open_output("Controller", backend="jack") as controller:
        jack_server.connect("Controller:Controller", "LiveGen Control:LiveGen Control")
        controller.send(mido.Message("control_change", control=28, value=127))  # panic, on the default map
        reader.wait_for(lambda records: any(is_all_notes_off(r.message) for r in records), 5.0,
                        "the panic sent through the reopened control input")
    assert run.process.poll() is None
    run.process.send_signal(signal.SIGINT)
    status, stderr = run.finish(10.0)
    assert status == 0 and stderr.count("MIDI port lost") == 1, stderr
