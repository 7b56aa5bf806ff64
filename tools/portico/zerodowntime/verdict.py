"""The verdict on one upgrade: every request counted, the version switch judged, as a report case."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field

from portico.results import FAILED, PASSED, Case, Finding
from portico.zerodowntime.load import Run, percentile
from portico.zerodowntime.watch import PodSample


@dataclass
class TargetReport:
    name: str
    requests: int
    failures: dict[str, int]
    p50_ms: float
    p99_ms: float
    versions: dict[str, int]
    rate: float = 0.0  # requests/s asked (open loop: what was sent, whatever the answers)


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
    # class (refused, reset, eof, timeout, http/app, http/proxy, other) -> count, first and last second
    failure_classes: dict[str, dict] = field(default_factory=dict)
    late_failures: int = 0  # after the rollout had completed (old pods gone, new ones ready)
    switch_judged_by: str = "responses"  # or "cluster": the app names no version, so the pods' revisions tell
    disruptions: list[str] = field(default_factory=list)  # what each disruption did and when
    disruptions_done: bool = True  # every disruption happened (one that did not proves nothing)
    upgrade_error: str = ""  # helm upgrade's failure, when the scenario allows one (a rollback)
    load_notes: list[str] = field(default_factory=list)  # where the load departed from what was asked, and why
    # The run's chances to catch a rollout fault: each pod that began terminating, or became ready, under load.
    terminations: int = 0
    ready_transitions: int = 0
    rollout_requests: int = 0  # requests sent while helm upgrade ran
    cycles: int = 1  # A -> B rollouts asked for (with a B -> A between each)
    rollouts: int = 1  # helm upgrades that completed under the load

    @property
    def passed(self) -> bool:
        return self.failed == 0 and self.switch_completed and self.disruptions_done


def _timeline(run: Run) -> list[tuple[float, str, str]]:
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    for s in run.samples:
        if s.version:
            first.setdefault(s.version, s.start)
            last[s.version] = s.start
    events = [(t, "first", v) for v, t in first.items()] + [(t, "last", v) for v, t in last.items()]
    return sorted(events)


LATE_AFTER = 2.0  # seconds after the rollout completed: beyond it a failure is no longer the rollout's


def _failure_classes(run: Run) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for s in run.samples:
        if s.ok:
            continue
        key = f"{s.error}/{s.component}" if s.component else str(s.error)
        entry = out.setdefault(key, {"count": 0, "first": s.start, "last": s.start, "example": s.detail[:160]})
        entry["count"] += 1
        entry["last"] = s.start
    return out


def rolled_over(pods: list[PodSample]) -> bool:
    """The cluster's word on the switch: at the end only one revision has ready pods, and it is a new one."""
    before = {rev for rev, ready in (pods[0].by_revision if pods else {}).items() if ready}
    after = {rev for rev, ready in (pods[-1].by_revision if pods else {}).items() if ready}
    return len(after) == 1 and not after & before


def chances(pods: list[PodSample]) -> tuple[int, int]:
    """(pods that began terminating, pods that became ready) between the watch's samples, one event each: a
    fault in draining or in readiness can drop requests only at such a moment."""
    terminations = readies = 0
    for before, after in zip(pods, pods[1:]):
        terminations += max(0, after.terminating - before.terminating)
        readies += max(0, after.ready - before.ready)
    return terminations, readies


def summarise(scenario: str, release: str, namespace: str, from_label: str, to_label: str, run: Run,
              upgrade_started: float, upgrade_finished: float, expected_version: str | None,
              pods: list[PodSample]) -> UpgradeReport:
    targets = []
    for name, samples in run.by_target().items():
        latencies = [s.latency for s in samples if s.ok]
        targets.append(TargetReport(
            name=name, requests=len(samples), failures=dict(Counter(s.error for s in samples if s.error)),
            p50_ms=percentile(latencies, 0.5) * 1000, p99_ms=percentile(latencies, 0.99) * 1000,
            versions=dict(Counter(s.version for s in samples if s.version)), rate=run.rates.get(name, 0.0)))
    tail = [s for s in run.samples if s.start >= upgrade_finished and s.ok]
    final = Counter(s.version for s in tail if s.version)
    judged_by = "responses" if any(s.version for s in run.samples) else "cluster"
    if judged_by == "responses":
        switch = bool(tail) and (expected_version is None or set(final) == {expected_version})
    else:
        switch = bool(tail) and rolled_over(pods)
    failures = run.failures()
    report = UpgradeReport(scenario, release, namespace, from_label, to_label, len(run.samples),
                         sum(failures.values()), dict(failures), targets, upgrade_started, upgrade_finished,
                         upgrade_finished - upgrade_started, expected_version, dict(final), switch, _timeline(run),
                         pods, run.duration, _failure_classes(run),
                         sum(1 for s in run.samples if not s.ok and s.start > upgrade_finished + LATE_AFTER), judged_by)
    report.terminations, report.ready_transitions = chances(pods)
    report.rollout_requests = sum(1 for s in run.samples if upgrade_started <= s.start <= upgrade_finished)
    return report


