"""The output thread: order and timing, silence on panic and close, surviving a port that goes away.

Logic tests use an in-memory port; the rest go through a real JACK port and
are read back by a second client. Time bounds are loose on purpose: the
budget (p99 <= 1 ms) is checked by bench/timing.py, not here.
"""

from __future__ import annotations

import os
import signal
import statistics
import threading
import time

import mido
import pytest

from livegen.realtime.midi_port import open_output
from livegen.realtime.output import ALL_NOTES_OFF, OutputThread, PortState, promote_current_thread
from livegen.testing.bare_sender import BareRun


def note_on(note: int, channel: int = 0, velocity: int = 100) -> mido.Message:
    return mido.Message("note_on", channel=channel, note=note, velocity=velocity)


def note_off(note: int, channel: int = 0) -> mido.Message:
    return mido.Message("note_off", channel=channel, note=note)


def marker(value: int) -> mido.Message:
    return mido.Message("control_change", channel=15, control=20, value=value)


def is_all_notes_off(message: mido.Message) -> bool:
    return message.type == "control_change" and message.control == ALL_NOTES_OFF


def left_sounding(messages: list[mido.Message]) -> set[tuple[int, int]]:
    """(channel, note) pairs started and never ended."""
    sounding = set()
    for message in messages:
        if message.type == "note_on" and message.velocity > 0:
            sounding.add((message.channel, message.note))
        elif message.type in ("note_on", "note_off"):
            sounding.discard((message.channel, message.note))
    return sounding


class FakePort:
    """An in-memory port: what it is sent goes to its system's log; it can be made to fail, or to vanish."""

    def __init__(self, system: FakeSystem, number: int):
        self.system, self.number = system, number
        self.failing = False
        self.present = True
        self.closed = False

    def send(self, message):
        if self.failing or self.closed:
            raise OSError("port went away")
        self.system.record(self.number, message)

    def alive(self):
        return self.present and not self.closed

    def close(self):
        self.closed = True


class FakeSystem:
    """Makes FakePorts, and lets a test wait for what they are sent and for the thread's port states."""

    def __init__(self):
        self.log: list[tuple[int, mido.Message]] = []  # (port number, message)
        self.ports: list[FakePort] = []
        self.refusing = False
        self.states: list[PortState] = []
        self.changed = threading.Condition()

    def open(self) -> FakePort:
        if self.refusing:
            raise OSError("nothing to connect to")
        self.ports.append(FakePort(self, len(self.ports)))
        return self.ports[-1]

    def record(self, number: int, message: mido.Message) -> None:
        with self.changed:
            self.log.append((number, message))
            self.changed.notify_all()

    def on_state(self, state: PortState) -> None:
        with self.changed:
            self.states.append(state)
            self.changed.notify_all()

    def wait(self, predicate, timeout: float = 5.0) -> None:
        """Until predicate() holds: woken by every message and state change, and rechecked every 5 ms
        for conditions nothing here signals (such as the thread's counters)."""
        deadline = time.monotonic() + timeout
        with self.changed:
            while not predicate():
                assert time.monotonic() < deadline, f"timed out; states {self.states}, log {self.log}"
                self.changed.wait(0.005)

    def messages(self, port: int | None = None) -> list[mido.Message]:
        with self.changed:
            return [message for number, message in self.log if port is None or number == port]


@pytest.fixture
def system():
    return FakeSystem()


@pytest.fixture
def output(system):
    with OutputThread(system.open, on_state=system.on_state) as thread:
        yield thread


def test_messages_go_out_in_time_order_and_equal_times_keep_their_order(system, output):
    t = time.monotonic() + 0.05
    output.schedule(marker(3), t + 0.02)
    output.schedule(marker(1), t)
    output.schedule(marker(2), t)
    output.schedule(mido.Message("program_change", channel=15, program=5), t)
    system.wait(lambda: len(system.log) == 4)
    assert system.messages() == [marker(1), marker(2), mido.Message("program_change", channel=15, program=5),
                                 marker(3)]


def test_note_off_goes_before_note_on_at_the_same_time(system, output):
    t = time.monotonic() + 0.05
    output.schedule(note_on(60), t)
    output.schedule(note_on(60), t + 0.01)  # retrigger: scheduled before the note-off it must follow
    output.schedule(note_off(60), t + 0.01)
    output.schedule(mido.Message("note_on", note=62, velocity=0), t + 0.02)  # velocity 0 is a note-off too
    output.schedule(note_on(62), t + 0.02)
    system.wait(lambda: len(system.log) == 5)
    assert system.messages() == [note_on(60), note_off(60), note_on(60),
                                 mido.Message("note_on", note=62, velocity=0), note_on(62)]


