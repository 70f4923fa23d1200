"""The parameter table, the live controls, and OSC in and out over real UDP on 127.0.0.1 (no MIDI needed)."""

from __future__ import annotations

import logging
import math
import socket
import struct
import threading
import time

import pytest
from pythonosc.osc_bundle_builder import OscBundleBuilder
from pythonosc.osc_message_builder import OscMessageBuilder
from pythonosc.osc_packet import OscPacket

from livegen.cli.main import main
from livegen.control.controls import Controls
from livegen.control.feedback import Feedback
from livegen.control.osc_server import BURST_PACKETS, MAX_PACKETS_PER_S, OscServer
from livegen.control.parameters import (
    FEEDBACK_HERE,
    PARAMETERS,
    TUNE_BAR,
    TUNE_NOTE,
    TUNE_TITLE,
    VALUE_PARAMETERS,
    parse_cc_map,
)
from livegen.control.rate_limited_log import MAX_LINE_CHARS, RateLimitedLog
from livegen.errors import LivegenError
from livegen.testing.bad_osc import message, message_builder

DEADLINE_S = 30.0  # only a failing test waits this long: generous, for a machine under load


class ChangeLog:
    """Every change the controls announce, for waiting on one with a deadline."""

    def __init__(self, controls: Controls):
        self.changes: list[tuple[str, object]] = []
        self._changed = threading.Condition()
        controls.listen(self._on_change)

    def _on_change(self, name: str, value: object) -> None:
        with self._changed:
            self.changes.append((name, value))
            self._changed.notify_all()

    def wait_for(self, name: str, value: object) -> None:
        with self._changed:
            assert self._changed.wait_for(lambda: (name, value) in self.changes, DEADLINE_S), self.changes


class FeedbackReader:
    """A UDP socket that collects the OSC messages sent to it, by address."""

    def __init__(self):
        self.socket = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.socket.bind(("127.0.0.1", 0))
        self.socket.settimeout(0.1)
        self.port = self.socket.getsockname()[1]
        self.latest: dict[str, object] = {}

    def wait_for(self, condition, what: str, ask=None) -> dict[str, object]:
        """Read feedback until condition(latest) holds; ask(), if given, is called every 0.1 s meanwhile (to
        repeat a request that a flood's backlog may have crowded out)."""
        deadline = time.monotonic() + DEADLINE_S
        while not condition(self.latest):
            if time.monotonic() > deadline:
                pytest.fail(f"no feedback {what} within {DEADLINE_S} s: {self.latest}")
            if ask is not None:
                ask()
            try:
                datagram = self.socket.recv(65536)
            except TimeoutError:
                continue
            for timed in OscPacket(datagram).messages:
                self.latest[timed.message.address] = timed.message.params[0]
        return self.latest

    def close(self) -> None:
        self.socket.close()


@pytest.fixture
def controls() -> Controls:
    return Controls()


@pytest.fixture
def server(controls):
    osc = OscServer(controls, port=0).start()
    yield osc
    osc.close()


@pytest.fixture
def client():
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    yield sender
    sender.close()


def send(client: socket.socket, server: OscServer, *datagrams: bytes) -> None:
    for datagram in datagrams:
        client.sendto(datagram, ("127.0.0.1", server.port))


def test_every_parameter_maps_its_norm_onto_its_range():
    for parameter in VALUE_PARAMETERS:
        low, high = parameter.from_norm(0.0), parameter.from_norm(1.0)
        if parameter.kind in ("number", "integer"):
            assert (low, high) == (parameter.low, parameter.high)
        elif parameter.kind == "choice":
            assert (low, high) == (parameter.choices[0], parameter.choices[-1])
            assert all(parameter.from_norm(parameter.to_norm(choice)) == choice for choice in parameter.choices)
        if parameter.default is not None:
            assert parameter.check(parameter.default) == parameter.default, parameter.name
            assert 0.0 <= parameter.to_norm(parameter.default) <= 1.0


