"""Loopback helpers: Portico's local servers listen on 127.0.0.1 only."""

from __future__ import annotations

import ipaddress
import socket
from pathlib import Path
from typing import Iterator

LOOPBACK = "127.0.0.1"
PROC_NET_TCP = Path("/proc/net/tcp")
LISTEN, TIME_WAIT = "0A", "06"


def tcp_sockets(path: Path = PROC_NET_TCP) -> Iterator[tuple[str, int, str]]:
    """This host's IPv4 TCP sockets from /proc/net/tcp: (local address, local port, state code); none where the
    file cannot be read (not Linux)."""
    try:
        lines = path.read_text().splitlines()[1:]
    except OSError:
        return
    for line in lines:
        fields = line.split()
        if len(fields) > 3:
            hex_ip, _, hex_port = fields[1].partition(":")
            yield str(ipaddress.IPv4Address(bytes.fromhex(hex_ip)[::-1])), int(hex_port, 16), fields[3]


def free_port() -> int:
    """A TCP port free on every local address right now (the kernel picks it), so a server may listen on it on
    127.0.0.1 or on all addresses. Asking for 127.0.0.1 alone could return a port that a socket bound to another
    loopback address holds (the load generator's, in TIME_WAIT for 60 s), and a server listening on all
    addresses then fails to bind. Nothing listens on it here: the socket only reserves the number."""
    with socket.socket() as s:
        s.bind(("", 0))
        return s.getsockname()[1]


class LocalServer:
    """A server Portico starts on loopback for the length of a `with` block: `_start` it, and `stop` it
    (processes and files) when the block ends, also when starting fails half-way or on Ctrl-C."""

    def __enter__(self):
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def _start(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        raise NotImplementedError
