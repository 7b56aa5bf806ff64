"""`portico upgrade-check`: install A, load every target, `helm upgrade` to B, count every request.

1. Install the release at version A and wait until every target answers.
2. Put steady open-loop load on every target with vegeta (kept-alive and fresh connections).
3. `helm upgrade` to version B, wait for the rollout and for the old pods to be
   gone, then let the load run a settle time more, then stop it.
4. The verdict is zero failed requests and the version switch completed (the
   last responses all come from B).

Works on any chart and any cluster given by KUBECONFIG; versions are read from
the X-Version header when the app sends one (Portico's test app does).
"""

from __future__ import annotations

import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from portico import wait
from portico.errors import ToolError
from portico.kube import Cluster
from portico.process import CommandError
from portico.zerodowntime.disruptions import During, Disruption
from portico.zerodowntime.load import LoadGenerator, Run, Target
from portico.zerodowntime.verdict import UpgradeReport, summarise
from portico.zerodowntime.watch import PodWatcher

INSTANCE_LABEL = "app.kubernetes.io/instance"


@dataclass(frozen=True)
class Step:
    """One side of an upgrade: a chart and its values layers."""

    chart: Path
    values: tuple[dict, ...]
    label: str


def _answers(target: Target) -> bool:
    req = urllib.request.Request(target.url, headers={"Host": target.host} if target.host else {})
    with urllib.request.urlopen(req, timeout=3) as resp:
        return resp.status < 300


def wait_answering(targets: list[Target], timeout: float = 60) -> None:
    """Until each target answers 2xx once (routes take a moment to program)."""
    for target in targets:
        wait.until(lambda: _answers(target), timeout=timeout, interval=1,
                   what=f"target {target.name} ({target.url}) never answered before the upgrade")


def wait_at_rest(cluster: Cluster, namespace: str, labels: dict[str, str], timeout: float = 120) -> None:
    """Before the load: each HorizontalPodAutoscaler in the namespace has reached its minimum (a fresh install
    renders no replicas under an HPA, so the workload starts at 1 until the HPA's first sync) and every
    Deployment and StatefulSet of the release has all its replicas ready."""
    from lightkube.resources.apps_v1 import Deployment, StatefulSet
    from lightkube.resources.autoscaling_v2 import HorizontalPodAutoscaler

    def unsettled() -> list[str]:
        waiting = []
        for hpa in cluster.api.list(HorizontalPodAutoscaler, namespace=namespace):
            current = (hpa.status.currentReplicas if hpa.status else None) or 0
            if current < (hpa.spec.minReplicas or 1):
                waiting.append(f"HPA {hpa.metadata.name} at {current} of its minimum {hpa.spec.minReplicas or 1}")
        for kind in (Deployment, StatefulSet):
            for obj in cluster.api.list(kind, namespace=namespace, labels=labels):
                ready = (obj.status.readyReplicas if obj.status else None) or 0
                if ready < (obj.spec.replicas or 0):
                    waiting.append(f"{kind.__name__} {obj.metadata.name} {ready}/{obj.spec.replicas} ready")
        return waiting

    last: list[str] = []

    def settled() -> bool:
        last[:] = unsettled()
        return not last

    wait.until(settled, timeout=timeout, interval=1, what="the release was not at rest before the upgrade",
               detail=lambda: "; ".join(last))


def wait_old_pods_gone(watcher: PodWatcher, timeout: float = 180) -> None:
    def settled() -> bool:
        if watcher.error is not None:
            raise ToolError(f"watching the release's pods failed: {watcher.error}")
        now = watcher.current()
        return now.total > 0 and now.terminating == 0 and len(now.by_revision) <= 1 and now.ready == now.total

    wait.until(settled, timeout=timeout, interval=0.5, what="old pods were still around after the rollout")


def rollback_args(helm_binary: str) -> tuple[str, ...]:
    """helm 4 renamed --atomic to --rollback-on-failure; helm 3 has only --atomic."""
    return ("--atomic",) if helm_binary == "helm3" else ("--rollback-on-failure",)


def upgrade_check(cluster: Cluster, scenario: str, release: str, namespace: str, before: Step, after: Step,
                  targets: list[Target], *, expected_version: str | None = None, rate: float = 500.0,
                  settle: float = 5.0, warmup: float = 3.0, max_seconds: float = 300.0, min_requests: int = 0,
                  disruptions: Sequence[Disruption] = (), installer: Cluster | None = None,
                  upgrade_args: Sequence[str] = (), upgrade_may_fail: bool = False, upgrade_timeout: str = "300s",
                  log: Callable[[str], None] = print) -> tuple[UpgradeReport, Run]:
    """`installer` installs A (another helm, e.g. helm 3, before `cluster`'s upgrades it); `upgrade_args` go to
    `helm upgrade` (e.g. --rollback-on-failure), and with `upgrade_may_fail` its failure is recorded, not raised."""
    (installer or cluster).install(release, before.chart, namespace, before.values)
    labels = {INSTANCE_LABEL: release}
    wait_at_rest(cluster, namespace, labels)
    wait_answering(targets)
    gen = LoadGenerator(targets, rate_per_target=rate, max_seconds=max_seconds)
    gen.start()
    watcher = PodWatcher(cluster.api, namespace, labels, gen.t0)
    watcher.start()
    during = During(cluster, namespace, labels, watcher, list(disruptions), gen.t0)
    upgrade_error = ""
    try:
        time.sleep(warmup)
        started = time.monotonic() - gen.t0
        log(f"{scenario}: helm upgrade {before.label} -> {after.label} under {rate:.0f} req/s x {len(targets)} targets")
        if disruptions:
            during.begin()
        try:
            cluster.upgrade(release, after.chart, namespace, after.values, timeout=upgrade_timeout,
                            extra=upgrade_args)
        except CommandError as exc:
            if not upgrade_may_fail:
                raise
            upgrade_error = str(exc)
        wait_old_pods_gone(watcher)
        finished = time.monotonic() - gen.t0
        time.sleep(settle)
        # Keep the new version under load until the request floor is met (the generator's own bounds stop it).
        wait.until(lambda: gen.sent() >= min_requests or gen.should_stop(), timeout=max_seconds, interval=0.5,
                   what=f"the load generator did not reach {min_requests} requests")
    finally:
        happened = during.finish()
        run = gen.stop()
        pods = watcher.stop()
    report = summarise(scenario, release, namespace, before.label, after.label, run, started, finished,
                       expected_version, pods)
    report.disruptions = happened
    report.disruptions_done = all(d.done_at is not None and not d.error for d in disruptions)
    report.upgrade_error = upgrade_error
    report.load_notes = list(gen.notes)
    return report, run
