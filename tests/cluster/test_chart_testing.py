"""`ct install --upgrade` over the chart's ci/*-values.yaml on the local cluster, as users run it (cluster marker).

The cluster has no registry, so the extra --set args point the chart (and its
helm test hook) at the locally built test app; everything else is as in CI.
"""

from __future__ import annotations

import subprocess

import pytest

from portico.toolchain.locate import tool_path, tools_env
from portico.cluster import addons, kind, lifecycle
from tests.conftest import REPO

pytestmark = [pytest.mark.cluster, pytest.mark.own_stream]

OFFLINE_IMAGES = " ".join([
    f"--set=image.repository={addons.TESTAPP_REPO}", "--set=image.tag=1.0.0", "--set=image.pullPolicy=Never",
    "--set=probes.readiness.spec.httpGet.path=/readyz",
    f"--set=tests.image={addons.TESTAPP_REPO}:1.0.0", "--set=tests.command={/testapp,get}",
    "--set=tests.tcpCommand={/testapp,tcp}",
    # ct installs, tests and uninstalls, each waiting for pods to finish terminating: a short preStop keeps
    # that quick (the zero-downtime tests run the chart's own 10 s).
    "--set=lifecycle.preStop.seconds=2", "--set=terminationGracePeriodSeconds=10",
])


def test_ct_install_with_upgrade(tmp_path):
    lifecycle.up()
    # ct diffs against origin/<target-branch>; a local clone has exactly that.
    clone = tmp_path / "repo"
    subprocess.run(["git", "clone", "-q", str(REPO), str(clone)], check=True)
    env = {**tools_env(), "KUBECONFIG": str(kind.kubeconfig_path())}
    proc = subprocess.run(
        [tool_path("ct"), "install", "--config", "ci/ct.yaml", "--charts", "charts/portico", "--upgrade",
         "--target-branch", subprocess.run(["git", "-C", str(REPO), "branch", "--show-current"], capture_output=True,
                                           text=True).stdout.strip() or "main",
         "--helm-extra-set-args", OFFLINE_IMAGES, "--helm-extra-args", "--timeout 300s"],
        cwd=clone, capture_output=True, text=True, env=env, timeout=1500)
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-4000:]
    assert "All charts installed successfully" in output
    for values in ("default-values.yaml", "nodeport-values.yaml", "headless-statefulset-values.yaml",
                   "ingress-tls-values.yaml"):
        assert values in output
