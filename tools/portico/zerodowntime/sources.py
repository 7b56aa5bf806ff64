"""Source addresses for the load's fresh connections, so the client never runs out of local ports.

A request on a fresh connection leaves its socket in TIME_WAIT for 60 s on the
side that closed first (mostly the client), and vegeta binds its source address
before each connect, which needs a port that no socket on that address holds,
TIME_WAIT included. 250 fresh requests/s on each of three targets keep about
45,000 sockets in TIME_WAIT against the 28,232 ports of Linux's default range:
within half a minute every connect fails with "bind: address already in use"
and a safe chart looks broken. Loopback targets get fresh attacks from their own
127.0.0.0/8 addresses (each has the whole port range), each address carrying at
most what its ports can hold, and addresses that still hold TIME_WAIT sockets
from an earlier run are skipped. Other targets share the wildcard address.

A proxy in between has the same problem on its own side: Docker's userland
proxy, behind every port kind publishes on 127.0.0.1, opens a connection to the
node for each one it accepts, from one address to one port, so its TIME_WAIT
sockets fill the same 28,232 ports per destination; when they run out it fails
every connection, and a storm of them can stop it for good. So fresh
connections are also capped per destination (host and port), and per wildcard
address; kept-alive connections carry the rest of the rate (`fresh_rates`).
"""

from __future__ import annotations

import ipaddress
import math
import socket
from collections import Counter
from pathlib import Path

from portico.net import PROC_NET_TCP, TIME_WAIT, tcp_sockets

TIME_WAIT_SECONDS = 60  # Linux's TCP_TIMEWAIT_LEN, not tunable
SHARE = 0.6  # of an address's ports that the load may keep in TIME_WAIT (the rest: other clients, margin)
WILDCARD = "0.0.0.0"
CANDIDATES = [f"127.0.{block}.{host}" for block in range(1, 4) for host in range(1, 255)]


def port_range(path: Path = Path("/proc/sys/net/ipv4/ip_local_port_range")) -> int:
    try:
        low, high = (int(x) for x in path.read_text().split())
        return high - low + 1
    except (OSError, ValueError):
        return 28232  # Linux's default range, 32768-60999


def capacity(ports: int | None = None) -> float:
    """Fresh connections per second one source address sustains without running out of ports."""
    return (ports or port_range()) * SHARE / TIME_WAIT_SECONDS


def time_wait_by_address(path: Path = PROC_NET_TCP) -> Counter:
    """Sockets in TIME_WAIT per local IPv4 address."""
    return Counter(address for address, _, state in tcp_sockets(path) if state == TIME_WAIT)


def _bindable(address: str) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((address, 0))
            return True
        except OSError:
            return False


def is_loopback(url_host: str) -> bool:
    try:
        return ipaddress.ip_address(url_host).is_loopback
    except ValueError:
        return url_host == "localhost"


class Sources:
    """Hands out source addresses: a fresh loopback address per `split`, never one still holding TIME_WAIT."""

    def __init__(self, ports: int | None = None, busy: Counter | None = None):
        self.capacity = capacity(ports)
        busy = time_wait_by_address() if busy is None else busy
        self._free = [a for a in CANDIDATES if not busy.get(a)]

    def split(self, host: str, rate: float, fresh: bool = True) -> list[tuple[str, float]]:
        """(source address, rate) pairs that together send `rate` requests/s to `host`; on fresh connections
        an address takes at most `capacity`, kept-alive ones get an address of their own (a reconnect storm
        after a stall then stays off everyone else's ports)."""
        if is_loopback(host) and self._free and _bindable(self._free[0]):
            parts = max(1, math.ceil(rate / self.capacity)) if fresh else 1
            if parts <= len(self._free):
                sources, self._free = self._free[:parts], self._free[parts:]
                return [(a, rate / parts) for a in sources]
        return [(WILDCARD, rate)]


def fresh_rates(wanted: dict[str, tuple[str, int, float]], ports: int | None = None) -> dict[str, float]:
    """Fresh connections/s per target, from {target: (host, port, wanted)}: what each pool of local ports holds.

    Loopback targets pool by destination (the proxy's side: one source address, one destination port);
    the rest share the wildcard source address. Within a pool every target is scaled by the same factor."""
    limit = capacity(ports)
    pools: dict[tuple, list[str]] = {}
    for name, (host, port, _) in wanted.items():
        pools.setdefault((host, port) if is_loopback(host) else (WILDCARD,), []).append(name)
    out = {}
    for names in pools.values():
        total = sum(wanted[n][2] for n in names)
        scale = min(1.0, limit / total) if total else 1.0
        out.update({n: wanted[n][2] * scale for n in names})
    return out
