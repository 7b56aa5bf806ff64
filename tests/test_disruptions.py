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
