"""`livegen run` as a subprocess on a private JACK server, read back by a second JACK client.

Tunes are kept short (--max-length) and fast so the whole file runs in well
under a minute and a half. Time bounds are loose: the budgets (p99 <= 1 ms,
first note <= 1 s) are measured by bench/timing.py and bench/daemon_budgets.py.
"""

from __future__ import annotations

import io
import signal
import statistics
import threading
import time

import mido
import pytest
from test_live_control import MELODY, written_melody
from test_output import is_all_notes_off, left_sounding

from livegen.abc import parse_tunes
from livegen.abc.collection import read_abc_file
from livegen.perform.arrangement import PerformedNote
from livegen.perform.live_player import LivePlayer
from livegen.perform.render import perform
from livegen.realtime.midi_port import open_output
from livegen.realtime.output import promote_current_thread
from livegen.session import daemon
from livegen.session.status_line import Status, StatusLine
from livegen.testing.bare_sender import BareRun
from livegen.testing.daemon_harness import note_ons, recorded_note_ons, session_folder

TEMPO = 240.0
SECONDS_PER_BEAT = 60.0 / TEMPO
OPENING_NOTES = 5  # melody notes that place a start on the DAW's grid (opening_s)
SHORT = ["--max-length", "160", "--seed", "1", "--quiet"]


def by_channel(notes: list[tuple[float, int, int]]) -> dict[int, list[tuple[float, int]]]:
    """(time, channel, pitch) notes as (time, pitch) per channel, in time order."""
    channels: dict[int, list[tuple[float, int]]] = {}
    for at, channel, pitch in sorted(notes):
        channels.setdefault(channel, []).append((at, pitch))
    return channels


def pitches_by_channel(notes: list[tuple[float, int, int]]) -> dict[int, list[int]]:
    """Each channel's pitches in the order given (the order sent, or received), whatever the times say."""
    channels: dict[int, list[int]] = {}
    for _, channel, pitch in notes:
        channels.setdefault(channel, []).append(pitch)
    return channels


def assert_played_in_order(actual: list[tuple[float, int, int]], score: list[tuple[float, int, int]],
                           what: str) -> None:
    """Every note of the score, none more, in the score's order, channel by channel: completeness and order,
    not milliseconds (the timing budgets are measured beside a bare sender by bench/timing.py and
    bench/daemon_cpu.py). Notes the score starts together (a chord) may come in any order among themselves."""
    assert actual and score, what
    played, written = by_channel(actual), by_channel(score)
    assert played.keys() == written.keys(), what
    for channel, notes in written.items():
        assert len(played[channel]) == len(notes), f"{what}: channel {channel}"
        onsets = sorted({at for at, _ in notes})
        chords = [sorted(pitch for at, pitch in notes if at == onset) for onset in onsets]
        heard, position = [], 0
        for chord in chords:
            heard.append(sorted(pitch for _, pitch in played[channel][position:position + len(chord)]))
            position += len(chord)
        assert heard == chords, f"{what}: channel {channel} out of order or wrong"


def test_plays_a_tune_as_recorded(livegen, midi_reader, tmp_path):
    """Into an existing port (the reader's): every note arrives, in order, pairs up, and is what the recording says."""
    reader = midi_reader(name="daw")
    launched = time.monotonic()
    run = livegen(reader.port, "--tunes", "1", "--tempo", str(TEMPO), *SHORT, python_options=("-X", "importtime"))
    status, stderr = run.finish()
    assert status == 0, stderr
    assert "tensorflow" not in stderr and "keras" not in stderr
    received = reader.wait_for(lambda records: any(is_all_notes_off(r.message) for r in records), 5.0,
                               "All Notes Off at the end")
    ons = note_ons(received)
    assert ons[0].arrival - launched < 5.0  # start to first note, loosely; the budget is 1 s
    messages = [record.message for record in received]
    assert not left_sounding(messages)
    assert len(ons) == sum(m.type == "note_off" or (m.type == "note_on" and not m.velocity) for m in messages)

    heard = [(record.arrival, record.message.channel, record.message.note) for record in ons]
    folder = session_folder(tmp_path)
    sent = recorded_note_ons(folder, TEMPO)
    assert pitches_by_channel(heard) == pitches_by_channel(sent)  # every note sent arrived, in the order sent
    (tune,) = parse_tunes(read_abc_file(folder / "session.abc"))
    written = [(float(note.start) * SECONDS_PER_BEAT, note.channel, note.pitch)
               for note in perform(tune, tempo_bpm=TEMPO).notes]
    assert_played_in_order(sent, written, "session.mid against session.abc")


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_a_signal_mid_tune_leaves_nothing_sounding(livegen, midi_reader, tmp_path, signum):
    run = livegen("LiveGenSig", "--tempo", str(TEMPO), *SHORT)
    run.wait_started()
    reader = midi_reader("LiveGenSig:LiveGenSig")
    reader.wait_for(lambda records: len(note_ons(records)) >= 6, 10.0, "six notes")
    run.process.send_signal(signum)
    status, stderr = run.finish(10.0)
    assert status == 0, stderr
    received = reader.wait_for(lambda records: any(is_all_notes_off(r.message) for r in records), 5.0,
                               "All Notes Off")
    assert not left_sounding([record.message for record in received])
    folder = session_folder(tmp_path)
    assert "% unfinished" in (folder / "session.abc").read_text()
    assert mido.MidiFile(folder / "session.mid").tracks


