"""Disruptions act once, when the rollout is under way (or at its start), and say what they did."""

from __future__ import annotations

import threading
import time

import pytest

from portico.zerodowntime import disruptions
from portico.zerodowntime.watch import PodSample


class FakeWatcher:
    """The part of PodWatcher the disruptions read: current() and the pods under a lock."""

    def __init__(self, by_revision):
        self.by_revision, self.lock, self.pods = by_revision, threading.Lock(), {}

    def current(self):
        return PodSample(0, sum(self.by_revision.values()), 0, 0, dict(self.by_revision))


class Recorder(disruptions.Disruption):
    def act(self, cluster, namespace, labels, old, watcher):
        return f"acted while {sorted(watcher.current().by_revision)} with old {sorted(old)}"


def run_until(during, watcher, change=None, wait=1.0):
    during.begin()
    if change:
        time.sleep(0.3)
        change(watcher)
    time.sleep(wait)
    return during.finish()


def test_it_waits_for_a_ready_pod_of_a_new_revision():
    watcher = FakeWatcher({"old": 2})
    early, late = Recorder(name="start", when="start"), Recorder(name="under-way")
    during = disruptions.During(None, "ns", {}, watcher, [early, late], t0=time.monotonic())
    lines = run_until(during, watcher, change=lambda w: w.by_revision.update(new=1))
    assert early.done_at is not None and late.done_at is not None and early.done_at < late.done_at
    assert "with old ['old']" in lines[1] and "'new'" in lines[1]


def test_one_that_never_got_its_moment_says_so():
    watcher = FakeWatcher({"old": 2})
    never = Recorder(name="under-way")
    lines = run_until(disruptions.During(None, "ns", {}, watcher, [never], t0=time.monotonic()), watcher, wait=0.5)
    assert never.done_at is None and "never happened" in lines[0]


def test_a_failing_one_is_reported_not_raised():
    class Broken(disruptions.Disruption):
        def act(self, *args):
            raise RuntimeError("no node runs a ready pod of the old revision")

    watcher = FakeWatcher({"old": 1})
    broken = Broken(name="drain-node", when="start")
    lines = run_until(disruptions.During(None, "ns", {}, watcher, [broken], t0=time.monotonic()), watcher, wait=0.3)
    assert lines == ["drain-node: failed: no node runs a ready pod of the old revision"]


@pytest.mark.parametrize("spec,expected", [("delete-pod", disruptions.DeletePod()),
                                           ("scale=4", disruptions.Scale(replicas=4)),
                                           ("drain-node", disruptions.DrainNode())])
def test_the_cli_names_parse(spec, expected):
    assert disruptions.parse(spec) == expected


@pytest.mark.parametrize("spec,message", [("kill", "unknown disruption 'kill'"), ("scale", "needs a replica count"),
                                          ("scale=0", "needs a replica count"), ("delete-pod=3", "takes no argument")])
def test_bad_names_are_refused_plainly(spec, message):
    with pytest.raises(ValueError, match=message):
        disruptions.parse(spec)


class FakeServiceApi:
    """Answers get(Service) with a lightkube Service: the LoadBalancer's address appears on the third look."""

    def __init__(self, kind: str = "LoadBalancer"):
        self.kind, self.looks = kind, 0

    def get(self, resource, name, namespace=None):
        from lightkube.models.core_v1 import (LoadBalancerIngress, LoadBalancerStatus, ServicePort, ServiceSpec,
                                              ServiceStatus)
        from lightkube.resources.core_v1 import Service

        self.looks += 1
        ingress = [LoadBalancerIngress(ip="172.18.255.200")] if self.looks >= 3 else None
        return Service(spec=ServiceSpec(type=self.kind, ports=[ServicePort(port=8080)]),
                       status=ServiceStatus(loadBalancer=LoadBalancerStatus(ingress=ingress)))


