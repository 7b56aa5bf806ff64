"""Load on every target through an upgrade: vegeta, open loop at a constant rate, every request recorded.

Each target gets two vegeta attacks, half the rate each: POSTs on kept-alive
connections and GETs on a fresh connection each (what a client pool and a
one-shot client see). The kept-alive requests are POSTs because a client may not
resend them: Go's transport (like most clients) silently retries an idempotent
request whose reused connection broke, which would hide a broken connection.
Every request becomes a Sample: when it was sent, its latency, its status, its
failure class and, when the app says so (X-Version and X-Pod headers), which
version and pod answered. Bounded in time and count (the attack's duration is
the smaller of both); stop() ends it early.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable
from urllib.parse import urlsplit

from portico import wait
from portico.clients.ghz import Ghz
from portico.clients.vegeta import Attack, PodVegeta, Result, Vegeta
from portico.errors import ToolError
from portico.process import Process
from portico.zerodowntime.sources import Sources, fresh_rates

# refused, reset, eof, timeout: the connection failed; http: an error status (which component: see Sample);
# client: the load generator could not send (out of local ports or file descriptors): not the cluster's failure.
# grpc: a call that failed with a gRPC status and no connection failure behind it (the status is the component).
ERROR_KINDS = ("refused", "reset", "eof", "timeout", "http", "grpc", "client", "other")
CLIENT_ERRORS = ("address already in use", "cannot assign requested address", "too many open files")
MODES = {"keepalive": (True, "POST"), "fresh": (False, "GET")}
GRPC_MODE = "grpc"  # a grpc:// target: health checks multiplexed on a few HTTP/2 connections (ghz)


@dataclass(frozen=True)
class Target:
    name: str
    url: str  # http://127.0.0.1:PORT/path (only loopback or test-created addresses)
    host: str | None = None  # Host header, for Ingress / HTTPRoute routing
    rate: float | None = None  # requests/s on this target; None: the generator's rate per target
    # The kept-alive requests' method. POST by default: a client may not resend it, so a kept-alive connection
    # broken by the app shows. GET for a target behind a pooling proxy (Ingress, Gateway): the client's
    # connection ends at the proxy, and a POST there measures only whether the proxy may resend it when its
    # own pooled connection to a pod that is shutting down breaks (it may not: HTTP/1.1's close race).
    keepalive_method: str = "POST"
    # Send from a pod inside the cluster (a ClusterIP Service's clients), not from this machine.
    in_cluster: bool = False


def is_grpc(target: Target) -> bool:
    return target.url.startswith("grpc://")


@dataclass(frozen=True)
class Sample:
    target: str
    mode: str  # keepalive | fresh | grpc
    start: float  # seconds since the run began
    latency: float
    status: int | None
    error: str | None  # one of ERROR_KINDS, None when the request succeeded
    version: str | None
    pod: str | None
    component: str | None = None  # who failed it: app (it answered, or nothing else could), proxy (through a
    # proxy, an error status without the app's X-Pod header)
    detail: str = ""  # the client's own error text

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass
class Run:
    samples: list[Sample] = field(default_factory=list)
    started_at: float = 0.0
    duration: float = 0.0
    rates: dict[str, float] = field(default_factory=dict)  # target -> requests/s asked

    def failures(self) -> Counter:
        return Counter(s.error for s in self.samples if s.error)

    def by_target(self) -> dict[str, list[Sample]]:
        out: dict[str, list[Sample]] = {}
        for s in self.samples:
            out.setdefault(s.target, []).append(s)
        return out


def classify(code: int, error: str) -> str | None:
    """A failure class from a status and the client's error text; None for success."""
    if not error and 200 <= code < 400:
        return None
    if code:
        return "http"
    text = error.lower()
    if any(e in text for e in CLIENT_ERRORS):
        return "client"
    if "connection refused" in text:
        return "refused"
    if "connection reset" in text or "broken pipe" in text:
        return "reset"
    if "timeout" in text or "deadline exceeded" in text:
        return "timeout"
    if text.endswith("eof") or "server closed" in text:
        return "eof"
    if text.startswith("grpc "):
        return "grpc"
    return "other"


def _header(result: Result, name: str) -> str | None:
    values = result.headers.get(name)
    return values[0] if values else None


