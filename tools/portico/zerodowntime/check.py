"""`portico upgrade-check`: install A, load every target, `helm upgrade` to B, count every request.

1. Install the release at version A and wait until every target answers.
2. Put steady open-loop load on every target with vegeta (kept-alive and fresh connections).
3. `helm upgrade` to version B, wait for the rollout and for the old pods to be
   gone, then let the load run a settle time more, then stop it.
4. The verdict is zero failed requests and the version switch completed (the
   last responses all come from B).

Works on any chart and any cluster given by KUBECONFIG: the release's pods are
the ones its workloads select, versions are read from the X-Version header when
the app sends one (Portico's test app does) and from the pods' revisions when it
does not. Targets are addresses on this machine, the release's LoadBalancer
address (lb://), its Service from a pod inside the cluster (cluster://) or gRPC
(grpc://).
"""

from __future__ import annotations

import dataclasses
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

from portico import wait
from portico.clients.ghz import Ghz
from portico.clients.vegeta import PodVegeta, Vegeta, pod_image
from portico.errors import InputError, ToolError
from portico.kube import Cluster
from portico.process import CommandError
from portico.toolchain.pins import load_versions
from portico.zerodowntime.disruptions import During, Disruption
from portico.zerodowntime.load import LoadGenerator, Run, Target, is_grpc
from portico.zerodowntime.verdict import UpgradeReport, summarise
from portico.zerodowntime.watch import PodWatcher, pod_labels, workloads


@dataclass(frozen=True)
class Step:
    """One side of an upgrade: a chart and its values layers."""

    chart: Path
    values: tuple[dict, ...]
    label: str


LB_SCHEME, CLUSTER_SCHEME = "lb://", "cluster://"


def _service(cluster: Cluster, namespace: str, name: str, spec: str):
    from lightkube import ApiError
    from lightkube.resources.core_v1 import Service

    try:
        return cluster.api.get(Service, name, namespace=namespace)
    except ApiError as exc:
        raise ToolError(f"target {spec}: Service {namespace}/{name}: {exc.status.message}") from None


def _service_ref(spec: str, scheme: str) -> tuple[str, str, str]:
    """SCHEME://SERVICE[:PORT][/PATH] -> (SERVICE, PORT or "", "/PATH" or "")."""
    where, slash, path = spec[len(scheme):].partition("/")
    name, _, port = where.partition(":")
    return name, port, slash + path


def load_balancer_url(cluster: Cluster, namespace: str, spec: str, timeout: float = 90) -> str:
    """lb://SERVICE[:PORT][/PATH] -> http://ADDRESS:PORT/PATH, once the LoadBalancer Service has an address
    (the release makes the Service, so its address is known only after the install); PORT defaults to the
    Service's first port."""
    name, port, path = _service_ref(spec, LB_SCHEME)
    kind = _service(cluster, namespace, name, spec).spec.type
    if kind != "LoadBalancer":
        raise ToolError(f"target {spec}: Service {namespace}/{name} is of type {kind}, not LoadBalancer")

    def address() -> tuple[str, int] | None:
        svc = _service(cluster, namespace, name, spec)
        ingress = (svc.status.loadBalancer.ingress if svc.status and svc.status.loadBalancer else None) or []
        if not ingress:
            return None
        return ingress[0].ip or ingress[0].hostname, int(port or svc.spec.ports[0].port)

    host, number = wait.until(address, timeout=timeout, interval=1,
                              what=f"target {spec}: Service {namespace}/{name} got no LoadBalancer address")
    return f"http://{host}:{number}{path}"


def cluster_url(cluster: Cluster, namespace: str, spec: str) -> str:
    """cluster://SERVICE[:PORT][/PATH] -> http://SERVICE.NAMESPACE.svc:PORT/PATH, sent from a pod in NAMESPACE;
    PORT defaults to the Service's first port."""
    name, port, path = _service_ref(spec, CLUSTER_SCHEME)
    svc = _service(cluster, namespace, name, spec)
    return f"http://{name}.{namespace}.svc:{port or svc.spec.ports[0].port}{path}"