def test_user_errors_are_one_line(livegen):
    with open_output("Taken", "jack"):
        status, stderr = livegen("Taken", "--quiet").finish()
    assert status == 2 and stderr.count("\n") == 1 and "already taken" in stderr, stderr
    status, stderr = livegen("Free", "--model", "missing.onnx").finish()
    assert status == 2 and stderr.count("\n") == 1 and "model file not found" in stderr, stderr


class ClockSender:
    """A DAW's MIDI clock: 24 ticks per beat at a steady tempo from a thread, plus transport messages.

    Each tick is sent within a fraction of a millisecond of its time (sleep, then spin, at real-time
    priority where permitted), as a DAW's audio thread would; a sleepy sender would move the grid.
    """

    def __init__(self, port, tempo_bpm: float):
        self.port = port
        self.interval = 60.0 / tempo_bpm / 24
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._next = time.monotonic() + self.interval
        self._count = 0  # ticks sent
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def send(self, message: mido.Message) -> tuple[float, int]:
        """Send a transport message between two ticks; returns the time and number of the tick after it."""
        with self._lock:
            self.port.send(message)
            return self._next, self._count

    def _run(self) -> None:
        promote_current_thread()
        while not self._stop.is_set():
            time.sleep(max(0.0, self._next - time.monotonic() - 0.001))
            with self._lock:
                while time.monotonic() < self._next:
                    pass
                self.port.send(mido.Message("clock"))
                self._next += self.interval
                self._count += 1

    def close(self) -> None:
        self._stop.set()
        self._thread.join()


def off_grid_s(arrival: float, origin: float, grid_s: float) -> float:
    steps = (arrival - origin) / grid_s
    return abs(steps - round(steps)) * grid_s


def melody_after(records, after: float) -> int:
    return sum(r.message.channel == MELODY and r.arrival > after for r in note_ons(records))


def written_tunes(folder) -> list[list[PerformedNote]]:
    """The melody of each tune in the session, as written."""
    tunes: dict[int, list[PerformedNote]] = {}
    for index, note in written_melody(folder):
        tunes.setdefault(index, []).append(note)
    return list(tunes.values())


def opening_s(received, after: float, tunes: list[list[PerformedNote]], spb: float) -> tuple[float, int]:
    """When the melody heard after a start puts its tune's first note, and which written tune that is.

    Each of the first few notes says where the first one belongs (its arrival less its written distance from
    the first); their median is that time. One note a busy machine sends late moves it little; a start off the
    DAW's grid moves every note. The tune is the written one that opens with the pitches heard."""
    heard = [r for r in note_ons(received) if r.arrival > after and r.message.channel == MELODY][:OPENING_NOTES]
    pitches = [r.message.note for r in heard]
    index = next((i for i, notes in enumerate(tunes) if [n.pitch for n in notes[:len(heard)]] == pitches), None)
    assert index is not None, f"no tune in session.abc opens with the melody heard after the start: {pitches}"
    first = float(tunes[index][0].start)
    return statistics.median(r.arrival - (float(n.start) - first) * spb for r, n in zip(heard, tunes[index])), index


