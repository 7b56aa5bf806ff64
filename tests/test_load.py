"""The load generator (vegeta, the pinned binary) against the real test app on 127.0.0.1 (no cluster needed)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import pytest

from portico.cluster import addons
from portico.net import free_port
from portico.zerodowntime.load import LoadGenerator, Target, classify, percentile, to_sample
from portico.zerodowntime.watch import pod_labels


@pytest.fixture(scope="module")
def app_binary() -> Path:
    return addons.testapp_binary("9.9.9")


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


def loaded(app_binary: Path, targets, rate: float, seconds: float = 2, generator=None, **env: str):
    """The app (HTTP and gRPC), `targets(http_port, grpc_port)` under load for `seconds`: the run."""
    port, grpc_port = free_port(), free_port()
    app = start_app(app_binary, port, GRPC_PORT=str(grpc_port), **env)
    try:
        make = generator or (lambda ts, r: LoadGenerator(ts, rate_per_target=r, max_seconds=10))
        gen = make(targets(port, grpc_port), rate)
        gen.start()
        time.sleep(seconds)
        return gen.stop()
    finally:
        app.terminate()
        app.wait()


def test_steady_load_counts_versions_and_latency(app_binary):
    run = loaded(app_binary, lambda port, _: [Target("direct", f"http://127.0.0.1:{port}/x")], 60, POD_NAME="pod-a")
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
    # Straight to the pods nothing but the app answers HTTP, header or not.
    direct = to_sample(Target("nodeport", "http://127.0.0.1:1/"), "keepalive", Result(1, 0.01, 405, "405", {}), 0)
    assert direct.component == "app"


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


def workload(kind: str, match: dict) -> dict:
    return {"kind": kind, "metadata": {"name": "w"}, "spec": {"selector": {"matchLabels": match}}}


def test_the_pods_are_found_by_the_workloads_selectors_whatever_the_labels():
    """stakater/application selects by name and a class label, not app.kubernetes.io/instance."""
    manifest = [{"kind": "Service", "metadata": {"name": "s"}},
                workload("Deployment", {"app.kubernetes.io/name": "web", "workload-class": "serving"}),
                workload("StatefulSet", {"app.kubernetes.io/name": "web", "workload-class": "stateful"})]
    assert pod_labels(manifest, "rel") == {"app.kubernetes.io/name": "web"}
    assert pod_labels(manifest[:2], "rel") == {"app.kubernetes.io/name": "web", "workload-class": "serving"}


def test_without_a_shared_selector_the_instance_label_finds_the_pods():
    manifest = [workload("Deployment", {"app": "a"}), workload("DaemonSet", {"app": "b"})]
    assert pod_labels(manifest, "rel") == {"app.kubernetes.io/instance": "rel"}
    assert pod_labels([], "rel") == {"app.kubernetes.io/instance": "rel"}


def test_a_target_inside_the_cluster_is_attacked_from_a_pod_at_the_full_rate():
    """A pod's connections use its own ports: no source address from this machine, no fresh-connection cap."""
    from portico.clients.vegeta import PodVegeta, Vegeta

    pod = PodVegeta("kubectl", None, "ns", "portico.local/vegeta:test", Vegeta("vegeta"))
    inside = Target("clusterip", "http://web.ns.svc:80/", in_cluster=True)
    gen = LoadGenerator([Target("nodeport", "http://127.0.0.1:30002/"), inside], rate_per_target=1000,
                        in_cluster=pod)
    plan = [(t.name, mode, a) for t, mode, a in gen._plan() if t.in_cluster]
    assert {(mode, a.rate, a.source, a.method) for _, mode, a in plan} == {
        ("keepalive", 500, "0.0.0.0", "POST"), ("fresh", 500, "0.0.0.0", "GET")}
    with pytest.raises(ValueError, match="in-cluster"):
        LoadGenerator([inside])


def test_grpc_calls_are_made_open_loop_and_each_one_recorded(app_binary):
    """ghz against the test app's gRPC health service: every call a sample, mode grpc."""
    run = loaded(app_binary, lambda _, grpc_port: [Target("grpc", f"grpc://127.0.0.1:{grpc_port}")], 100)
    assert 120 <= len(run.samples) <= 300 and run.failures() == {}
    assert {s.mode for s in run.samples} == {"grpc"} and {s.status for s in run.samples} == {200}


