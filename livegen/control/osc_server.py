"""OSC in: /livegen/<parameter> messages over UDP change the live controls.

Nothing a client sends can stop the music or the server: every datagram is
handled inside one guard, and what is wrong with it (a malformed packet, a
wrong argument type, NaN, an unknown address, a value out of range, a client
not allowed) is refused or clamped with a rate-limited log line. Floods are
cut off cheaply before parsing by a token bucket, so 10,000 packets a second
cost the realtime threads little.

Bundles are taken apart and their messages applied at once: a time tag in
the future would otherwise let one packet hold the server (python-osc's own
dispatcher sleeps until it), and live control wants no scheduling anyway.

By default the server listens on 127.0.0.1 only. Listening on another
interface needs an explicit list of client addresses (--osc-allow); loopback
clients are always accepted. An IPv6 socket (--osc-host ::) takes IPv4
clients too; they arrive as ::ffff:a.b.c.d and are matched as a.b.c.d.

Nothing a client sends is echoed in full: a text or blob argument longer
than any value is refused by its length, and every line is bounded
(RateLimitedLog), so one 65 KB packet cannot make a 65 KB log line.
"""

from __future__ import annotations

import errno
import functools
import ipaddress
import logging
import reprlib
import socket
import threading
import time

from pythonosc.osc_packet import OscPacket

from livegen.control.controls import Controls
from livegen.control.parameters import FEEDBACK_HERE, NORM_SUFFIX, OSC_PREFIX, PARAMETERS
from livegen.control.rate_limited_log import RateLimitedLog
from livegen.errors import LivegenError

log = logging.getLogger(__name__)

DEFAULT_OSC_HOST = "127.0.0.1"  # this computer only: listening wider needs --osc-allow
DEFAULT_OSC_PORT = 9000
MAX_PACKETS_PER_S = 2000  # far above any controller (a TouchOSC fader sends about 60 a second) ...
BURST_PACKETS = 500  # ... with room for a burst of several faders at once
MAX_DATAGRAM = 65536
POLL_S = 0.1  # how often the receiving thread checks whether it should stop
MAX_TEXT_ARGUMENT = 64  # far longer than a choice's name: refused unread (not formatted, not logged)


class OscServer:
    """Receives OSC on host:port (port 0: any free port, see .port) and applies it to `controls`.

    on_feedback_here(host, port), if given, is called for /livegen/feedback/here.
    """

    def __init__(self, controls: Controls, host: str = DEFAULT_OSC_HOST, port: int = DEFAULT_OSC_PORT,
                 allow: tuple[str, ...] = (), on_feedback_here=None):
        self.controls = controls
        self.host = host
        self._allowed = _allowed_addresses(host, allow)
        self._on_feedback_here = on_feedback_here
        self._problems = RateLimitedLog(log)
        self._bucket = _TokenBucket(MAX_PACKETS_PER_S, BURST_PACKETS)
        self._socket = _bind(host, port)
        self.port = self._socket.getsockname()[1]
        self._closing = False
        self._thread = threading.Thread(target=self._serve, name="livegen-osc", daemon=True)
        self.received = self.refused = 0  # packets: taken apart / turned away before parsing

    def start(self) -> OscServer:
        logging.getLogger().addFilter(_quiet_python_osc)
        self._thread.start()
        return self

    def close(self) -> None:
        self._closing = True
        if self._thread.is_alive():
            self._thread.join(2 * POLL_S + 1.0)
        self._socket.close()
        logging.getLogger().removeFilter(_quiet_python_osc)

    def _serve(self) -> None:
        while not self._closing:
            try:
                datagram, sender = self._socket.recvfrom(MAX_DATAGRAM)
            except TimeoutError:
                continue
            except OSError as error:  # e.g. an ICMP error queued on the socket: keep listening
                self._problems.warn("socket", f"OSC socket: {error}")
                continue
            if not self._accepts(sender[0]):
                continue
            self.received += 1
            try:
                for timed in OscPacket(datagram).messages:
                    self._apply(timed.message.address, timed.message.params, sender)
            except Exception as error:  # untrusted bytes: whatever parsing raises, the server goes on
                self._problems.warn("malformed", f"malformed OSC packet from {sender[0]} refused "
                                    f"({type(error).__name__}: {error})")

    def _accepts(self, host: str) -> bool:
        if self._allowed is not None and _client_address(host) not in self._allowed:
            self.refused += 1
            self._problems.warn("not allowed", f"OSC from {host} refused: not in --osc-allow")
            return False
        if not self._bucket.take():
            self.refused += 1
            self._problems.warn("flood", f"OSC flood: over {MAX_PACKETS_PER_S} packets a second, "
                                "the excess is dropped")
            return False
        return True

    def _apply(self, address: str, arguments: list, sender: tuple[str, int]) -> None:
        if address == FEEDBACK_HERE:
            self._feedback_here(arguments, sender)
            return
        name, norm = _parameter_of(address)
        if name is None:
            self._problems.warn("unknown", f"unknown OSC address {reprlib.repr(address)} refused "
                                f"(see `livegen run --help` for the addresses)")
            return
        if len(arguments) > 1 or (not arguments and PARAMETERS[name].holds_value):
            self._problems.warn("arguments", f"{address}: refused {len(arguments)} arguments (it takes one)")
            return
        argument = arguments[0] if arguments else None
        if isinstance(argument, (str, bytes)) and len(argument) > MAX_TEXT_ARGUMENT:
            self._problems.warn(name, f"{address}: refused a {type(argument).__name__} argument of "
                                f"{len(argument):,} characters (no value is longer than {MAX_TEXT_ARGUMENT})")
            return
        problem = self.controls.receive(name, argument, norm)
        if problem is not None:
            self._problems.warn(name, problem)

    def _feedback_here(self, arguments: list, sender: tuple[str, int]) -> None:
        """Reply to the sender's address, or to the port given as the one argument."""
        port = sender[1]
        if arguments:
            if len(arguments) != 1 or type(arguments[0]) is not int or not 0 < arguments[0] < 65536:
                self._problems.warn("feedback", f"{FEEDBACK_HERE}: refused {reprlib.repr(arguments)} (give no "
                                    "argument, or the port to reply to)")
                return
            port = arguments[0]
        if self._on_feedback_here is not None:
            self._on_feedback_here(sender[0], port)


