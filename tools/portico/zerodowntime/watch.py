"""The release's pods through an upgrade, from a Kubernetes watch (lightkube), not polling.

Every event updates the current state and appends a sample: ready, total,
terminating, and ready pods per revision (pod-template-hash or
controller-revision-hash).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass
from typing import Any


INSTANCE_LABEL = "app.kubernetes.io/instance"
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "DaemonSet")


def workloads(manifest: list[dict]) -> list[dict]:
    return [d for d in manifest if d.get("kind") in WORKLOAD_KINDS]


def pod_labels(manifest: list[dict], release: str) -> dict[str, str]:
    """The labels that select the release's pods: the matchLabels all its workloads share, whatever label
    convention the chart follows; app.kubernetes.io/instance=RELEASE when they share none."""
    selectors = [((d.get("spec") or {}).get("selector") or {}).get("matchLabels") or {} for d in workloads(manifest)]
    common = dict(selectors[0]) if selectors else {}
    for selector in selectors[1:]:
        common = {k: v for k, v in common.items() if selector.get(k) == v}
    return common or {INSTANCE_LABEL: release}


@dataclass(frozen=True)
class PodSample:
    t: float
    ready: int
    total: int
    terminating: int
    by_revision: dict[str, int]


def is_ready(pod: dict[str, Any]) -> bool:
    conditions = {c.get("type"): c.get("status") for c in (pod.get("status") or {}).get("conditions") or []}
    return conditions.get("Ready") == "True"


def revision(pod: dict[str, Any]) -> str:
    """The pod's revision: its ReplicaSet's pod-template-hash, or its StatefulSet's or DaemonSet's
    controller-revision-hash."""
    labels = (pod.get("metadata") or {}).get("labels") or {}
    return labels.get("pod-template-hash") or labels.get("controller-revision-hash", "?")


def sample(pods: list[dict[str, Any]], t: float) -> PodSample:
    ready = terminating = 0
    revisions: Counter = Counter()
    for pod in pods:
        meta = pod.get("metadata") or {}
        if meta.get("deletionTimestamp"):
            terminating += 1
            continue
        if is_ready(pod):
            ready += 1
            revisions[revision(pod)] += 1
    return PodSample(t, ready, len(pods), terminating, dict(revisions))


class PodWatcher(threading.Thread):
    def __init__(self, api, namespace: str, labels: dict[str, str], t0: float):
        super().__init__(daemon=True, name="pod-watcher")
        self.api, self.namespace, self.labels, self.t0 = api, namespace, labels, t0
        self.pods: dict[str, dict[str, Any]] = {}
        self.samples: list[PodSample] = []
        self.lock = threading.Lock()
        self.stop_event = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        from lightkube.resources.core_v1 import Pod

        try:
            # server_timeout bounds how long a quiet watch blocks, so stop() is noticed.
            for op, pod in self.api.watch(Pod, namespace=self.namespace, labels=self.labels, server_timeout=5):
                if self.stop_event.is_set():
                    return
                doc = pod.to_dict()
                with self.lock:
                    if op == "DELETED":
                        self.pods.pop(doc["metadata"]["name"], None)
                    else:
                        self.pods[doc["metadata"]["name"]] = doc
                    self.samples.append(sample(list(self.pods.values()), time.monotonic() - self.t0))
        except Exception as exc:  # noqa: BLE001 - reported by current() and the verdict
            self.error = exc

    def current(self) -> PodSample:
        with self.lock:
            return sample(list(self.pods.values()), time.monotonic() - self.t0)

    def stop(self) -> list[PodSample]:
        self.stop_event.set()
        self.join(timeout=1)
        with self.lock:
            return list(self.samples)
