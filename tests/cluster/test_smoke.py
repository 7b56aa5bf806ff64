"""`portico smoke` over the chart's ci/smoke.yaml on the local cluster (cluster marker)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from portico.cluster import addons, kind, lifecycle
from tests.conftest import CHART, REPO

pytestmark = pytest.mark.cluster


def test_every_smoke_scenario_passes(tmp_path):
    lifecycle.up()
    report = tmp_path / "smoke.json"
    proc = subprocess.run(
        [sys.executable, "-m", "portico.cli", "smoke", str(CHART), str(CHART / "ci" / "smoke.yaml"),
         "--kubeconfig", str(kind.kubeconfig_path()), "--client-image", f"{addons.TESTAPP_REPO}:1.0.0",
         "--client-command", "/testapp get", "--json", str(report), "--junit", str(REPO / "out" / "smoke-junit.xml")],
        capture_output=True, text=True, timeout=900)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    cases = json.loads(report.read_text())["cases"]
    assert len(cases) == 17 and all(c["status"] == "passed" for c in cases)
    # Every reachable scenario was answered by one of its own release's pods.
    assert all(c["properties"]["answered_by"] for c in cases if c["name"] not in ("externalname", "job", "cronjob"))


def _smoke_only(tmp_path, scenarios: str) -> subprocess.CompletedProcess:
    bad = tmp_path / "smoke.yaml"
    bad.write_text((CHART / "ci" / "smoke.yaml").read_text().split("scenarios:")[0] + "scenarios:\n" + scenarios)
    return subprocess.run(
        [sys.executable, "-m", "portico.cli", "smoke", str(CHART), str(bad), "--kubeconfig", str(kind.kubeconfig_path()),
         "--client-image", f"{addons.TESTAPP_REPO}:1.0.0", "--client-command", "/testapp get"],
        capture_output=True, text=True, timeout=300)


def test_smoke_fails_when_the_exposure_does_not_answer(tmp_path):
    """Negative control: a route to a host nothing serves must fail the scenario, not pass it."""
    lifecycle.up()
    proc = _smoke_only(tmp_path, """  wrong-host:
    reach: ingress
    host: nobody.portico.test
    values:
      expose: {via: [ingress], hosts: [{host: somebody.portico.test, paths: [{path: /}]}]}
      ingress: {className: traefik}
""")
    assert proc.returncode == 1, proc.stdout
    assert "wrong-host" in proc.stdout and "FAIL" in proc.stdout and "never answered" in proc.stdout


def test_smoke_fails_when_a_job_does_not_complete(tmp_path):
    """Negative control for `reach: job`: a Job whose pod keeps failing fails the scenario."""
    lifecycle.up()
    proc = _smoke_only(tmp_path, """  failing-job:
    reach: job
    values:
      workload: {kind: Job}
      job: {backoffLimit: 0}
      args: [tcp, 127.0.0.1, "1"]
      probes: {readiness: {enabled: false}}
""")
    assert proc.returncode == 1, proc.stdout
    assert "failing-job" in proc.stdout and "did not complete" in proc.stdout