def test_values_are_clamped_or_refused():
    temperature, channel, key, play = (PARAMETERS[name] for name in ("temperature", "chord_channel", "key", "play"))
    assert temperature.clamp(9.0) == (3.0, True) and temperature.clamp(0.5) == (0.5, False)
    assert channel.clamp(-3) == (0, True)
    for bad in (math.nan, math.inf, -math.inf, "hot", None, True):
        with pytest.raises(ValueError):
            temperature.clamp(bad)
    with pytest.raises(ValueError, match="whole number"):
        channel.clamp(2.5)
    with pytest.raises(ValueError, match="outside"):
        temperature.check(9.0)
    assert key.clamp("D") == ("D", False) and key.clamp(1) == ("C", False)
    with pytest.raises(ValueError):
        key.clamp("H")
    with pytest.raises(ValueError):
        key.clamp(99)
    assert play.clamp("off") == (False, False) and play.clamp(1.0) == (True, False)
    with pytest.raises(ValueError):
        PARAMETERS["tempo"].from_norm(math.nan)


def test_the_cc_map_is_read_or_refused_in_one_line():
    assert parse_cc_map("temperature=74, tempo=71 new-tune=20") == {74: "temperature", 71: "tempo", 20: "new_tune"}
    for bad, reason in [("warmth=3", "no parameter"), ("tempo=123", "0-119"), ("tempo=1,key=1", "both"),
                        ("", "NAME=NUMBER")]:
        with pytest.raises(ValueError, match=reason):
            parse_cc_map(bad)


def test_controls_tell_listeners_about_changes_and_triggers(controls):
    log = ChangeLog(controls)
    version = controls.version
    assert controls.receive("tempo", 500.0) == "/livegen/tempo: 500.0 clamped to 300.0"
    assert controls.receive("tempo", 300.0) is None  # no change: no news
    assert controls.receive("new_tune", 0) is None and controls.receive("new_tune", 1) is None
    assert controls.receive("velocity", math.nan).startswith("/livegen/velocity: refused")
    assert log.changes == [("tempo", 300.0), ("new_tune", True)] and controls.version == version + 1


def test_osc_messages_set_parameters(controls, server, client):
    log = ChangeLog(controls)
    send(client, server, message("/livegen/temperature", 0.5), message("/livegen/key", "D"),
         message("/livegen/mode", 2), message("/livegen/tempo/norm", 1.0), message("/livegen/transpose", 5),
         message("/livegen/play", False), message("/livegen/new_tune"))
    for name, value in [("temperature", 0.5), ("key", "D"), ("mode", "dorian"), ("tempo", 300.0),
                        ("transpose", 5), ("play", False), ("new_tune", True)]:
        log.wait_for(name, value)


def test_bad_packets_are_refused_and_the_server_goes_on(controls, server, client, caplog):
    log = ChangeLog(controls)
    bundle = OscBundleBuilder(time.time() + 3600)  # an hour ahead: must not hold the server
    bundle.add_content(OscMessageBuilder("/livegen/humanise").build())
    bundle.add_content(message_builder("/livegen/humanise", 0.5).build())
    future = bundle.build().dgram
    junk = [b"", b"\x00" * 7, b"not osc at all", b"/livegen/tempo\x00\x00,i\x00\x00\x00\x01",  # truncated
            b"#bundle\x00" + b"\x00" * 8 + struct.pack(">i", 1 << 30),  # a bundle element longer than the packet
            message("/livegen/tempo", math.nan), message("/livegen/tempo", math.inf), message("/livegen/tempo", "fast"),
            message("/livegen/tempo", 100.0, 120.0), message("/livegen/tempo"), message("/livegen/nothing", 1.0),
            message("/other/app", 1), message("/livegen/key", 40), future, message(FEEDBACK_HERE, "me")]
    send(client, server, *junk, message("/livegen/velocity", 200), message("/livegen/transpose", 1))
    log.wait_for("transpose", 1)  # only after all the junk before it was survived (and the clamp logged)
    assert log.changes == [("humanise", 0.5), ("velocity", 127), ("transpose", 1)]  # the time tag isn't waited for
    assert controls["tempo"] == 120.0 and controls["key"] == "auto"
    assert "malformed OSC packet" in caplog.text and "unknown OSC address '/livegen/nothing'" in caplog.text
    assert "clamped to 127" in caplog.text and "pythonosc" not in caplog.text