def test_grpc_calls_to_nothing_fail_and_an_abrupt_exit_is_caught(app_binary):
    """Negative controls: no server (refused), and a server killed mid-run (its calls fail from then on)."""
    nothing = LoadGenerator([Target("grpc", f"grpc://127.0.0.1:{free_port()}")], rate_per_target=20, max_seconds=1)
    nothing.start()
    time.sleep(0.6)
    assert set(nothing.stop().failures()) == {"refused"}
    port, grpc_port = free_port(), free_port()
    app = start_app(app_binary, port, GRPC_PORT=str(grpc_port), DRAIN="false")
    try:
        gen = LoadGenerator([Target("grpc", f"grpc://127.0.0.1:{grpc_port}")], rate_per_target=100, max_seconds=10)
        gen.start()
        time.sleep(1)
        app.send_signal(signal.SIGTERM)  # DRAIN=false: exits at once
        time.sleep(1)
        run = gen.stop()
    finally:
        app.kill()
        app.wait()
    ok = [s for s in run.samples if s.ok]
    failed = [s for s in run.samples if not s.ok]
    assert ok and failed and max(s.start for s in ok) < min(s.start for s in failed) + 0.5


def test_a_grpc_status_is_its_failure_class():
    from portico.clients.vegeta import Result

    sample = to_sample(Target("g", "grpc://127.0.0.1:1"), "grpc",
                       Result(1.0, 0.01, 0, "grpc Unimplemented: unknown service", {}), 0.0)
    assert (sample.error, sample.component) == ("grpc", "Unimplemented")


FAKE_KUBECTL = """#!/usr/bin/env bash
# kubectl as PodVegeta calls it, the pod played by a local vegeta: `run POD ... -- ARGS` runs vegeta ARGS with
# this stdin and stdout, `delete pod POD` sends it SIGTERM (as the kubelet would).
set -euo pipefail
dir=$(dirname "$0")
for ((i = 1; i <= $#; i++)); do
  if [[ ${!i} == run ]]; then j=$((i + 1)); pod=${!j}; fi
  if [[ ${!i} == pod ]]; then j=$((i + 1)); kill -TERM "$(cat "$dir/${!j}.pid")"; exit 0; fi
  if [[ ${!i} == -- ]]; then shift "$i"; echo $$ > "$dir/$pod.pid"; exec "$VEGETA" "$@"; fi
done
exit 2
"""


def test_the_in_cluster_attack_streams_its_results_back_and_stops_when_its_pod_goes(app_binary, tmp_path,
                                                                                   monkeypatch):
    """PodVegeta's plumbing, the pod played by a local vegeta behind a fake kubectl: the target on stdin, the
    results on stdout, SIGTERM on `kubectl delete pod`, every request decoded."""
    from portico.clients.vegeta import PodVegeta, Vegeta
    from portico.toolchain.locate import tool_path

    fake = tmp_path / "kubectl"
    fake.write_text(FAKE_KUBECTL)
    fake.chmod(0o755)
    monkeypatch.setenv("VEGETA", tool_path("vegeta"))
    pod = PodVegeta(str(fake), None, "ns", "portico.local/vegeta:test", Vegeta.pinned())
    run = loaded(app_binary, lambda port, _: [Target("inside", f"http://127.0.0.1:{port}/", in_cluster=True)], 100,
                 generator=lambda targets, rate: LoadGenerator(targets, rate_per_target=rate, max_seconds=30,
                                                               in_cluster=pod))
    assert 120 <= len(run.samples) <= 300 and run.failures() == {}
    assert {s.mode for s in run.samples} == {"keepalive", "fresh"}


# A pod whose container the runtime fails to start, as the kubelet reports it; FAILS_LEFT counts down.
FAILING_START = """
left=$(cat "$dir/fails-left" 2>/dev/null || echo "$FAILS_LEFT")
if ((left > 0)); then
  echo $((left - 1)) > "$dir/fails-left"
  echo "pod ns/portico-load-x terminated (StartError): runc create failed: unable to freeze" >&2
  exit 1
fi
"""


def fake_kubectl(tmp_path: Path, fails: int, monkeypatch) -> Path:
    from portico.toolchain.locate import tool_path

    fake = tmp_path / "kubectl"
    head, rest = FAKE_KUBECTL.split('dir=$(dirname "$0")\n')
    fake.write_text(head + 'dir=$(dirname "$0")\n' + FAILING_START + rest)
    fake.chmod(0o755)
    monkeypatch.setenv("VEGETA", tool_path("vegeta"))
    monkeypatch.setenv("FAILS_LEFT", str(fails))
    return fake


def test_a_load_pod_the_runtime_failed_to_start_gets_one_more_try(app_binary, tmp_path, monkeypatch):
    from portico.clients.vegeta import PodVegeta, Vegeta

    pod = PodVegeta(str(fake_kubectl(tmp_path, 1, monkeypatch)), None, "ns", "portico.local/vegeta:test",
                    Vegeta.pinned())
    gens = []

    def generator(targets, rate):
        gens.append(LoadGenerator(targets, rate_per_target=rate, max_seconds=30, in_cluster=pod))
        return gens[0]

    run = loaded(app_binary, lambda port, _: [Target("inside", f"http://127.0.0.1:{port}/", in_cluster=True)], 100,
                 generator=generator)
    assert run.samples and run.failures() == {}
    assert any("started again" in n and "unable to freeze" in n for n in gens[0].notes), gens[0].notes


