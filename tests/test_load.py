"""The load generator (vegeta, the pinned binary) against the real test app on 127.0.0.1 (no cluster needed)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from portico.paths import data_path
from portico.net import free_port
from portico.zerodowntime.load import LoadGenerator, Target, classify, percentile, to_sample

APP_SRC = data_path("testapp")


@pytest.fixture(scope="module")
def app_binary(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("app") / "testapp"
    subprocess.run(["go", "build", "-ldflags", "-X main.builtVersion=9.9.9", "-o", str(out), "."], cwd=APP_SRC,
                   check=True, env={**os.environ, "CGO_ENABLED": "0"})
    return out


def start_app(binary: Path, port: int, **env: str) -> subprocess.Popen:
    proc = subprocess.Popen([str(binary)], env={**os.environ, "PORT": str(port), **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    proc.kill()
    raise AssertionError("test app did not start")


def test_steady_load_counts_versions_and_latency(app_binary):
    port = free_port()
    app = start_app(app_binary, port, POD_NAME="pod-a")
    try:
        gen = LoadGenerator([Target("direct", f"http://127.0.0.1:{port}/x")], rate_per_target=60, max_seconds=10)
        gen.start()
        time.sleep(2)
        run = gen.stop()
    finally:
        app.terminate()
        app.wait()
    assert 70 <= len(run.samples) <= 170  # 60/s for 2 s, give or take scheduling on a busy machine
    assert run.failures() == {}
    assert {s.version for s in run.samples} == {"9.9.9"} and {s.pod for s in run.samples} == {"pod-a"}
    assert {s.mode for s in run.samples} == {"keepalive", "fresh"}
    assert 0 < percentile([s.latency for s in run.samples], 0.5) < 0.5


def test_refused_connections_are_counted_as_such():
    port = free_port()  # nothing listens there
    gen = LoadGenerator([Target("nothing", f"http://127.0.0.1:{port}/")], rate_per_target=20, max_seconds=1)
    gen.start()
    time.sleep(0.6)
    run = gen.stop()
    assert run.samples and set(run.failures()) == {"refused"}


def test_an_abrupt_exit_is_caught_and_a_drain_is_not(app_binary):
    """The negative control in miniature: DRAIN=false drops in-flight requests on SIGTERM."""
    results = {}
    for drain in ("true", "false"):
        port = free_port()
        app = start_app(app_binary, port, DRAIN=drain)
        gen = LoadGenerator([Target("slow", f"http://127.0.0.1:{port}/?delay=300ms")], rate_per_target=40,
                            max_seconds=10)
        gen.start()
        time.sleep(1.0)
        # As in a cluster after the preStop sleep: the signal comes once no new
        # requests are routed here, so only the in-flight ones are at stake.
        gen.halt()
        app.send_signal(signal.SIGTERM)
        app.wait(timeout=10)
        run = gen.stop()
        in_flight = [s for s in run.samples if s.error in ("eof", "reset")]
        results[drain] = len(in_flight)
    assert results["false"] > 0, "an abrupt exit must drop in-flight requests"
    assert results["true"] == 0, "a draining server finishes what is in flight"


def test_bounds_stop_the_run_by_themselves(app_binary):
    port = free_port()
    app = start_app(app_binary, port)
    try:
        gen = LoadGenerator([Target("t", f"http://127.0.0.1:{port}/")], rate_per_target=200, max_seconds=30,
                            max_requests=50)
        gen.start()
        time.sleep(1.5)
        assert gen.should_stop()
        run = gen.stop()
    finally:
        app.terminate()
        app.wait()
    assert 50 <= len(run.samples) <= 60


def test_open_loop_keeps_sending_through_a_stall(app_binary):
    """No coordinated omission: with every response held for a second, the requests are still sent on schedule
    (a closed-loop worker would send one per second per worker)."""
    port = free_port()
    app = start_app(app_binary, port)
    try:
        gen = LoadGenerator([Target("stalled", f"http://127.0.0.1:{port}/?delay=1s")], rate_per_target=100,
                            max_seconds=2)
        gen.start()
        time.sleep(2.2)
        run = gen.stop()
    finally:
        app.terminate()
        app.wait()
    assert 180 <= len(run.samples) <= 210 and run.failures() == {}
    sent = sorted(s.start for s in run.samples)
    assert sent[-1] - sent[0] > 1.8, "requests were sent across the whole window, not in bursts after replies"
    assert percentile([s.latency for s in run.samples], 0.5) >= 1.0


@pytest.mark.parametrize("code,error,kind", [
    (200, "", None), (302, "", None), (503, "503 Service Unavailable", "http"), (404, "404 Not Found", "http"),
    (0, 'Get "http://127.0.0.1:1/": dial tcp 127.0.0.1:1: connect: connection refused', "refused"),
    (0, "read tcp 127.0.0.1:5->127.0.0.1:6: read: connection reset by peer", "reset"),
    (0, 'Get "http://127.0.0.1:2/": EOF', "eof"),
    (0, "Get \"http://x/\": context deadline exceeded (Client.Timeout exceeded while awaiting headers)", "timeout"),
    (0, "something else", "other"),
])
def test_failures_are_classified(code, error, kind):
    assert classify(code, error) == kind


def test_an_error_status_without_the_apps_header_is_the_proxys():
    from portico.clients.vegeta import Result

    target = Target("ingress", "http://127.0.0.1:1/", "h")
    proxy = to_sample(target, "fresh", Result(10.5, 0.01, 502, "502 Bad Gateway", {}), 10.0)
    app = to_sample(target, "fresh", Result(10.5, 0.01, 500, "500", {"X-Pod": ["p"], "X-Version": ["2"]}), 10.0)
    assert (proxy.error, proxy.component, proxy.start) == ("http", "proxy", 0.5)
    assert (app.component, app.pod, app.version) == ("app", "p", "2")


def test_the_switch_is_judged_by_the_pods_when_the_app_names_no_version():
    from portico.zerodowntime.load import Run, Sample
    from portico.zerodowntime.verdict import summarise
    from portico.zerodowntime.watch import PodSample

    samples = [Sample("t", "fresh", t, 0.001, 200, None, None, None) for t in (1.0, 5.0, 9.0)]
    rolled = [PodSample(0, 2, 2, 0, {"aaa": 2}), PodSample(4, 3, 4, 1, {"aaa": 1, "bbb": 2}),
              PodSample(8, 2, 2, 0, {"bbb": 2})]
    report = summarise("s", "r", "n", "a", "b", Run(samples, 0, 10), 2.0, 8.0, None, rolled)
    assert report.switch_judged_by == "cluster" and report.switch_completed
    stuck = [PodSample(0, 2, 2, 0, {"aaa": 2}), PodSample(8, 2, 2, 0, {"aaa": 2})]
    assert not summarise("s", "r", "n", "a", "b", Run(samples, 0, 10), 2.0, 8.0, None, stuck).switch_completed