def test_a_flood_is_cut_off_before_parsing(controls, server, client):
    """Past the token bucket's budget packets are counted and dropped, not parsed; the server still answers."""
    log = ChangeLog(controls)
    started = time.monotonic()
    flood = message("/livegen/temperature", 2.0)
    for _ in range(20_000):
        send(client, server, flood)
    markers = 0
    deadline = time.monotonic() + DEADLINE_S
    while ("temperature", 0.5) not in log.changes:  # the marker comes after the whole flood in the socket's queue
        assert time.monotonic() < deadline, "the server stopped answering"
        send(client, server, message("/livegen/temperature", 0.5))
        markers += 1
        time.sleep(0.05)
    elapsed = time.monotonic() - started
    assert server.refused > 0
    assert server.received <= BURST_PACKETS + MAX_PACKETS_PER_S * elapsed + markers


def test_a_refused_value_is_never_echoed_in_full(controls, server, client, caplog):
    """One 60 KB packet once made a 240 KB log line: every argument, address and line is bounded."""
    log = ChangeLog(controls)
    huge_text, huge_blob = "x" * 60_000, b"\xff" * 60_000
    refused = [message("/livegen/type", huge_text), message("/livegen/tempo", huge_blob),
               message("/livegen/" + huge_text[:60_000 - 20]), message(FEEDBACK_HERE, huge_text)]
    for count, datagram in enumerate(refused, 1):  # one at a time: four 60 KB datagrams at once can overflow
        send(client, server, datagram)  # the socket's receive buffer on a busy machine, and one is dropped
        deadline = time.monotonic() + DEADLINE_S
        while len(caplog.records) < count:
            assert time.monotonic() < deadline, [record.getMessage()[:80] for record in caplog.records]
            time.sleep(0.01)
    send(client, server, message("/livegen/transpose", 2))
    log.wait_for("transpose", 2)
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 4 and all(len(line) < 400 for line in lines), [len(line) for line in lines]
    assert "/livegen/type: refused a str argument of 60,000 characters" in lines[0]
    assert "/livegen/tempo: refused a bytes argument of 60,000 characters" in lines[1]
    assert log.changes == [("transpose", 2)]


def test_every_rate_limited_line_is_bounded(caplog):
    problems = RateLimitedLog(logging.getLogger("livegen.test"))
    problems.warn("long", "y" * 100_000)
    (line,) = [record.getMessage() for record in caplog.records]
    assert line == "y" * MAX_LINE_CHARS + f"... ({100_000 - MAX_LINE_CHARS:,} more characters)"


def local_ipv4_address() -> str | None:
    """This machine's address on its default route (no packet is sent), or None without one."""
    probe = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        probe.connect(("192.0.2.1", 9))
        address = probe.getsockname()[0]
    except OSError:
        return None
    finally:
        probe.close()
    return None if address.startswith("127.") else address