def test_when_the_load_cannot_start_nothing_of_it_keeps_running(app_binary, tmp_path, monkeypatch):
    """A load pod that never starts is the error, and the local attacks already running stop with it (left
    running they would load the machine for their whole duration, under the tests that follow)."""
    from portico.clients.vegeta import PodVegeta, Vegeta
    from portico.errors import ToolError

    pod = PodVegeta(str(fake_kubectl(tmp_path, 9, monkeypatch)), None, "ns", "portico.local/vegeta:test",
                    Vegeta.pinned())
    gen = LoadGenerator([Target("outside", "http://127.0.0.1:9/"), Target("inside", "http://x/", in_cluster=True)],
                        rate_per_target=50, max_seconds=60, in_cluster=pod)
    with pytest.raises(ToolError, match="stopped before it sent a request"):
        gen.start()
    assert gen._attacks and all(process.poll() is not None for *_, process, _ in gen._attacks)
    assert not gen._dir.exists()


def test_a_grpc_call_cut_by_the_generators_own_stop_is_not_the_clusters_failure(tmp_path):
    from portico.clients.ghz import Ghz

    report = {"details": [
        {"timestamp": "2026-12-01T10:00:00.000Z", "latency": 1000000, "error": "", "status": "OK"},
        {"timestamp": "2026-12-01T10:00:01.000Z", "latency": 1000000, "status": "Unavailable",
         "error": "connection error: desc = 'transport: Error while dialing: dial tcp: connect: connection refused'"},
        {"timestamp": "2026-12-01T10:00:30.000Z", "latency": 1000000, "status": "Unavailable",
         "error": "error reading from server: read tcp 127.0.0.1:1->127.0.0.1:2: use of closed network connection"},
        {"timestamp": "2026-12-01T10:00:30.002Z", "latency": 1000000, "error": "", "status": "OK"}]}
    out = tmp_path / "ghz.json"
    out.write_text(json.dumps(report))
    results = list(Ghz("ghz").results(out))
    assert [r.code for r in results] == [200, 0, 200]  # the refused call counts, the one the stop cut does not
    assert "connection refused" in results[1].error


def test_the_report_counts_its_chances_to_catch_a_rollout_fault():
    """A surge of one over two pods: one new pod ready and one old one terminating, twice."""
    from portico.zerodowntime.verdict import chances
    from portico.zerodowntime.watch import PodSample

    pods = [PodSample(0, 2, 2, 0, {"a": 2}), PodSample(1, 3, 3, 0, {"a": 2, "b": 1}),
            PodSample(2, 2, 3, 1, {"a": 1, "b": 1}), PodSample(3, 2, 2, 0, {"a": 1, "b": 1}),
            PodSample(4, 3, 3, 0, {"a": 1, "b": 2}), PodSample(5, 2, 3, 1, {"b": 2}), PodSample(6, 2, 2, 0, {"b": 2})]
    assert chances(pods) == (2, 2)
    assert chances(pods[:1]) == (0, 0), "one sample: nothing changed under load"


def test_the_request_floor_counts_a_load_pod_from_when_it_began(monkeypatch, tmp_path):
    """The floor a scenario waits for (`sent()`) counts each target from when its load began: a load pod sends
    seconds after this machine's attacks (CI saw 19,964 of a 20,000 floor when it counted the pod from t0)."""
    from portico.clients.vegeta import PodVegeta, Vegeta

    pod = PodVegeta("kubectl", None, "ns", "portico.local/vegeta:test", Vegeta.pinned())
    gen = LoadGenerator([Target("nodeport", "http://127.0.0.1:30002/"),
                         Target("clusterip", "cluster://web/", in_cluster=True)], rate_per_target=300, in_cluster=pod)
    monkeypatch.setattr(gen, "elapsed", lambda: 10.0)
    assert gen.sent() == 6000
    gen._late = {"clusterip": 4.0}  # what start() records once the pod's first results are back
    assert gen.sent() == 3000 + 1800


def test_cycles_go_back_and_forth_and_end_on_the_new_version():
    from portico.zerodowntime.check import Step, rollouts

    a, b = Step(Path("a"), (), "A"), Step(Path("b"), (), "B")
    assert [(x.label, y.label) for x, y in rollouts(a, b, 1)] == [("A", "B")]
    assert [(x.label, y.label) for x, y in rollouts(a, b, 2)] == [("A", "B"), ("B", "A"), ("A", "B")]
    assert len(rollouts(a, b, 3)) == 5 and rollouts(a, b, 3)[-1][1] is b
