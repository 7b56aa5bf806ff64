"""`portico upgrade-check`: does `helm upgrade` drop requests?

1. Install the release at version A and wait until every target answers.
2. Put steady load on every target (keep-alive and fresh connections).
3. `helm upgrade` to version B, wait for the rollout and for the old pods to be
   gone, then let the load run a settle time more, then stop it.
4. Count every request; the verdict is zero failed requests and the version
   switch completed (the last responses all come from B).

Works on any chart and any cluster given by KUBECONFIG; versions are read from
the X-Version header when the app sends one (Portico's test app does).
"""

from __future__ import annotations

import json
import subprocess
import tempfile
import threading
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

from portico.binaries import tool_path
from portico.errors import ToolError
from portico.files import write_atomic
from portico.load import LoadGenerator, Run, Target, percentile


@dataclass(frozen=True)
class Step:
    """One side of an upgrade: a chart and its values layers."""

    chart: Path
    values: tuple[dict, ...]
    label: str


@dataclass(frozen=True)
class PodSample:
    t: float
    ready: int
    total: int
    terminating: int
    by_revision: dict[str, int]


@dataclass
class TargetReport:
    name: str
    requests: int
    failures: dict[str, int]
    p50_ms: float
    p99_ms: float
    versions: dict[str, int]


@dataclass
class UpgradeReport:
    scenario: str
    release: str
    namespace: str
    from_label: str
    to_label: str
    requests: int
    failed: int
    failures: dict[str, int]
    targets: list[TargetReport]
    upgrade_started: float
    upgrade_finished: float
    rollout_seconds: float
    expected_version: str | None
    final_versions: dict[str, int]
    switch_completed: bool
    version_timeline: list[tuple[float, str, str]]  # (t, event, version): first/last seen
    pods: list[PodSample] = field(default_factory=list)
    duration: float = 0.0

    @property
    def passed(self) -> bool:
        return self.failed == 0 and self.switch_completed