def test_ipv4_clients_of_an_ipv6_socket_match_the_allow_list(controls):
    """--osc-host :: takes IPv4 clients as ::ffff:a.b.c.d; they must match the allow list (and loopback) as a.b.c.d."""
    try:
        probe = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        probe.bind(("::1", 0))
        probe.close()
    except OSError:
        pytest.skip("no IPv6 loopback on this machine")
    local = local_ipv4_address()
    allowed = OscServer(controls, host="::", port=0, allow=(local or "192.0.2.7",)).start()
    refusing = OscServer(controls, host="::", port=0, allow=("192.0.2.99",)).start()
    log = ChangeLog(controls)
    senders = [("127.0.0.1", socket.AF_INET, "127.0.0.1"), ("::1", socket.AF_INET6, "::1")]
    if local is not None:
        senders.append((local, socket.AF_INET, local))
    try:
        for transpose, (source, family, target) in enumerate(senders, 1):
            with socket.socket(family, socket.SOCK_DGRAM) as sender:
                sender.bind((source, 0))
                sender.sendto(message("/livegen/transpose", transpose), (target, allowed.port))
            log.wait_for("transpose", transpose)
        if local is not None:  # a client not on the list is still refused when it arrives mapped
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
                sender.bind((local, 0))
                deadline = time.monotonic() + DEADLINE_S
                while refusing.refused == 0:
                    assert time.monotonic() < deadline, "the unlisted client was not refused"
                    sender.sendto(message("/livegen/transpose", 12), (local, refusing.port))
                    time.sleep(0.05)
            assert controls["transpose"] == len(senders)
    finally:
        allowed.close()
        refusing.close()


def test_listening_beyond_this_computer_needs_an_allow_list(controls):
    with pytest.raises(LivegenError, match="--osc-allow"):
        OscServer(controls, host="0.0.0.0", port=0)
    with pytest.raises(LivegenError, match="not an IP address"):
        OscServer(controls, port=0, allow=("my-tablet",))


def test_a_taken_port_is_one_line(controls, server):
    with pytest.raises(LivegenError, match="in use"):
        OscServer(controls, port=server.port)


def test_feedback_follows_changes_from_anywhere_and_the_tune(controls, server, client):
    feedback = Feedback(controls).start()
    server._on_feedback_here = feedback.add_target
    reader = FeedbackReader()
    try:
        send(client, server, message(FEEDBACK_HERE, reader.port))
        latest = reader.wait_for(lambda latest: "/livegen/seed/text" in latest, "snapshot")
        assert all(parameter.text_address in latest for parameter in VALUE_PARAMETERS)
        assert latest["/livegen/tempo"] == 120.0 and latest["/livegen/key/text"] == "auto"

        controls.receive("temperature", 0.0, norm=True)  # as a CC would
        send(client, server, message("/livegen/meter", "6/8"))
        feedback.tune("The Kesh", 3, 66)
        latest = reader.wait_for(lambda latest: latest.get(TUNE_NOTE) == "F#4" and latest.get("/livegen/meter") == 4
                                 and latest.get("/livegen/temperature/text") == "0.05", "after changes")
        assert latest["/livegen/temperature/norm"] == 0.0 and latest["/livegen/meter/text"] == "6/8"
        assert latest[TUNE_TITLE] == "The Kesh" and latest[TUNE_BAR] == 3
    finally:
        feedback.close()
        reader.close()


def test_run_refuses_bad_options_in_one_line(capsys):
    for argv, reason in [(["run", "--cc", "warmth=3"], "no parameter"), (["run", "--tempo", "500"], "outside"),
                         (["run", "--feedback", "nowhere"], "HOST:PORT"), (["run", "--key", "H"], "is not one of")]:
        with pytest.raises(SystemExit) as exit:
            main(argv)
        assert exit.value.code == 2
        assert reason in capsys.readouterr().err.splitlines()[-1]


def test_a_bad_preset_is_one_line(capsys, tmp_path):
    bad = tmp_path / "mine.toml"
    bad.write_text('description = "mine"\ntempo = "fast"\n')
    for preset, reason in [("nope", "no preset 'nope'"), (str(bad), "field 'tempo'")]:
        assert main(["run", "--preset", preset, "--no-osc", "--no-cc"]) == 2
        error = capsys.readouterr().err
        assert error.count("\n") == 1 and reason in error, error


def test_run_help_names_every_parameter_with_its_address_and_cc(capsys):
    with pytest.raises(SystemExit):
        main(["run", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for parameter in PARAMETERS.values():
        assert parameter.address in text, parameter.name
        if parameter.holds_value and parameter.name != "play":
            assert parameter.option in text and parameter.describe_range() in text, parameter.name
        if parameter.cc is not None:
            assert f"{parameter.cc} {parameter.name}" in text, parameter.name