def _parameter_of(address: str) -> tuple[str | None, bool]:
    """The parameter an address names, and whether it is the 0..1 /norm form."""
    if not address.startswith(OSC_PREFIX):
        return None, False
    name = address[len(OSC_PREFIX):]
    norm = name.endswith(NORM_SUFFIX)
    if norm:
        name = name[:-len(NORM_SUFFIX)]
    return (name, norm) if name in PARAMETERS else (None, False)


def _allowed_addresses(host: str, allow: tuple[str, ...]) -> frozenset[str] | None:
    """None (anyone) on loopback; else the listed clients and loopback, or an error if none are listed."""
    for address in allow:
        try:
            ipaddress.ip_address(address)
        except ValueError:
            raise LivegenError(f"--osc-allow {address!r} is not an IP address") from None
    if _is_loopback(host):
        return None
    if not allow:
        raise LivegenError(f"--osc-host {host} listens beyond this computer: list the controllers' addresses "
                           "with --osc-allow (e.g. --osc-allow 192.168.1.20)")
    return frozenset(_client_address(address) for address in allow) | {"127.0.0.1", "::1"}


@functools.lru_cache(maxsize=1024)  # called per packet: a flood from one client parses its address once
def _client_address(host: str) -> str:
    """An address as the allow list is matched: canonical, and an IPv4-mapped IPv6 address as plain IPv4."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host
    mapped = getattr(address, "ipv4_mapped", None)
    return str(mapped or address)


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(_client_address(host)).is_loopback
    except ValueError:
        return host == "localhost"


def _bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    udp = socket.socket(family, socket.SOCK_DGRAM)
    if family == socket.AF_INET6 and hasattr(socket, "IPV6_V6ONLY"):
        udp.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)  # :: takes IPv4 clients too, whatever the OS default
    try:
        udp.bind((host, port))
    except OSError as error:
        udp.close()
        in_use = error.errno == errno.EADDRINUSE
        reason = "the port is in use (another livegen? choose one with --osc-port)" if in_use else error.strerror
        raise LivegenError(f"cannot listen for OSC on {host}:{port}: {reason}") from None
    udp.settimeout(POLL_S)
    return udp


class _TokenBucket:
    """Allows `rate` events a second on average, `burst` at once."""

    def __init__(self, rate: float, burst: int):
        self._rate, self._burst = rate, burst
        self._tokens = float(burst)
        self._last = time.monotonic()

    def take(self) -> bool:
        now = time.monotonic()
        self._tokens = min(self._burst, self._tokens + (now - self._last) * self._rate)
        self._last = now
        if self._tokens < 1:
            return False
        self._tokens -= 1
        return True


def _quiet_python_osc(record: logging.LogRecord) -> bool:
    """python-osc warns on the root logger about each odd packet; those are ours to report, once."""
    return "pythonosc" not in record.pathname