def render_text(report: UpgradeReport) -> str:
    verdict = "PASS" if report.passed else "FAIL"
    lines = [f"{verdict} {report.scenario}: {report.from_label} -> {report.to_label}: {report.requests} requests, "
             f"{report.failed} failed {report.failures or ''}, rollout {report.rollout_seconds:.1f}s, "
             f"final versions {report.final_versions} "
             f"(switch {'completed' if report.switch_completed else 'NOT completed'}"
             f"{', judged by the pods: the app names no version' if report.switch_judged_by == 'cluster' else ''})"]
    lines += [f"  during the rollout: {d}" for d in report.disruptions]
    lines += [f"  load: {note}" for note in report.load_notes]
    lines.append("  chances: " + chance_line(report))
    if report.upgrade_error:
        lines.append(f"  helm upgrade failed, as this scenario allows: {report.upgrade_error[-300:]}")
    for t in report.targets:
        lines.append(f"  {t.name:<10} {t.requests:>6} requests  failures {t.failures or 0}  p50 {t.p50_ms:.1f} ms  "
                     f"p99 {t.p99_ms:.1f} ms  versions {t.versions}")
    for name, c in sorted(report.failure_classes.items(), key=lambda kv: -kv[1]["count"]):
        lines.append(f"  failed {name:<12} {c['count']:>6}  from {c['first']:.1f}s to {c['last']:.1f}s "
                     f"(rollout {report.upgrade_started:.1f}-{report.upgrade_finished:.1f}s)  e.g. {c['example']!r}")
    client = report.failure_classes.get("client", {}).get("count", 0)
    if client:
        lines.append(f"  {client} requests failed in the load generator itself (out of local ports or file "
                     "descriptors): this run cannot judge the chart; lower the rate or free the ports")
    if report.late_failures:
        lines.append(f"  {report.late_failures} failures came more than {LATE_AFTER:g}s after the rollout completed: "
                     "the cluster was settled, so look at the client or the proxy, not the rollout")
    lines.append("  timeline: " + ", ".join(f"{event} {version} at {t:.1f}s" for t, event, version
                                            in report.version_timeline))
    return "\n".join(lines)


def chance_line(report: UpgradeReport) -> str:
    """How many moments under load could have shown a rollout fault, and the requests sent around each."""
    asked = 2 * report.cycles - 1
    rollouts = (f"{report.rollouts} of {asked} rollouts ({report.cycles} cycles of {report.from_label} -> "
                f"{report.to_label}): " if report.cycles > 1 else "")
    line = (f"{rollouts}{report.terminations} pods began terminating and {report.ready_transitions} became ready "
            f"under load; {report.rollout_requests} requests during the rollout")
    if report.terminations:
        return line + f", {report.rollout_requests // report.terminations} a termination"
    return line + ": no pod terminated under load, so a fault in draining (preStop, SIGTERM) could not show"


def to_dict(report: UpgradeReport) -> dict:
    out = asdict(report)
    out["passed"] = report.passed
    return out


def to_case(report: UpgradeReport) -> Case:
    findings = []
    if report.failed:
        findings.append(Finding("zero-downtime", "zero-downtime/failed-requests",
                                f"{report.failed} of {report.requests} requests failed during the upgrade: "
                                f"{ {k: v['count'] for k, v in report.failure_classes.items()} }"
                                + (f"; {report.late_failures} after the rollout completed" if report.late_failures
                                   else ""),
                                hint="readiness probe, preStop delay, maxUnavailable 0 and a PodDisruptionBudget"))
    if not report.switch_completed:
        findings.append(Finding("zero-downtime", "zero-downtime/version-switch",
                                f"the version switch did not complete: final versions {report.final_versions}, "
                                f"expected {report.expected_version}"))
    if not report.disruptions_done:
        findings.append(Finding("zero-downtime", "zero-downtime/disruption",
                                "a disruption did not happen, so the run proves nothing about it: "
                                + "; ".join(report.disruptions)))
    return Case(report.scenario, PASSED if report.passed else FAILED, findings, report.duration,
                properties=to_dict(report), detail=render_text(report))