def test_panic_ends_every_note_and_drops_what_is_pending(system, output):
    now = time.monotonic()
    for channel, note in ((0, 60), (0, 64), (3, 40)):
        output.schedule(note_on(note, channel), now)
    output.schedule(note_on(72, channel=5), now + 60)  # pending: must never sound
    system.wait(lambda: len(system.log) == 3)
    output.panic()
    system.wait(lambda: sum(is_all_notes_off(message) for message in system.messages()) == 2)
    sent = system.messages()
    assert left_sounding(sent) == set()
    assert {message.channel for message in sent if is_all_notes_off(message)} == {0, 3}
    assert output.stats().dropped == 1
    output.schedule(marker(9), time.monotonic())  # still playing after a panic
    system.wait(lambda: marker(9) in system.messages())
    assert note_on(72, channel=5) not in system.messages()


def test_panic_from_a_signal_handler_that_interrupted_a_lock_holder(system, output):
    output.schedule(note_on(50), time.monotonic())
    system.wait(lambda: len(system.log) == 1)
    previous = signal.signal(signal.SIGUSR1, lambda *_: output.panic())
    try:
        with output._lock:  # as if the signal came while this thread was inside schedule()
            signal.raise_signal(signal.SIGUSR1)  # the handler runs here and must not block
        system.wait(lambda: any(is_all_notes_off(message) for message in system.messages()))
    finally:
        signal.signal(signal.SIGUSR1, previous)
    assert left_sounding(system.messages()) == set()


def test_close_ends_every_note_and_closes_the_port(system):
    output = OutputThread(system.open, on_state=system.on_state).start()
    output.schedule(note_on(60, channel=1), time.monotonic())
    output.schedule(note_off(60, channel=1), time.monotonic() + 60)
    system.wait(lambda: len(system.log) == 1)
    output.close()
    sent = system.messages()
    assert sent[1:] == [note_off(60, channel=1),
                        mido.Message("control_change", channel=1, control=ALL_NOTES_OFF, value=0)]
    assert system.ports[0].closed and output.stats().state is PortState.CLOSED
    output.schedule(note_on(61), time.monotonic())  # ignored once closed
    assert len(system.messages()) == 3


def test_late_messages_are_sent_at_once_and_counted(system, output):
    output.schedule(marker(1), time.monotonic() - 0.5)
    system.wait(lambda: len(system.log) == 1)
    stats = output.stats()
    assert stats.sent == 1 and stats.late == 1 and stats.worst_late_s >= 0.5


def test_a_failing_port_is_reopened_and_its_sounding_notes_ended(system, output):
    output.schedule(note_on(60), time.monotonic())
    output.schedule(note_on(67, channel=2), time.monotonic())
    system.wait(lambda: len(system.log) == 2)
    system.refusing = True
    system.ports[0].failing = True
    output.schedule(note_off(60), time.monotonic())  # fails: the port is gone
    system.wait(lambda: PortState.LOST in system.states)
    output.schedule(note_on(70), time.monotonic())  # dropped while the port is gone
    system.wait(lambda: output.stats().dropped == 2)
    system.refusing = False
    system.wait(lambda: system.states[-1] is PortState.OPEN and len(system.ports) == 2)
    system.wait(lambda: len(system.messages(port=1)) == 4)
    assert system.messages(port=1) == [
        note_off(60), note_off(67, channel=2),
        mido.Message("control_change", channel=0, control=ALL_NOTES_OFF, value=0),
        mido.Message("control_change", channel=2, control=ALL_NOTES_OFF, value=0),
    ]
    output.schedule(marker(5), time.monotonic())
    system.wait(lambda: marker(5) in system.messages(port=1))
    assert output.stats().reconnects == 1 and output.stats().state is PortState.OPEN


def test_a_port_that_vanishes_without_an_error_is_noticed(system, output):
    system.ports[0].present = False
    system.wait(lambda: system.states[-2:] == [PortState.LOST, PortState.OPEN])
    assert system.ports[0].closed and len(system.ports) == 2


def test_promoting_a_thread_gives_it_real_time_scheduling_where_permitted():
    result = {}

    def promote():
        result["realtime"] = promote_current_thread(1)
        result["policy"] = os.sched_getscheduler(0) if hasattr(os, "sched_getscheduler") else None

    thread = threading.Thread(target=promote)
    thread.start()
    thread.join()
    assert result["realtime"] == (result["policy"] == getattr(os, "SCHED_FIFO", object()))
    if hasattr(os, "sched_getscheduler"):
        assert os.sched_getscheduler(0) != os.SCHED_FIFO  # only the calling thread changed


# Through a real JACK port.

