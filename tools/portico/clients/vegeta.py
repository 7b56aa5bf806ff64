"""vegeta: open-loop HTTP load at a constant rate, every request recorded.

Why vegeta (github.com/tsenart/vegeta, pinned as VEGETA_VERSION and built from
its Go module like the other tools): its pacer sends on schedule whatever the
responses do, adding workers as requests stall, so a stall shows up as failed or
slow requests instead of requests never sent (no coordinated omission); each
result keeps its timestamp, latency, status, error and response headers.
"""

from __future__ import annotations

import json
import signal
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

from portico.errors import ToolError
from portico.process import Process, Runner, default_runner
from portico.toolchain.locate import tool_path


@dataclass(frozen=True)
class Attack:
    url: str  # only 127.0.0.1 or addresses of pods and containers the caller created
    rate: float  # requests per second
    duration: float  # seconds: the attack's own bound
    keepalive: bool = True
    host: str | None = None  # Host header (Ingress / HTTPRoute routing)
    timeout: float = 5.0
    # Bounds the connections a stall piles up (each worker holds one): a proxy in front of the app has a
    # file-descriptor limit too, and Docker's port proxy stops for good when it runs out.
    max_workers: int = 1000
    # POST is never replayed: Go's transport silently resends an idempotent GET whose reused connection broke,
    # which would hide exactly the broken kept-alive connections a zero-downtime check looks for.
    method: str = "GET"
    # The source address vegeta binds before each connect (vegeta's -laddr): a fresh connection per request
    # leaves one TIME_WAIT socket per request for 60 s, and a bind takes a port free on that address.
    source: str = "0.0.0.0"


@dataclass(frozen=True)
class Result:
    timestamp: float  # epoch seconds the request was sent
    latency: float  # seconds
    code: int  # 0 when no response came
    error: str  # vegeta's error text; "" on success
    headers: dict[str, list[str]]


def _epoch(stamp: str) -> float:
    # RFC 3339 with nanoseconds; datetime takes microseconds.
    head, _, frac = stamp.partition(".")
    if frac:
        digits = "".join(c for c in frac if c.isdigit())
        zone = frac[len(digits):]
        stamp = f"{head}.{digits[:6]}{zone}"
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@dataclass
class Vegeta:
    binary: str
    runner: Runner = field(default_factory=default_runner)

    @classmethod
    def pinned(cls) -> "Vegeta":
        return cls(tool_path("vegeta"))

    def start(self, attack: Attack, output: Path) -> Process:
        """Start the attack in the background; `stop(process)` ends it early, its results stay in `output`."""
        target = f"{attack.method} {attack.url}\n" + (f"Host: {attack.host}\n" if attack.host else "")
        process = self.runner.start(
            [self.binary, "attack", f"-rate={round(attack.rate * 1000)}/1000s", f"-duration={attack.duration:g}s",
             f"-keepalive={str(attack.keepalive).lower()}", f"-timeout={attack.timeout:g}s", "-http2=false",
             "-max-body=0", f"-max-workers={attack.max_workers}", f"-laddr={attack.source}",
             f"-output={output}"],
            stdin=True, stderr_to=output.with_suffix(".log"))
        process.stdin.write(target)
        process.stdin.close()
        return process

    @staticmethod
    def interrupt(process: Process) -> None:
        """SIGINT, vegeta's graceful stop: no more sending; requests in flight finish and are written."""
        if process.poll() is None:
            process.popen.send_signal(signal.SIGINT)

    @classmethod
    def stop(cls, process: Process, timeout: float = 15.0) -> None:
        """Interrupt the attack and wait until its results are written."""
        cls.interrupt(process)
        code = process.wait(timeout)
        if code not in (0, -signal.SIGINT):
            raise ToolError(f"vegeta attack exited {code}: {process.stderr_text()}")

    def results(self, output: Path) -> Iterator[Result]:
        """Every request of a finished attack, in the order vegeta recorded them."""
        done = self.runner.run([self.binary, "encode", "--to=json", output], timeout=300, summary="vegeta encode")
        for line in str(done.stdout).splitlines():
            if not line.strip():
                continue
            raw = json.loads(line)
            yield Result(timestamp=_epoch(raw["timestamp"]), latency=raw["latency"] / 1e9, code=raw["code"],
                         error=raw.get("error") or "", headers=raw.get("headers") or {})