def test_follows_midi_clock(livegen, jack_server, midi_reader, tmp_path):
    """Nothing while stopped; from a song position, notes on the ticks' grid; stop silences; continue resumes.

    A start is judged by its first few melody notes against the tune as written (opening_s). How far off a beat
    counts as on it: half a tick (the resolution of the grid), plus twice (a tick in, a note out) the worst lag
    of a bare sender through the same JACK server in the same run; never a fixed few ms."""
    reader = midi_reader(name="daw")
    tempo = 150.0
    spb = 60.0 / tempo
    run = livegen(reader.port, "--clock", "midi", "--clock-port", "LiveGenClock", "--tempo", str(tempo), *SHORT)
    run.wait_started()
    bare = BareRun(midi_reader(name="bare"), seconds=8.0)
    starts = []  # for each Start/Continue: when it was sent, and a time on the DAW's beat grid
    with open_output("dawclock", "jack") as out:
        jack_server.connect("dawclock:dawclock", "LiveGenClock:LiveGenClock")
        sender = ClockSender(out, tempo)
        try:
            time.sleep(0.5)  # ticks while stopped: the tempo is learnt, nothing plays
            assert not note_ons(reader.received())
            sender.send(mido.Message("songpos", pos=32))  # bar 3 in 4/4: beat 8
            first_tick, first_number = sender.send(mido.Message("continue"))
            reader.wait_for(lambda records: melody_after(records, first_tick) >= 8, 10.0, "eight melody notes")
            assert note_ons(reader.received())[0].arrival > first_tick
            starts.append((first_tick, first_tick))

            stopped_at = time.monotonic()
            _, stop_number = sender.send(mido.Message("stop"))
            position = 8 * 24 + stop_number - first_number  # in ticks: where the transport stopped
            reader.wait_for(lambda records: not left_sounding([r.message for r in records])
                            and any(is_all_notes_off(r.message) and r.arrival > stopped_at for r in records),
                            2.0, "silence after stop")
            time.sleep(0.3)
            assert not [r for r in note_ons(reader.received()) if r.arrival > stopped_at + 0.05]

            restart, _ = sender.send(mido.Message("continue"))
            reader.wait_for(lambda records: melody_after(records, restart) >= OPENING_NOTES, 10.0, "notes again")
            starts.append((restart, restart - (position % 24) * sender.interval))
        finally:
            sender.close()
            run.process.send_signal(signal.SIGINT)
            status, stderr = run.finish(10.0)
    assert status == 0, stderr
    assert not left_sounding(reader.messages())
    tunes = written_tunes(session_folder(tmp_path))
    on_beat = []  # how far each start's first note is off the DAW's beat
    for sent, beat_origin in starts:
        opening, index = opening_s(reader.received(), sent, tunes, spb)
        on_beat.append(off_grid_s(opening, beat_origin, spb))
        tunes = tunes[index + 1:]  # the next start plays a later tune
    worst_bare_lag = bare.worst_lag_s()
    assert max(on_beat) <= spb / 48 + 2 * worst_bare_lag, (on_beat, worst_bare_lag)
    assert recorded_note_ons(session_folder(tmp_path), tempo)  # what was sent is in session.mid


class ListPort:
    """An in-memory output port: keeps what it is sent."""

    def __init__(self):
        self.sent: list[mido.Message] = []

    def send(self, message: mido.Message) -> None:
        self.sent.append(message)

    def alive(self) -> bool:
        return True

    def close(self) -> None:
        pass


@pytest.fixture
def list_port(monkeypatch) -> ListPort:
    """The daemon plays into a ListPort instead of a MIDI system (for tests that need no JACK)."""
    port = ListPort()
    monkeypatch.setattr(daemon, "resolve_backend", lambda backend: "test")
    monkeypatch.setattr(daemon, "open_output", lambda name, backend: port)
    return port