def resolve_targets(cluster: Cluster, namespace: str, targets: Sequence[Target]) -> list[Target]:
    """The release's own addresses, known once it is installed: lb:// and cluster:// targets."""
    out = []
    for t in targets:
        if t.url.startswith(LB_SCHEME):
            t = dataclasses.replace(t, url=load_balancer_url(cluster, namespace, t.url))
        elif t.url.startswith(CLUSTER_SCHEME):
            t = dataclasses.replace(t, url=cluster_url(cluster, namespace, t.url), in_cluster=True)
        out.append(t)
    return out


PROBE_TIMEOUT = 15.0  # seconds: a target may answer slowly on purpose (the controls' 3 s requests)


def _status(target: Target, method: str = "GET") -> int:
    req = urllib.request.Request(target.url, method=method, data=b"" if method == "POST" else None,
                                 headers={"Host": target.host} if target.host else {})
    try:
        with urllib.request.urlopen(req, timeout=PROBE_TIMEOUT) as resp:
            return resp.status
    except urllib.error.HTTPError as exc:
        return exc.code


def _post_status(target: Target) -> int:
    """The status a POST gets; 0 (no verdict: keep the POSTs) when it gets no answer at all."""
    try:
        return _status(target, "POST")
    except (OSError, urllib.error.URLError):
        return 0


def _answers(target: Target) -> bool:
    if is_grpc(target):
        return Ghz.pinned().answers(target.url, target.host)
    return _status(target) < 300


def wait_answering(targets: list[Target], timeout: float = 60, post_fallback: bool = True
                   ) -> tuple[list[Target], list[str]]:
    """Until each target answers 2xx once (routes take a moment to program). Then a target whose kept-alive
    requests are POSTs must take a POST: a static web server answers 405, which is no fault of the rollout.
    With `post_fallback` such a target's kept-alive requests become GETs (said in the notes returned), else
    it is an input error."""
    out, notes = [], []
    for target in targets:
        if target.in_cluster:
            out.append(target)  # nothing here reaches it; LoadGenerator.start waits until its pod's first answers
            continue
        wait.until(lambda: _answers(target), timeout=timeout, interval=1,
                   what=f"target {target.name} ({target.url}) never answered before the upgrade")
        if not is_grpc(target) and target.keepalive_method == "POST" and (code := _post_status(target)) >= 300:
            if not post_fallback:
                raise InputError(f"target {target.name} ({target.url}) answers a POST with {code} and a GET with "
                                 "2xx: its kept-alive requests cannot be POSTs (--keepalive-method GET or auto)")
            notes.append(f"{target.name}: answers a POST with {code}, so its kept-alive requests are GETs (a "
                         "client that resends a GET on a broken kept-alive connection hides what a POST shows)")
            target = dataclasses.replace(target, keepalive_method="GET")
        out.append(target)
    return out, notes


def wait_at_rest(cluster: Cluster, namespace: str, manifest: list[dict], timeout: float = 120) -> None:
    """Before the load: each HorizontalPodAutoscaler in the namespace has reached its minimum (a fresh install
    renders no replicas under an HPA, so the workload starts at 1 until the HPA's first sync) and every
    Deployment and StatefulSet of the release (from its manifest) has all its replicas ready."""
    from lightkube.resources.apps_v1 import Deployment, StatefulSet
    from lightkube.resources.autoscaling_v2 import HorizontalPodAutoscaler

    kinds = {"Deployment": Deployment, "StatefulSet": StatefulSet}

    def unsettled() -> list[str]:
        waiting = []
        for hpa in cluster.api.list(HorizontalPodAutoscaler, namespace=namespace):
            current = (hpa.status.currentReplicas if hpa.status else None) or 0
            if current < (hpa.spec.minReplicas or 1):
                waiting.append(f"HPA {hpa.metadata.name} at {current} of its minimum {hpa.spec.minReplicas or 1}")
        for doc in workloads(manifest):
            if doc["kind"] not in kinds:
                continue
            obj = cluster.api.get(kinds[doc["kind"]], doc["metadata"]["name"],
                                  namespace=doc["metadata"].get("namespace", namespace))
            ready = (obj.status.readyReplicas if obj.status else None) or 0
            if ready < (obj.spec.replicas or 0):
                waiting.append(f"{doc['kind']} {obj.metadata.name} {ready}/{obj.spec.replicas} ready")
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


