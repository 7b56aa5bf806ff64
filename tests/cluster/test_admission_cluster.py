"""`--admission-kubeconfig`: the same dry-run against an existing cluster, creating nothing (cluster marker)."""

from __future__ import annotations

import json
import sys

import pytest
import yaml

from portico.cluster import kind, lifecycle
from portico.process import default_runner
from tests.conftest import FIXTURES

pytestmark = pytest.mark.cluster


def test_admission_by_an_existing_cluster_creates_nothing(tmp_path):
    lifecycle.up()
    matrix = tmp_path / "m.yaml"
    matrix.write_text(yaml.safe_dump({
        "chart": str(FIXTURES / "charts" / "tiny"), "release": {"name": "tiny-admission", "namespace": "default"},
        "axes": {"bug": {"path": "bug", "values": ["none", "external-traffic-policy"]}},
        "validate": {"kubernetesVersions": ["1.34"]}}))
    before = kind.cluster().kubectl.names("services,deployments,ingresses", namespace="default")
    done = default_runner().run([sys.executable, "-m", "portico.cli", "matrix", str(matrix), "-o", str(tmp_path / "o"),
                                 "--no-progress", "--json", str(tmp_path / "r.json"),
                                 "--admission-kubeconfig", str(kind.kubeconfig_path())], check=False, timeout=300)
    report = json.loads((tmp_path / "r.json").read_text())
    rejected = [f for f in report["findings"] if f["rule"] == "admission/rejected"]
    assert done.returncode == 1, done.stderr
    assert [f["kind"] for f in rejected] == ["Service"] and dict(rejected[0]["trigger"]) == {
        "bug": "external-traffic-policy"}
    assert kind.cluster().kubectl.names("services,deployments,ingresses", namespace="default") == before
