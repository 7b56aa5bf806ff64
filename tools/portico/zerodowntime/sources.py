"""Source addresses for the load's fresh connections, so the client never runs out of local ports.

A request on a fresh connection leaves its socket in TIME_WAIT for 60 s on the
side that closed first (mostly the client), and vegeta binds its source address
before each connect, which needs a port that no socket on that address holds,
TIME_WAIT included. Linux hands bind(port 0) the odd ports of the range first
and connect() the even ones (since 4.6, so that the two rarely collide); only
after a failed walk over its whole half does either look at the other. So an
address's practical pool is half the range, 14,116 ports by default: 250 fresh
requests/s keep 15,000 sockets in TIME_WAIT, past that half, and from then on
every bind walks the full half under a lock. Measured on this machine
(tests/cluster/test_upgrade.py, the LoadBalancer beside the HTTPRoute): the two
fresh-connection generators went to 100% system CPU each about 30 s into the
load, the run queue to 35, and both targets timed out for 30 s while the
rollout was healthy.

So a target's fresh connections are capped at what one address's half holds
(kept-alive connections carry the rest of its rate); loopback targets get them
from a 127.0.0.0/8 address of their own, skipping addresses that still hold
TIME_WAIT sockets from an earlier run. Other targets bind the address the
kernel routes them from (e.g. 172.18.0.1 on kind's Docker network), not the
wildcard: a wildcard bind conflicts with a port held on any address, the
loopback attacks' included, so every pool would share one half range.

A proxy in between has the same problem on its own side: Docker's userland
proxy, behind every port kind publishes on 127.0.0.1 unless Docker runs with
`"userland-proxy": false`, opens a connection to the node for each one it
accepts, from one address to one port (connect(): the even half), so its
TIME_WAIT sockets fill one half range per destination; when they run out it
fails every connection, and a storm of them can stop it for good. So fresh
connections are also capped per destination (host and port) where such a proxy
listens, and per routed source address; kept-alive connections carry the rest
of the rate (`fresh_rates`).
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
    """Fresh connections per second one pool (a bound source address, or a proxy's destination) sustains
    within the half of the range its port search walks first."""
    return (ports or port_range()) // 2 * SHARE / TIME_WAIT_SECONDS


def route_source(host: str) -> str:
    """The local address the kernel sends to `host` from (a UDP connect sends nothing); the wildcard when
    there is no route or `host` is a name that does not resolve."""
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect((host, 9))
            return s.getsockname()[0]
    except OSError:
        return WILDCARD


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

    def __init__(self, ports: int | None = None, busy: Counter | None = None, route=None):
        self.capacity = capacity(ports)
        self._route = route or route_source
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
        return [(self._route(host), rate)]


def userland_proxies(proc: Path = Path("/proc")) -> set[int] | None:
    """Host ports a Docker userland proxy (docker-proxy) listens on; None when no dockerd shows in this
    machine's process table (Docker runs elsewhere: Docker Desktop, a remote host), so one must be assumed."""
    ports, dockerd = set(), False
    for cmdline in proc.glob("[0-9]*/cmdline"):
        try:
            args = cmdline.read_bytes().split(b"\0")
        except OSError:
            continue
        name = Path(args[0].decode(errors="replace")).name
        dockerd = dockerd or name == "dockerd"
        if name == "docker-proxy" and b"-host-port" in args:
            value = args[args.index(b"-host-port") + 1:][:1]
            ports.update(int(v) for v in value if v.isdigit())
    return ports if dockerd else None


def fresh_rates(wanted: dict[str, tuple[str, int, float]], ports: int | None = None, route=None,
                proxies=None) -> dict[str, float]:
    """Fresh connections/s per target, from {target: (host, port, wanted)}: what each pool of local ports holds.

    A target's fresh attack binds one source address, so it gets at most one address's capacity: splitting it
    over more addresses would add a generator process each, and on a machine the cluster already keeps busy
    that CPU shows as latency. Loopback targets behind a userland proxy also pool by destination (the proxy's
    side: one source address, one destination port; `proxies()`: the ports with a proxy, None when that cannot
    be seen, so every one). The rest pool by the address they are routed from. Within a pool every target is
    scaled by the same factor."""
    limit = capacity(ports)
    route = route or route_source
    proxied = (proxies or userland_proxies)()
    pools: dict[tuple, list[str]] = {}
    for name, (host, port, _) in wanted.items():
        if not is_loopback(host):
            pools.setdefault((route(host),), []).append(name)
        elif proxied is None or port in proxied:
            pools.setdefault((host, port), []).append(name)
    out = {name: min(rate, limit) for name, (_, _, rate) in wanted.items()}
    for names in pools.values():
        total = sum(wanted[n][2] for n in names)
        scale = min(1.0, limit / total) if total else 1.0
        out.update({n: wanted[n][2] * scale for n in names})
    return out