def rollouts(before: Step, after: Step, cycles: int) -> list[tuple[Step, Step]]:
    """The helm upgrades of a check: A -> B, then B -> A -> B for each further cycle; it always ends on B."""
    return [(before, after)] + [pair for _ in range(cycles - 1) for pair in ((after, before), (before, after))]


def upgrade_check(cluster: Cluster, scenario: str, release: str, namespace: str, before: Step, after: Step,
                  targets: list[Target], *, expected_version: str | None = None, rate: float = 500.0,
                  settle: float = 5.0, warmup: float = 3.0, max_seconds: float = 300.0, min_requests: int = 0,
                  disruptions: Sequence[Disruption] = (), installer: Cluster | None = None,
                  upgrade_args: Sequence[str] = (), upgrade_may_fail: bool = False, upgrade_timeout: str = "300s",
                  load_image: str | None = None, post_fallback: bool = True, cycles: int = 1,
                  log: Callable[[str], None] = print) -> tuple[UpgradeReport, Run]:
    """`load_image`: the vegeta image for cluster:// targets (default: the one `portico cluster up` loads).
    `post_fallback`: a target that refuses POSTs gets kept-alive GETs instead of an input error.
    `installer` installs A (another helm, e.g. helm 3, before `cluster`'s upgrades it); `upgrade_args` go to
    `helm upgrade` (e.g. --rollback-on-failure), and with `upgrade_may_fail` its failure is recorded, not raised.
    `cycles`: how many A -> B rollouts, with a B -> A between each (2: A -> B -> A -> B), all under the one load:
    a fault that drops requests only in some pod terminations (a race) gets more chances to show."""
    load_image = load_image or pod_image(load_versions()["VEGETA_VERSION"])
    (installer or cluster).install(release, before.chart, namespace, before.values)
    manifest = cluster.helm.manifest(release, namespace)
    labels = pod_labels(manifest, release)
    wait_at_rest(cluster, namespace, manifest)
    targets = resolve_targets(cluster, namespace, targets)
    targets, answer_notes = wait_answering(targets, post_fallback=post_fallback)
    # The load's bound is per rollout: three rollouts of a slow app must not outlast it (an empty tail would
    # read as a switch that never completed).
    gen = LoadGenerator(targets, rate_per_target=rate, max_seconds=max_seconds * (2 * cycles - 1),
                        in_cluster=PodVegeta(cluster.kubectl.binary, cluster.kubectl.kubeconfig, namespace, load_image,
                                             Vegeta.pinned()) if any(t.in_cluster for t in targets) else None)
    gen.start()  # all of it or none: a start that fails stops what it started
    try:
        watcher = PodWatcher(cluster.api, namespace, labels, gen.t0)
        watcher.start()
    except BaseException:
        gen.stop()
        raise
    during = During(cluster, namespace, labels, watcher, list(disruptions), gen.t0)
    upgrade_error = ""
    try:
        time.sleep(warmup)
        started = time.monotonic() - gen.t0
        done = 0
        if disruptions:
            during.begin()
        steps = rollouts(before, after, cycles)
        for step_from, step_to in steps:
            which = f"rollout {done + 1} of {len(steps)}, {step_from.label} -> {step_to.label}"
            log(f"{scenario}: helm upgrade {step_from.label} -> {step_to.label} under {rate:.0f} req/s x "
                f"{len(targets)} targets" + (f" ({which})" if len(steps) > 1 else ""))
            try:
                cluster.upgrade(release, step_to.chart, namespace, step_to.values, timeout=upgrade_timeout,
                                extra=upgrade_args)
            except CommandError as exc:
                if upgrade_may_fail:
                    upgrade_error = str(exc)
                    break
                if len(steps) > 1:  # say which one: a chart may not go back B -> A
                    raise ToolError(f"{which}: {exc}") from exc
                raise
            try:
                wait_old_pods_gone(watcher)
            except ToolError as exc:
                if len(steps) > 1:
                    raise ToolError(f"{which}: {exc}") from exc
                raise
            done += 1
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
    report.cycles = cycles
    report.rollouts = done
    report.disruptions = happened
    report.disruptions_done = all(d.done_at is not None and not d.error for d in disruptions)
    report.upgrade_error = upgrade_error
    report.load_notes = answer_notes + list(gen.notes)
    return report, run