def test_notes_arrive_in_order_and_on_time(jack_server, midi_reader):
    """On time means: typically no later than a bare sender's worst, measured beside it in the same run."""
    with OutputThread(lambda: open_output("Timed", backend="jack")) as output:
        reader = midi_reader("Timed:Timed")
        bare = BareRun(midi_reader(name="bare"), seconds=1.0)
        times = [bare.times[0] + 0.004 + i * 0.015 for i in range(20)]  # between the bare sender's notes
        for i, at in enumerate(times):
            output.schedule(note_on(40 + i), at)
        received = reader.wait_for_count(20)
        worst_bare_lag = bare.worst_lag_s()
    assert [record.message for record in received] == [note_on(40 + i) for i in range(20)]
    errors = [record.arrival - at for record, at in zip(received, times)]
    assert min(errors) > -0.001  # never early (sending everything at once would be)
    assert statistics.median(errors) <= worst_bare_lag, (errors, worst_bare_lag)
    assert max(errors) < 0.1  # loose: the machine running the tests may be busy


def test_note_off_before_note_on_through_jack(jack_server, midi_reader):
    with OutputThread(lambda: open_output("Order", backend="jack")) as output:
        reader = midi_reader("Order:Order")
        t = time.monotonic() + 0.1
        output.schedule(note_on(60), t)
        output.schedule(note_on(60), t + 0.05)
        output.schedule(note_off(60), t + 0.05)
        assert [record.message for record in reader.wait_for_count(3)] == [note_on(60), note_off(60), note_on(60)]


@pytest.mark.parametrize("how", ["panic", "close"])
def test_panic_and_close_leave_nothing_sounding(jack_server, midi_reader, how):
    output = OutputThread(lambda: open_output("Silence", backend="jack")).start()
    try:
        reader = midi_reader("Silence:Silence")
        now = time.monotonic()
        for channel in (0, 1, 9):
            output.schedule(note_on(60 + channel, channel), now)
            output.schedule(note_off(60 + channel, channel), now + 60)
        output.schedule(note_on(80, channel=4), now + 0.5)  # pending when silenced: never sent
        reader.wait_for_count(3)
        getattr(output, how)()
        received = reader.wait_for(
            lambda records: {r.message.channel for r in records if is_all_notes_off(r.message)} == {0, 1, 9},
            what="All Notes Off on channels 0, 1 and 9")
        if how == "panic":
            output.schedule(marker(1), now + 0.6)  # after the dropped note's time
            received = reader.wait_for(lambda records: records[-1].message == marker(1), what="the marker")
    finally:
        output.close()
    messages = [record.message for record in received]
    assert left_sounding(messages) == set()
    assert note_on(80, channel=4) not in messages


def test_a_disconnected_port_keeps_playing_once_reconnected(jack_server, midi_reader):
    with OutputThread(lambda: open_output("Unplugged", backend="jack")) as output:
        unplugged = midi_reader("Unplugged:Unplugged")
        witness = midi_reader("Unplugged:Unplugged")  # stays connected throughout
        output.schedule(marker(1), time.monotonic())
        unplugged.wait_for_count(1)
        jack_server.disconnect("Unplugged:Unplugged", unplugged.port)
        output.schedule(marker(2), time.monotonic())
        witness.wait_for_count(2)
        jack_server.connect("Unplugged:Unplugged", unplugged.port)
        output.schedule(marker(3), time.monotonic())
        witness.wait_for_count(3)
        assert [record.message for record in unplugged.wait_for_count(2)] == [marker(1), marker(3)]
        assert output.stats().state is PortState.OPEN and output.stats().reconnects == 0


def test_the_jack_server_going_away_and_coming_back(jack_server, midi_reader):
    states = []
    changed = threading.Condition()

    def on_state(state):
        with changed:
            states.append(state)
            changed.notify_all()

    # Play straight into the reader's port, so that the reopened port is connected as soon as it exists;
    # and reopen only once the reader (an input: it reopens itself) is back to hear the notes being ended.
    reader = midi_reader(name="Keys")

    def open_keys():
        if not reader._input.alive():
            raise OSError("no reader yet")
        return open_output("Keys", backend="jack")

    with OutputThread(open_keys, on_state=on_state) as output:
        output.schedule(note_on(60, channel=3), time.monotonic())
        reader.wait_for_count(1)
        jack_server.stop()
        with changed:
            assert changed.wait_for(lambda: PortState.LOST in states, timeout=5)
        output.schedule(note_on(62, channel=3), time.monotonic())  # dropped: nowhere to go
        jack_server.start()
        with changed:
            assert changed.wait_for(lambda: states[-1] is PortState.OPEN, timeout=10)
        received = reader.wait_for(lambda records: any(is_all_notes_off(r.message) for r in records),
                                   what="All Notes Off after the reconnection")
        assert [record.message for record in received[1:]] == [
            note_off(60, channel=3), mido.Message("control_change", channel=3, control=ALL_NOTES_OFF, value=0)]
        output.schedule(note_on(64), time.monotonic())
        assert reader.wait_for_count(4)[-1].message == note_on(64)
        assert output.stats().reconnects == 1 and output.stats().dropped >= 1
