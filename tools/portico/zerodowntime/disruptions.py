"""Disruptions during an upgrade: what a cluster does to a rollout while it runs.

Each one waits in its own thread until the rollout is under way (a pod of a new
revision is ready), acts once through the API, and records what it did and when,
so the report shows it on the same timeline as the requests. A disruption that
never got its moment is reported too: a scenario whose disruption did not
happen proves nothing.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any

from portico import wait
from portico.zerodowntime.watch import PodWatcher, is_ready, revision


@dataclass
class Disruption:
    """Base: `act` does the one thing; the thread calls it once the rollout is under way."""

    name: str = "disruption"
    when: str = "under-way"  # or "start": right as helm upgrade starts, before any new pod is ready
    done_at: float | None = None
    what: str = ""
    error: str = ""

    def act(self, cluster, namespace: str, labels: dict[str, str], old: set[str], watcher: PodWatcher) -> str:
        raise NotImplementedError

    def describe(self) -> str:
        if self.error:
            return f"{self.name}: failed: {self.error}"
        if self.done_at is None:
            return f"{self.name}: never happened (the rollout gave it no moment)"
        return f"{self.name} at {self.done_at:.1f}s: {self.what}"


def _ready_old(pods, old: set[str]) -> list[dict[str, Any]]:
    """The ready, not terminating pods of the old revisions."""
    return [p for p in pods if revision(p) in old and is_ready(p) and not p["metadata"].get("deletionTimestamp")]


@dataclass
class DeletePod(Disruption):
    """A ready pod of the old revision deleted mid-rollout, gracefully (as `kubectl delete pod`, a node
    agent or an operator would): its preStop and grace period apply; the ReplicaSet replaces it."""

    name: str = "delete-pod"

    def act(self, cluster, namespace, labels, old, watcher):
        from lightkube.resources.core_v1 import Pod

        with watcher.lock:
            victims = _ready_old(watcher.pods.values(), old)
        if not victims:
            raise RuntimeError("no ready pod of the old revision left to delete")
        name = sorted(p["metadata"]["name"] for p in victims)[0]
        cluster.api.delete(Pod, name, namespace=namespace)
        return f"deleted pod {name} (old revision, ready)"


@dataclass
class Scale(Disruption):
    """The workload's scale subresource written mid-rollout, as the HorizontalPodAutoscaler controller
    writes it: the upgrade must neither fight the new count nor drop requests while both change."""

    name: str = "scale"
    replicas: int = 4

    def act(self, cluster, namespace, labels, old, watcher):
        from lightkube.core.exceptions import ApiError
        from lightkube.models.autoscaling_v1 import ScaleSpec
        from lightkube.resources.apps_v1 import Deployment, StatefulSet

        api = cluster.api

        def write(kind, name: str) -> None:
            scale = api.get(kind.Scale, name, namespace=namespace)
            scale.spec = ScaleSpec(replicas=self.replicas)
            api.replace(scale, name, namespace=namespace)

        for kind in (Deployment, StatefulSet):
            for obj in api.list(kind, namespace=namespace, labels=labels):
                # Mid-rollout the controller keeps updating the object, so a write carrying the resourceVersion
                # just read can meet 409 Conflict; like the HPA controller, read again and write again.
                wait.retry(lambda: write(kind, obj.metadata.name), attempts=5, delay=0.2, on=(ApiError,),
                           when=lambda exc: exc.status.code == 409,
                           what=f"writing the scale of {kind.__name__} {obj.metadata.name}")
                return f"scaled {kind.__name__} {obj.metadata.name} from {obj.spec.replicas} to {self.replicas}"
        raise RuntimeError(f"no Deployment or StatefulSet with labels {labels}")


@dataclass
class DrainNode(Disruption):
    """The node running most ready pods of the old revision drained mid-rollout with `kubectl drain`
    (cordon, then evictions that respect PodDisruptionBudgets), as a node upgrade or autoscaler does.
    The node stays cordoned; `uncordon` is the caller's (the node is named in `what`)."""

    name: str = "drain-node"
    timeout: float = 180.0

    def act(self, cluster, namespace, labels, old, watcher):
        with watcher.lock:
            nodes = Counter(p["spec"].get("nodeName") for p in _ready_old(watcher.pods.values(), old))
        nodes.pop(None, None)
        if not nodes:
            raise RuntimeError("no node runs a ready pod of the old revision")
        node, count = nodes.most_common(1)[0]
        done = cluster.kubectl.run("drain", node, "--ignore-daemonsets", "--delete-emptydir-data",
                                   f"--timeout={self.timeout:g}s", check=False, timeout=self.timeout + 30)
        if not done.ok:
            raise RuntimeError(f"kubectl drain {node} failed: {str(done.stderr).strip()[-300:]}")
        return f"drained node {node} (ran {count} ready old pods)"


class During:
    """Runs the disruptions once a pod of a revision the release did not have before is ready."""

    def __init__(self, cluster, namespace: str, labels: dict[str, str], watcher: PodWatcher,
                 disruptions: list[Disruption], t0: float, timeout: float = 240.0):
        self.cluster, self.namespace, self.labels, self.watcher = cluster, namespace, labels, watcher
        self.disruptions, self.t0, self.timeout = disruptions, t0, timeout
        self.old: set[str] = set()
        self._halt = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="disruptions")

    def begin(self) -> None:
        """Before the upgrade: the revisions that count as old, then wait for a new one in the background."""
        self.old = set(self.watcher.current().by_revision)
        self._thread.start()

    def _under_way(self) -> bool:
        return any(rev not in self.old and ready for rev, ready in self.watcher.current().by_revision.items())

    def _run(self) -> None:
        self._act([d for d in self.disruptions if d.when == "start"])
        deadline = time.monotonic() + self.timeout
        while not self._under_way():
            if self._halt.wait(0.2) or time.monotonic() > deadline:
                return
        self._act([d for d in self.disruptions if d.when != "start"])

    def _act(self, disruptions: list[Disruption]) -> None:
        for d in disruptions:
            try:
                d.done_at = time.monotonic() - self.t0
                d.what = d.act(self.cluster, self.namespace, self.labels, self.old, self.watcher)
            except Exception as exc:  # noqa: BLE001 - reported with the scenario
                d.error = str(exc)

    def finish(self) -> list[str]:
        self._halt.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)
        return [d.describe() for d in self.disruptions]


CHOICES = {"delete-pod": DeletePod, "scale": Scale, "drain-node": DrainNode}


def parse(spec: str) -> Disruption:
    """`delete-pod` or `scale=N` (the CLI's --disrupt)."""
    name, _, arg = spec.partition("=")
    if name not in CHOICES:
        raise ValueError(f"unknown disruption {spec!r}; choose from delete-pod, drain-node, scale=N")
    if name == "scale":
        if not arg.isdigit() or int(arg) < 1:
            raise ValueError(f"scale needs a replica count: scale=4, not {spec!r}")
        return Scale(replicas=int(arg))
    if arg:
        raise ValueError(f"{name} takes no argument, got {spec!r}")
    return CHOICES[name]()
