"""ghz: open-loop gRPC load at a constant rate, every call recorded, for grpc:// targets.

Why ghz (github.com/bojand/ghz, pinned as GHZ_VERSION, built from its Go module
like the other tools): vegeta speaks only HTTP, and ghz is the maintained gRPC
load tool. With `--async` each tick of its pacer starts a call at once whatever
the calls in flight do, so a stall shows as failed or slow calls, not as calls
never made (open loop, like vegeta); its JSON report keeps every call's start,
latency, status code and error. The call is the standard health check
(grpc.health.v1.Health/Check, package data grpc/health.proto): any gRPC server
that Kubernetes' own gRPC probe can check serves it. SIGINT is ghz's graceful
stop: the report is written with the calls made so far.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from portico.clients.vegeta import Attack, Result, epoch
from portico.errors import ToolError
from portico.paths import data_path
from portico.process import Process, Runner, default_runner
from portico.toolchain.locate import tool_path

HEALTH_CHECK = "grpc.health.v1.Health.Check"
# HTTP/2 connections, calls multiplexed on them (clients pool a few, not one per call); one worker each, and
# with --async a worker starts each call in a goroutine of its own, so no call waits for a free worker.
CONNECTIONS = 4


# What a call says when ghz closed its own connection under it: only its stop does that (a server that goes
# away gives EOF, a reset or GOAWAY, never these).
CLIENT_CLOSED = ("use of closed network connection", "the client connection is closing", "context canceled")


def cut_by_stop(error: str, started: float, last_start: float, timeout: float) -> bool:
    """A call in flight when the load stopped: ghz's SIGINT stop closes its connections at once (vegeta's lets
    requests in flight finish), so such a call fails by the generator's hand, not the cluster's."""
    return any(text in error for text in CLIENT_CLOSED) and started >= last_start - timeout


def address(url: str) -> str:
    """grpc://HOST:PORT -> HOST:PORT."""
    return url.removeprefix("grpc://").rstrip("/")


@dataclass
class Ghz:
    binary: str
    runner: Runner = field(default_factory=default_runner)

    @classmethod
    def pinned(cls) -> "Ghz":
        return cls(tool_path("ghz"))

    def _base(self, timeout: float, host: str | None) -> list[str]:
        return [self.binary, "--insecure", f"--proto={data_path('grpc') / 'health.proto'}", f"--call={HEALTH_CHECK}",
                "--data={}", f"--timeout={timeout:g}s", *([f"--authority={host}"] if host else [])]

    def answers(self, url: str, host: str | None = None, timeout: float = 3.0) -> bool:
        """One health check call: did it succeed? (Before the load: routes take a moment to program.)"""
        done = self.runner.run([*self._base(timeout, host), "--total=1", "--format=json", address(url)],
                               check=False, timeout=timeout + 30, summary="ghz")
        try:
            return json.loads(str(done.stdout)).get("statusCodeDistribution") == {"OK": 1}
        except ValueError:
            return False

    def start(self, attack: Attack, output: Path) -> Process:
        """Start the calls in the background; `stop(process)` ends them early, the report goes to `output`."""
        args = [*self._base(attack.timeout, attack.host), "--async", f"--rps={max(1, round(attack.rate))}",
                f"--concurrency={CONNECTIONS}", f"--connections={CONNECTIONS}", f"--duration={attack.duration:g}s",
                "--format=json", f"--output={output}"]
        return self.runner.start([*args, address(attack.url)], stderr_to=output.with_suffix(".log"))

    @staticmethod
    def interrupt(process: Process) -> None:
        process.interrupt()

    @staticmethod
    def stop(process: Process, timeout: float = 15.0) -> None:
        # ghz exits 1 when calls failed (its own verdict); the report still has every call.
        process.finish_interrupted(timeout, (0, 1), "ghz")

    def results(self, output: Path, timeout: float = 5.0) -> Iterator[Result]:
        """Every call, as a Result: code 200 for gRPC OK (the verdict's "succeeded"), 0 with the status and
        the error text otherwise; not the calls ghz's own stop cut (cut_by_stop)."""
        try:
            report = json.loads(output.read_text())
        except (OSError, ValueError) as exc:
            raise ToolError(f"ghz wrote no readable report at {output}: {exc}") from None
        calls = [(epoch(c["timestamp"]), c) for c in report.get("details") or []]
        last = max((started for started, _ in calls), default=0.0)
        for started, call in calls:
            status = call.get("status") or "Unknown"
            ok = status == "OK" and not call.get("error")
            if not ok and cut_by_stop(call.get("error") or "", started, last, timeout):
                continue
            yield Result(timestamp=started, latency=call["latency"] / 1e9, code=200 if ok else 0,
                         error="" if ok else f"grpc {status}: {call.get('error') or ''}", headers={})
