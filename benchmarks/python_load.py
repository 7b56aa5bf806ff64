"""The Python thread load generator portico used before vegeta: kept only as the benchmark's alternative.

It is closed-loop per worker (a worker waits for its response), so during a stall
requests that were never sent are never counted (coordinated omission);
benchmarks/bench_load.py measures how far each gets. Not part of the package.

A bounded HTTP load generator that records every request.

Each target gets a steady rate, split between workers that keep one
connection alive and workers that open a fresh connection per request. Every
request is recorded: when it started, how long it took, its status or the kind
of connection error, and which version and pod answered (the X-Version and
X-Pod headers of Portico's test app). The run stops when told to, or at its
time or request bound, whichever comes first.
"""

from __future__ import annotations

import http.client
import socket
import threading
import time
from typing import Iterable
from urllib.parse import urlsplit

from portico.zerodowntime.load import Run, Sample, Target

def classify(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRefusedError):
        return "refused"
    if isinstance(exc, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError)):
        return "reset"
    if isinstance(exc, (http.client.RemoteDisconnected, http.client.IncompleteRead, http.client.BadStatusLine)):
        return "eof"
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timeout"
    return "other"


class _Worker(threading.Thread):
    def __init__(self, target: Target, mode: str, interval: float, run: "LoadGenerator", offset: float):
        super().__init__(daemon=True, name=f"load-{target.name}-{mode}")
        self.target, self.mode, self.interval, self.gen, self.offset = target, mode, interval, run, offset
        parts = urlsplit(target.url)
        self.host, self.port = parts.hostname or "127.0.0.1", parts.port or 80
        self.path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.conn: http.client.HTTPConnection | None = None

    def _connection(self) -> http.client.HTTPConnection:
        if self.mode == "fresh" or self.conn is None:
            if self.conn is not None:
                self.conn.close()
            self.conn = http.client.HTTPConnection(self.host, self.port, timeout=self.gen.timeout)
        return self.conn

    def _one(self) -> Sample:
        start = time.monotonic()
        status = version = pod = error = None
        try:
            conn = self._connection()
            headers = {"Host": self.target.host} if self.target.host else {}
            if self.mode == "fresh":
                headers["Connection"] = "close"
            conn.request("GET", self.path, headers=headers)
            resp = conn.getresponse()
            resp.read()
            status = resp.status
            version, pod = resp.getheader("X-Version"), resp.getheader("X-Pod")
            if status >= 400:
                error = "http"
            if self.mode == "fresh" or resp.getheader("Connection", "").lower() == "close":
                conn.close()
                self.conn = None
        except Exception as exc:  # noqa: BLE001 - every failure is counted by kind
            error = classify(exc)
            if self.conn is not None:
                self.conn.close()
            self.conn = None
        end = time.monotonic()
        return Sample(self.target.name, self.mode, start - self.gen.t0, end - start, status, error, version, pod)

    def run(self) -> None:
        next_at = self.gen.t0 + self.offset
        while not self.gen.should_stop():
            delay = next_at - time.monotonic()
            if delay > 0:
                if self.gen.stop_event.wait(delay):
                    break
            self.gen.record(self._one())
            # Open loop: keep the schedule, but never fire a backlog in a burst.
            next_at = max(next_at + self.interval, time.monotonic() - self.interval)
        if self.conn is not None:
            self.conn.close()


class LoadGenerator:
    """Steady load on several targets; start(), then stop() or let the bounds stop it."""

    def __init__(self, targets: Iterable[Target], rate_per_target: float = 60.0, workers_per_mode: int = 3,
                 max_seconds: float = 300.0, max_requests: int = 200_000, timeout: float = 5.0):
        self.targets = list(targets)
        self.rate, self.workers_per_mode = rate_per_target, workers_per_mode
        self.max_seconds, self.max_requests, self.timeout = max_seconds, max_requests, timeout
        self.stop_event = threading.Event()
        self.lock = threading.Lock()
        self.samples: list[Sample] = []
        self.t0 = 0.0
        self.wall_t0 = 0.0
        self.threads: list[_Worker] = []

    def should_stop(self) -> bool:
        return (self.stop_event.is_set() or time.monotonic() - self.t0 > self.max_seconds
                or len(self.samples) >= self.max_requests)

    def record(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)

    def start(self) -> None:
        self.t0, self.wall_t0 = time.monotonic(), time.time()
        per_worker = self.rate / (2 * self.workers_per_mode)
        interval = 1.0 / per_worker
        n = 2 * self.workers_per_mode
        for target in self.targets:
            for i, mode in enumerate(["keepalive"] * self.workers_per_mode + ["fresh"] * self.workers_per_mode):
                worker = _Worker(target, mode, interval, self, offset=interval * i / n)
                self.threads.append(worker)
                worker.start()

    def stop(self) -> Run:
        self.stop_event.set()
        for t in self.threads:
            t.join(timeout=self.timeout + 2)
        with self.lock:
            samples = sorted(self.samples, key=lambda s: s.start)
        return Run(samples, self.wall_t0, time.monotonic() - self.t0)