class Cluster:
    """helm and kubectl against one kubeconfig."""

    def __init__(self, kubeconfig: Path | None):
        self.kubeconfig = kubeconfig

    def _cfg(self) -> list[str]:
        return ["--kubeconfig", str(self.kubeconfig)] if self.kubeconfig else []

    def helm(self, *args: str, timeout: int = 600) -> str:
        proc = subprocess.run([tool_path("helm"), *self._cfg(), *args], capture_output=True, text=True,
                              timeout=timeout)
        if proc.returncode != 0:
            raise ToolError(f"helm {args[0]} failed: {proc.stderr.strip()[-1500:]}")
        return proc.stdout

    def kubectl(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run([tool_path("kubectl"), *self._cfg(), *args], capture_output=True, text=True,
                              timeout=120)
        if check and proc.returncode != 0:
            raise ToolError(f"kubectl {' '.join(args[:3])} failed: {proc.stderr.strip()[-1000:]}")
        return proc.stdout

    def helm_values(self, action: str, release: str, step: Step, namespace: str, timeout: str = "300s") -> None:
        with tempfile.TemporaryDirectory(prefix="portico-upgrade-") as tmp:
            args = []
            for i, layer in enumerate(step.values):
                path = Path(tmp) / f"{i}.json"
                path.write_text(json.dumps(layer))
                args += ["-f", str(path)]
            if action == "install":
                self.helm("upgrade", "--install", release, str(step.chart), "--namespace", namespace,
                          "--create-namespace", "--wait", "--timeout", timeout, *args)
            else:
                self.helm("upgrade", release, str(step.chart), "--namespace", namespace, "--wait",
                          "--timeout", timeout, *args)


class PodWatcher(threading.Thread):
    """Samples the release's pods twice a second: ready, total, terminating, per ReplicaSet."""

    def __init__(self, cluster: Cluster, namespace: str, selector: str, t0: float):
        super().__init__(daemon=True, name="pod-watcher")
        self.cluster, self.namespace, self.selector, self.t0 = cluster, namespace, selector, t0
        self.samples: list[PodSample] = []
        self.stop_event = threading.Event()

    def snapshot(self) -> PodSample:
        pods = json.loads(self.cluster.kubectl("-n", self.namespace, "get", "pods", "-l", self.selector, "-o", "json",
                                               check=False) or '{"items": []}')["items"]
        ready = terminating = 0
        revisions: Counter = Counter()
        for pod in pods:
            if pod["metadata"].get("deletionTimestamp"):
                terminating += 1
            conditions = {c["type"]: c["status"] for c in pod.get("status", {}).get("conditions", [])}
            if conditions.get("Ready") == "True" and not pod["metadata"].get("deletionTimestamp"):
                ready += 1
                labels = pod["metadata"].get("labels", {})
                revisions[labels.get("pod-template-hash") or labels.get("controller-revision-hash", "?")] += 1
        return PodSample(time.monotonic() - self.t0, ready, len(pods), terminating, dict(revisions))

    def run(self) -> None:
        while not self.stop_event.wait(0.5):
            self.samples.append(self.snapshot())

    def stop(self) -> list[PodSample]:
        self.stop_event.set()
        self.join(timeout=5)
        return self.samples


def wait_answering(targets: list[Target], attempts: int = 60) -> None:
    """Until each target answers 2xx once (routes take a moment to program); bounded."""
    import urllib.request

    for target in targets:
        for _ in range(attempts):
            req = urllib.request.Request(target.url, headers={"Host": target.host} if target.host else {})
            try:
                with urllib.request.urlopen(req, timeout=3) as resp:
                    if resp.status < 300:
                        break
            except Exception:  # noqa: BLE001 - retried, bounded
                pass
            time.sleep(1)
        else:
            raise ToolError(f"target {target.name} ({target.url}) never answered before the upgrade")


def wait_old_pods_gone(watcher: PodWatcher, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sample = watcher.snapshot()
        if sample.terminating == 0 and len(sample.by_revision) <= 1 and sample.ready == sample.total:
            return
        time.sleep(0.5)
    raise ToolError("old pods were still around after the rollout")


def _timeline(run: Run) -> list[tuple[float, str, str]]:
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    for s in run.samples:
        if s.version:
            first.setdefault(s.version, s.start)
            last[s.version] = s.start
    events = [(t, "first", v) for v, t in first.items()] + [(t, "last", v) for v, t in last.items()]
    return sorted(events)


def summarise(scenario: str, release: str, namespace: str, before: Step, after: Step, run: Run,
              upgrade_started: float, upgrade_finished: float, expected_version: str | None,
              pods: list[PodSample]) -> UpgradeReport:
    targets = []
    for name, samples in run.by_target().items():
        latencies = [s.latency for s in samples if s.ok]
        targets.append(TargetReport(
            name=name, requests=len(samples), failures=dict(Counter(s.error for s in samples if s.error)),
            p50_ms=percentile(latencies, 0.5) * 1000, p99_ms=percentile(latencies, 0.99) * 1000,
            versions=dict(Counter(s.version for s in samples if s.version))))
    tail = [s for s in run.samples if s.start >= upgrade_finished and s.ok]
    final = Counter(s.version for s in tail if s.version)
    switch = bool(tail) and (expected_version is None or set(final) == {expected_version})
    failures = run.failures()
    return UpgradeReport(scenario, release, namespace, before.label, after.label, len(run.samples),
                         sum(failures.values()), dict(failures), targets, upgrade_started, upgrade_finished,
                         upgrade_finished - upgrade_started, expected_version, dict(final), switch, _timeline(run),
                         pods, run.duration)


def upgrade_check(cluster: Cluster, scenario: str, release: str, namespace: str, before: Step, after: Step,
                  targets: list[Target], *, expected_version: str | None = None, rate: float = 60.0,
                  settle: float = 5.0, warmup: float = 3.0, max_seconds: float = 300.0, min_requests: int = 0,
                  log: Callable[[str], None] = print) -> tuple[UpgradeReport, Run]:
    cluster.helm_values("install", release, before, namespace)
    wait_answering(targets)
    selector = f"app.kubernetes.io/instance={release}"
    gen = LoadGenerator(targets, rate_per_target=rate, max_seconds=max_seconds)
    gen.start()
    watcher = PodWatcher(cluster, namespace, selector, gen.t0)
    watcher.start()
    try:
        time.sleep(warmup)
        started = time.monotonic() - gen.t0
        log(f"{scenario}: helm upgrade {before.label} -> {after.label} under {rate:.0f} req/s x {len(targets)} targets")
        cluster.helm_values("upgrade", release, after, namespace)
        wait_old_pods_gone(watcher)
        finished = time.monotonic() - gen.t0
        time.sleep(settle)
        while len(gen.samples) < min_requests and not gen.should_stop():
            time.sleep(0.5)  # keep the new version under load until the request floor is met
    finally:
        run = gen.stop()
        pods = watcher.stop()
    report = summarise(scenario, release, namespace, before, after, run, started, finished, expected_version, pods)
    return report, run


def to_json(report: UpgradeReport) -> dict:
    out = asdict(report)
    out["passed"] = report.passed
    return out


def plot(report: UpgradeReport, run: Run, path: Path) -> None:
    """Requests per second (ok and failed, per second), ready pods, and the upgrade window."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seconds = int(run.duration) + 1
    ok, bad = [0] * seconds, [0] * seconds
    versions: dict[str, list[int]] = {}
    for s in run.samples:
        i = min(int(s.start), seconds - 1)
        if s.ok:
            ok[i] += 1
            versions.setdefault(s.version or "?", [0] * seconds)[i] += 1
        else:
            bad[i] += 1
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    xs = list(range(seconds))
    for version, counts in sorted(versions.items()):
        ax1.plot(xs, counts, label=f"ok from {version}")
    ax1.bar(xs, bad, color="red", label="failed", width=1.0, alpha=0.7)
    ax1.set_ylabel("requests / s")
    verdict = "PASS" if report.passed else "FAIL"
    ax1.set_title(f"{report.scenario}: {report.from_label} -> {report.to_label} — {report.requests} requests, "
                  f"{report.failed} failed ({verdict})")
    for ax in (ax1, ax2):
        ax.axvspan(report.upgrade_started, report.upgrade_finished, color="grey", alpha=0.15, label="rollout")
    ax1.legend(loc="upper left", fontsize=8)
    ax2.step([p.t for p in report.pods], [p.ready for p in report.pods], where="post", label="ready pods")
    ax2.step([p.t for p in report.pods], [p.terminating for p in report.pods], where="post", label="terminating")
    ax2.set_ylabel("pods")
    ax2.set_xlabel("seconds since load start")
    ax2.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)


def render_text(report: UpgradeReport) -> str:
    verdict = "PASS" if report.passed else "FAIL"
    lines = [f"{verdict} {report.scenario}: {report.from_label} -> {report.to_label}: {report.requests} requests, "
             f"{report.failed} failed {report.failures or ''}, rollout {report.rollout_seconds:.1f}s, "
             f"final versions {report.final_versions} (switch {'completed' if report.switch_completed else 'NOT completed'})"]
    for t in report.targets:
        lines.append(f"  {t.name:<10} {t.requests:>6} requests  failures {t.failures or 0}  p50 {t.p50_ms:.1f} ms  "
                     f"p99 {t.p99_ms:.1f} ms  versions {t.versions}")
    lines.append("  timeline: " + ", ".join(f"{event} {version} at {t:.1f}s" for t, event, version
                                            in report.version_timeline))
    return "\n".join(lines)


def write_junit(reports: list[UpgradeReport], path: Path) -> None:
    from xml.etree import ElementTree as ET

    suite = ET.Element("testsuite", name="portico-upgrade-check", tests=str(len(reports)),
                       failures=str(sum(1 for r in reports if not r.passed)))
    for r in reports:
        case = ET.SubElement(suite, "testcase", classname="upgrade-check", name=r.scenario,
                             time=f"{r.duration:.1f}")
        if not r.passed:
            failure = ET.SubElement(case, "failure", message=f"{r.failed} failed requests {r.failures}; "
                                                              f"switch completed: {r.switch_completed}")
            failure.text = render_text(r)
    root = ET.Element("testsuites")
    root.append(suite)
    ET.indent(root)
    write_atomic(path, ET.tostring(root, encoding="unicode", xml_declaration=True))