def to_sample(target: Target, mode: str, result: Result, t0: float) -> Sample:
    error = classify(result.code, result.error)
    pod = _header(result, "X-Pod")
    component = None
    if error == "http":
        # Straight to the pods (no Host header: a NodePort, a LoadBalancer, a Service) only the app answers
        # HTTP; through a proxy, an answer without the app's X-Pod is taken as the proxy's.
        component = "app" if pod or not target.host else "proxy"
    elif error == "grpc":
        component = result.error.split()[1].rstrip(":")  # the status: "grpc Unavailable: ..." -> Unavailable
    return Sample(target.name, mode, result.timestamp - t0, result.latency, result.code or None, error,
                  _header(result, "X-Version"), pod, component, result.error)


class LoadGenerator:
    """Steady load on several targets; start(), then stop() or let the bounds stop it."""

    def __init__(self, targets: Iterable[Target], rate_per_target: float = 500.0, max_seconds: float = 300.0,
                 max_requests: int = 2_000_000, timeout: float = 5.0, vegeta: Vegeta | None = None,
                 in_cluster: PodVegeta | None = None, ghz: Ghz | None = None):
        self.targets = list(targets)
        self.rate, self.timeout = rate_per_target, timeout
        total_rate = sum(t.rate or rate_per_target for t in self.targets)
        self.duration = min(max_seconds, max_requests / total_rate) if total_rate else 0.0
        self.vegeta = vegeta or Vegeta.pinned()
        self.ghz = ghz or (Ghz.pinned() if any(is_grpc(t) for t in self.targets) else None)
        self.in_cluster = in_cluster
        if in_cluster is None and any(t.in_cluster for t in self.targets):
            raise ValueError("a target inside the cluster needs an in-cluster vegeta (PodVegeta)")
        self.t0 = 0.0
        self.wall_t0 = 0.0
        self._dir: Path | None = None
        self._attacks: list[tuple[Target, str, Path, Process, Vegeta | PodVegeta | Ghz]] = []
        self.notes: list[str] = []  # how the plan departs from what was asked, and why
        self._late: dict[str, float] = {}  # target -> seconds after t0 its load began (in-cluster pods start late)

    def elapsed(self) -> float:
        return time.monotonic() - self.t0 if self.t0 else 0.0

    def sent(self) -> int:
        """Requests sent so far (the rate is constant: open loop), each target counted from when its load began:
        a load pod sends seconds after this machine's attacks, and a floor of requests must not count those."""
        span = min(self.elapsed(), self.duration)
        return int(sum(max(0.0, span - self._late.get(t.name, 0.0)) * (t.rate or self.rate) for t in self.targets))

    def should_stop(self) -> bool:
        return self.elapsed() >= self.duration

    def start(self) -> None:
        """Start every attack; if one cannot start (or an in-cluster one never sends), the others stop too:
        left running they would load the machine for their whole duration."""
        attacks = list(self._plan())
        self._dir = Path(tempfile.mkdtemp(prefix="portico-load-"))
        self.t0, self.wall_t0 = time.monotonic(), time.time()
        in_cluster: dict[int, Attack] = {}
        try:
            for target, mode, attack in attacks:
                output = self._dir / f"{len(self._attacks)}-{mode}.bin"
                client = self.ghz if mode == GRPC_MODE else self.in_cluster if target.in_cluster else self.vegeta
                if target.in_cluster:
                    in_cluster[len(self._attacks)] = attack
                self._attacks.append((target, mode, output, client.start(attack, output), client))
            if in_cluster:
                self._wait_in_cluster_started(in_cluster)
                began = time.monotonic() - self.t0
                self._late = {self._attacks[i][0].name: began for i in in_cluster}
        except BaseException:
            self._release()
            raise

    def _release(self) -> None:
        """Every attack's process reaped (stopped if it still runs), the results directory gone."""
        for *_, process, _client in self._attacks:
            process.stop()
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)

    def _wait_in_cluster_started(self, attacks: dict[int, Attack], timeout: float = 90) -> None:
        """A pod takes seconds to schedule and attach: until each in-cluster attack has sent (its first
        results came back), so the upgrade never starts before that load does. A pod that ended before it
        sent (a container runtime can fail a start: runc's "unable to freeze" on cgroup v1) gets one more
        try, said in a note; a second failure is the error."""
        for retry in (True, False):
            self._await_in_cluster(list(attacks), timeout)
            failed = [i for i in attacks if not _sending(self._attacks[i][2])]  # each one ended, unsent
            if not failed:
                return
            for i in failed:
                target, mode, output, process, client = self._attacks[i]
                if not retry:
                    raise ToolError(f"the in-cluster load stopped before it sent a request: {process.stderr_text()}")
                self.notes.append(f"{target.name}: the load pod ({mode}) ended before it sent a request, started "
                                  f"again: {process.stderr_text().strip()[-200:]}")
                process.stop()
                self._attacks[i] = (target, mode, output, client.start(attacks[i], output), client)

    def _await_in_cluster(self, indexes: list[int], timeout: float) -> None:
        def settled() -> bool:  # each one sending, or gone (then waiting longer is no use)
            return all(_sending(self._attacks[i][2]) or self._attacks[i][3].poll() is not None for i in indexes)

        wait.until(settled, timeout=timeout, interval=0.2,
                   what=f"the in-cluster load did not start (can the cluster run the image {self.in_cluster.image}? "
                        "--load-image names another; `portico cluster up` loads this one into the local cluster)")

    def _plan(self) -> Iterable[tuple[Target, str, Attack]]:
        """Each target's attacks, half its rate on kept-alive connections and half on fresh ones, unless the
        local ports cannot hold that many fresh connections (sources.fresh_rates: kept-alive ones carry the
        rest); each attack from source addresses whose ports can take it (sources.py)."""
        wanted = {}
        for target in self.targets:
            url = urlsplit(target.url)
            wanted[target.name] = (url.hostname or "", url.port or 80, (target.rate or self.rate) / len(MODES))
        # A pod's connections use its own ports, not this machine's; gRPC multiplexes calls on a few.
        fresh = fresh_rates({t.name: wanted[t.name] for t in self.targets if not (t.in_cluster or is_grpc(t))})
        sources = Sources()
        for target in self.targets:
            host, port, half = wanted[target.name]
            if is_grpc(target):
                yield target, GRPC_MODE, Attack(target.url, 2 * half, self.duration, True, target.host, self.timeout)
                continue
            if target.in_cluster:
                for mode, (keepalive, method) in MODES.items():
                    yield target, mode, Attack(target.url, half, self.duration, keepalive, target.host, self.timeout,
                                               method=target.keepalive_method if keepalive else method)
                continue
            if fresh[target.name] < half - 0.5:
                self.notes.append(f"{target.name}: {fresh[target.name]:.0f} fresh connections/s of {half:.0f} "
                                  f"asked (what this machine's local ports hold towards {host}:{port}); "
                                  "kept-alive connections carry the rest")
            rates = {"keepalive": 2 * half - fresh[target.name], "fresh": fresh[target.name]}
            for mode, (keepalive, method) in MODES.items():
                method = target.keepalive_method if keepalive else method
                if rates[mode] <= 0:
                    continue
                for source, part in sources.split(host, rates[mode], fresh=not keepalive):
                    yield target, mode, Attack(target.url, part, self.duration, keepalive, target.host,
                                               self.timeout, method=method, source=source)

    def halt(self) -> None:
        """Stop sending now; requests in flight still finish (or fail) and are recorded by stop()."""
        for *_, process, client in self._attacks:
            client.interrupt(process)

    def stop(self) -> Run:
        duration = self.elapsed()
        samples: list[Sample] = []
        try:
            for target, mode, output, process, client in self._attacks:
                client.stop(process, timeout=self.timeout + 10)
                samples += [to_sample(target, mode, r, self.wall_t0) for r in client.results(output)]
        finally:
            self._release()
        return Run(sorted(samples, key=lambda s: s.start), self.wall_t0, duration,
                   {t.name: t.rate or self.rate for t in self.targets})


def _sending(output: Path) -> bool:
    """An attack's results file has its first results."""
    return output.exists() and output.stat().st_size > 0


def percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, int(round(q * (len(ordered) - 1)))))
    return ordered[index]