def test_an_internal_error_ends_every_note_and_keeps_the_session(list_port, monkeypatch, tmp_path, caplog):
    add = LivePlayer.add
    calls = []

    def failing_add(player, events):
        calls.append(events)
        if len(calls) == 40:
            raise RuntimeError("a bug in the player")
        return add(player, events)

    monkeypatch.setattr(LivePlayer, "add", failing_add)
    options = daemon.DaemonOptions(parameters={"tempo": 300.0, "seed": 1}, record=tmp_path)
    assert daemon.run_daemon(options, StatusLine(enabled=False)) == 1
    assert "RuntimeError: a bug in the player" in caplog.text and "error.log" in caplog.text
    assert any(m.type == "note_on" for m in list_port.sent)
    assert not left_sounding(list_port.sent) and is_all_notes_off(list_port.sent[-1])
    folder = session_folder(tmp_path)
    assert "% unfinished" in (folder / "session.abc").read_text()
    assert "a bug in the player" in (folder / "error.log").read_text()


def test_status_line_without_a_terminal_prints_a_line_per_tune():
    stream = io.StringIO()
    status_line = StatusLine(stream)
    for tune, title, bar in [(0, "", 0), (1, "", 0), (1, "Tune A", 1), (1, "Tune A", 2), (2, "Tune B", 1)]:
        status_line.show(Status(tune, title, "G", "6/8", 120.0, 1.0, bar, "playing"))
    status_line.close()
    lines = stream.getvalue().splitlines()
    assert len(lines) == 2 and "1. Tune A" in lines[0] and "2. Tune B" in lines[1] and "6/8" in lines[0]


def test_keeps_playing_when_the_jack_server_goes_and_comes_back(livegen, jack_server, midi_reader):
    run = livegen("LiveGenLoss", "--tempo", str(TEMPO), *SHORT)
    run.wait_started()
    jack_server.stop()
    run.wait_for_line("MIDI port lost", 5.0)
    assert run.process.poll() is None
    jack_server.start()
    run.wait_for_line("MIDI port is back", 10.0)
    reader = midi_reader("LiveGenLoss:LiveGenLoss")
    reader.wait_for(lambda records: len(note_ons(records)) >= 2, 10.0, "notes after reconnecting")
    run.process.send_signal(signal.SIGINT)
    status, stderr = run.finish(10.0)
    assert status == 0 and stderr.count("MIDI port lost") == 1, stderr


def test_without_osc_the_queue_of_heard_notes_stays_short(jack_server, tmp_path):
    """The melody onsets kept for OSC feedback are drained with no one listening too (they piled up without OSC)."""
    session = daemon.Daemon(daemon.DaemonOptions(port="NoOsc", backend="jack", record=tmp_path, max_length=160,
                                                 parameters={"tempo": 300.0, "seed": 1}))
    playing = threading.Thread(target=session.run, daemon=True)
    playing.start()
    try:
        deadline = time.monotonic() + 60.0
        while session.scheduler.output is None or session.scheduler.output.stats().sent < 160:
            assert playing.is_alive() and time.monotonic() < deadline, "the session stopped or played too little"
            time.sleep(0.05)
        queued = len(session.scheduler._melody_onsets)
    finally:
        session.request_stop()
        playing.join(15.0)
    assert queued <= 16, f"{queued} onsets queued: every melody note played so far, never drained"


def test_humanise_varies_velocity_and_delays_onsets_within_bounds():
    session = daemon.Daemon(daemon.DaemonOptions(parameters={"humanise": 1.0, "seed": 1}))
    draws = [session.scheduler._humanised(90, 0.006) for _ in range(200)]
    assert all(0.0 <= delay <= 0.003 and 80 <= velocity <= 100 for delay, velocity in draws)
    assert len({velocity for _, velocity in draws}) > 10 and len({delay for delay, _ in draws}) > 50
    assert daemon.Daemon(daemon.DaemonOptions()).scheduler._humanised(90, 0.5) == (0.0, 90)  # off by default


def test_control_changes_set_parameters_and_press_buttons_once():
    session = daemon.Daemon(daemon.DaemonOptions(cc_map={21: "temperature", 27: "new_tune", 30: "key"}))
    fired = []
    session.controls.listen(lambda name, value: fired.append(name) if name == "new_tune" else None)
    for control, value in [(21, 0), (30, 127), (27, 127), (27, 100), (27, 0), (27, 64), (5, 127)]:
        session._on_midi_in(mido.Message("control_change", control=control, value=value), 0.0)
    assert session.controls["temperature"] == 0.05 and session.controls["key"] == "B"
    assert fired == ["new_tune", "new_tune"]  # on each rise through 64, not while held
