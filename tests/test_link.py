"""Ableton Link with a real second peer in the test process, on a private network (livegen.testing.link_peer).

The peer stands in for Live: it sets tempos, stops the transport, and is the
judge of where the session's beats and bars fall (Link's own phaseAtTime),
so nothing here trusts livegen's arithmetic to check itself. Without the
binding, a private network or multicast discovery, the tests skip with the
reason, and fail in CI.
"""

from __future__ import annotations

import importlib.util
import sys
import time

import pytest
from conftest import require

from livegen.errors import LivegenError
from livegen.testing.link_peer import DISCOVERY_S, LinkPeer, NoPrivateNetwork, private_network, wait_until

GRID_TOLERANCE_S = 0.0005  # the clock against the peer's grid, both read on this machine: Link's own precision is microseconds


@pytest.fixture
def link_network():
    """A private network in which Link peers find each other; yields a maker of peers, closed at the end."""
    require(importlib.util.find_spec("link") is not None, "the Link binding (pip install 'livegen[link]')")
    peers: list = []
    try:
        with private_network():
            def make(kind=LinkPeer, *args, **options):
                peers.append(kind(*args, **options))
                return peers[-1]

            first, second = make(), make()
            found = _found_each_other(first, second)
            for probe in (first, second):
                probe.close()
            peers.clear()
            require(found, f"Link peer discovery (multicast on the loopback interface) within {DISCOVERY_S} s")
            yield make
            for peer in peers:
                peer.close()
    except NoPrivateNetwork as error:
        require(False, f"a private network for Link's discovery: {error}")


def _found_each_other(first: LinkPeer, second: LinkPeer) -> bool:
    try:
        wait_until(lambda: first.peers and second.peers, DISCOVERY_S, "peers")
    except AssertionError:
        return False
    return True


@pytest.fixture
def link_clock(link_network):
    """make(tempo=120, start_stop_sync=False): a LinkClock in the private network."""
    from livegen.realtime.link_clock import LinkClock

    def make(tempo_bpm: float = 120.0, start_stop_sync: bool = False) -> LinkClock:
        return link_network(LinkClock, tempo_bpm, start_stop_sync)

    return make


def grid_errors(peer: LinkPeer, times: list[float], quantum: float = 1.0) -> list[float]:
    return [peer.grid_error(t, quantum) for t in times]


def test_the_clock_joins_the_session_and_takes_its_tempo_and_beats(link_network, link_clock):
    peer = link_network(LinkPeer, 120.0)
    clock = link_clock(120.0)
    wait_until(lambda: clock.peers == 1 and peer.peers == 1, DISCOVERY_S, "each other as peers")
    peer.set_tempo(97.0)
    wait_until(lambda: abs(clock.tempo_bpm - 97.0) < 0.01, 1.0, "the session's 97 BPM")
    time.sleep(0.05)  # the follower's next reading settles the line on the session's
    now = time.monotonic()
    first = int(clock.beat_at(now)) + 1
    times = [clock.time_of(beat) for beat in range(first, first + 8)]
    assert max(map(abs, grid_errors(peer, times))) < GRID_TOLERANCE_S
    assert times[1] - times[0] == pytest.approx(60 / 97, abs=1e-5)


def test_a_tempo_livegen_proposes_reaches_the_peer_within_a_second(link_network, link_clock):
    peer = link_network(LinkPeer, 120.0)
    clock = link_clock(120.0)
    wait_until(lambda: clock.peers == 1, DISCOVERY_S, "the peer")
    clock.set_tempo(133.0, from_beat=clock.beat_at(time.monotonic()))
    wait_until(lambda: abs(peer.tempo_bpm - 133.0) < 0.01, 1.0, "133 BPM at the peer")


def test_beats_already_given_out_keep_their_times_and_the_next_ones_rejoin_the_peers_grid(link_network, link_clock):
    peer = link_network(LinkPeer, 120.0)
    clock = link_clock(120.0)
    wait_until(lambda: clock.peers == 1, DISCOVERY_S, "the peer")
    time.sleep(0.05)
    first = int(clock.beat_at(time.monotonic())) + 1
    queued = {beat / 2: clock.time_of(beat / 2) for beat in range(2 * first, 2 * first + 3)}  # one beat of eighths
    peer.set_tempo(160.0)
    wait_until(lambda: abs(clock.tempo_bpm - 160.0) < 0.01, 1.0, "160 BPM at the clock")
    time.sleep(0.05)
    assert {beat: clock.time_of(beat) for beat in queued} == queued  # neither rushed nor dragged

    later = [first + 2 + beat / 2 for beat in range(40)]
    times = [clock.time_of(beat) for beat in later]
    spacing = [b - a for a, b in zip(times, times[1:])]
    assert min(spacing) > 0.75 * 0.5 * 60 / 160 - 1e-6  # the bridge bends a beat by a quarter at most
    assert max(map(abs, grid_errors(peer, times[-8:], 0.5))) < GRID_TOLERANCE_S  # ... and ends on the peer's grid
    assert abs(grid_errors(peer, [times[0]], 0.5)[0]) > GRID_TOLERANCE_S  # (the first were bridged, not jumped)


def test_bars_start_on_the_peers_bars_for_the_metre_asked(link_network, link_clock):
    peer = link_network(LinkPeer, 110.0)
    clock = link_clock(110.0)
    wait_until(lambda: clock.peers == 1, DISCOVERY_S, "the peer")
    time.sleep(0.05)
    now_beat = clock.beat_at(time.monotonic())
    for beats_per_bar in (4.0, 3.0, 6.0):
        start = clock.bar_start(now_beat + 0.3, beats_per_bar)
        assert now_beat + 0.3 <= start < now_beat + 0.3 + beats_per_bar
        assert abs(peer.grid_error(clock.time_of(start), beats_per_bar)) < GRID_TOLERANCE_S


def test_with_start_stop_sync_the_peers_transport_runs_and_stops_the_clock(link_network, link_clock):
    peer = link_network(LinkPeer, 120.0, start_stop_sync=True)
    clock = link_clock(120.0, start_stop_sync=True)
    moves: list[bool] = []
    clock.on_transport(moves.append)
    wait_until(lambda: clock.peers == 1, DISCOVERY_S, "the peer")
    assert not clock.running and clock.time_of(0.0) is None
    peer.set_playing(True)
    wait_until(lambda: clock.running, 1.0, "the transport running")
    assert clock.time_of(clock.beat_at(time.monotonic()) + 1) is not None
    peer.set_playing(False)
    wait_until(lambda: not clock.running, 1.0, "the transport stopped")
    assert moves == [False, True]  # started, then stopped


def test_without_the_extra_the_clock_names_the_install_command(monkeypatch):
    from livegen.realtime import link_clock

    monkeypatch.setitem(sys.modules, "link", None)  # what `import link` meets when the binding is missing
    with pytest.raises(LivegenError, match=r"pip install 'livegen\[link\]'"):
        link_clock.load_link()