def test_an_lb_target_becomes_the_address_the_service_gets():
    from portico.kube import Cluster
    from portico.zerodowntime.check import load_balancer_url

    cluster = Cluster(_api=FakeServiceApi())
    assert load_balancer_url(cluster, "ns", "lb://web/x", timeout=10) == "http://172.18.255.200:8080/x"
    assert load_balancer_url(Cluster(_api=FakeServiceApi()), "ns", "lb://web:81", timeout=10) == \
        "http://172.18.255.200:81"


def test_an_lb_target_on_a_service_of_another_type_is_refused():
    from portico.errors import ToolError
    from portico.kube import Cluster
    from portico.zerodowntime.check import load_balancer_url

    with pytest.raises(ToolError, match="is of type NodePort, not LoadBalancer"):
        load_balancer_url(Cluster(_api=FakeServiceApi("NodePort")), "ns", "lb://web/", timeout=10)


def test_a_target_that_refuses_posts_gets_kept_alive_gets_or_an_input_error(tmp_path):
    """A static web server answers a POST with an error status (Python's: 501): with the fallback its kept-alive
    requests become GETs, said in a note; without it the run stops before the load with an input error."""
    import functools
    import http.server

    from portico.errors import InputError
    from portico.zerodowntime.check import wait_answering
    from portico.zerodowntime.load import Target

    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        target = Target("static", f"http://127.0.0.1:{server.server_port}/")
        targets, notes = wait_answering([target], timeout=10)
        assert targets[0].keepalive_method == "GET" and "answers a POST with 501" in notes[0]
        with pytest.raises(InputError, match="cannot be POSTs"):
            wait_answering([target], timeout=10, post_fallback=False)
        # A GET target is left alone.
        assert wait_answering([Target("g", target.url, keepalive_method="GET")], timeout=10)[1] == []
    finally:
        server.shutdown()


class FakeScaleApi:
    """A Deployment whose scale write meets 409 Conflict `conflicts` times (the rollout changed it meanwhile)."""

    def __init__(self, conflicts: int):
        from lightkube.models.autoscaling_v1 import Scale, ScaleSpec
        from lightkube.models.meta_v1 import ObjectMeta

        self.conflicts, self.reads, self.written = conflicts, 0, None
        self._scale = lambda: Scale(metadata=ObjectMeta(name="web", resourceVersion=str(self.reads)),
                                    spec=ScaleSpec(replicas=2))

    def list(self, kind, namespace, labels):
        from lightkube.models.apps_v1 import DeploymentSpec
        from lightkube.models.meta_v1 import ObjectMeta

        return [kind(metadata=ObjectMeta(name="web"), spec=DeploymentSpec(replicas=2, selector=None, template=None))] \
            if kind.__name__ == "Deployment" else []

    def get(self, kind, name, namespace):
        self.reads += 1
        return self._scale()

    def replace(self, obj, name, namespace):
        from lightkube.core.exceptions import ApiError
        from lightkube.models.meta_v1 import Status

        if self.conflicts:
            self.conflicts -= 1
            raise ApiError(status=Status(code=409, reason="Conflict", message="the object has been modified"))
        self.written = obj.spec.replicas


class FakeCluster:
    def __init__(self, api):
        self.api = api


def test_a_scale_write_that_meets_a_conflict_reads_again_and_writes():
    api = FakeScaleApi(conflicts=2)
    what = disruptions.Scale(replicas=4).act(FakeCluster(api), "ns", {"app": "web"}, {"old"}, None)
    assert api.written == 4 and api.reads == 3
    assert what == "scaled Deployment web from 2 to 4"


def test_a_scale_write_that_keeps_conflicting_fails_with_the_api_reason():
    from portico.errors import ToolError

    api = FakeScaleApi(conflicts=99)
    with pytest.raises(ToolError, match="still failing after 5 attempts: the object has been modified"):
        disruptions.Scale(replicas=4).act(FakeCluster(api), "ns", {"app": "web"}, {"old"}, None)
    assert api.written is None and api.reads == 5
