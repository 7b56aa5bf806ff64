"""kubeconform, real binary, offline schemas, strict mode."""

from __future__ import annotations

import pytest

from portico.schemas import validate
from tests.conftest import FIXTURES

MANIFESTS = FIXTURES / "manifests"


@pytest.mark.parametrize("version", ["1.30", "1.37"])
def test_valid_deployment_passes_strict(version):
    result = validate(version, [MANIFESTS / "deployment-valid.yaml"])
    assert result.resources == 1
    assert result.invalid == ()


@pytest.mark.parametrize("version", ["1.30", "1.37"])
def test_misspelled_field_is_rejected(version):
    result = validate(version, [MANIFESTS / "deployment-misspelled.yaml"])
    assert len(result.invalid) == 1
    finding = result.invalid[0]
    assert finding.kind == "Deployment"
    assert "replicsa" in finding.message


def test_unknown_kind_is_an_error_not_skipped(tmp_path):
    manifest = tmp_path / "widget.yaml"
    manifest.write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n")
    result = validate("1.34", [manifest])
    assert [f.status for f in result.invalid] == ["statusError"]
    assert "could not find schema" in result.invalid[0].message


def test_listed_kind_is_skipped(tmp_path):
    manifest = tmp_path / "widget.yaml"
    manifest.write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w\n")
    assert validate("1.34", [manifest], skip_kinds=["Widget"]).invalid == ()


@pytest.mark.parametrize("version", ["1.30", "1.37"])
def test_crd_schemas_are_strict(tmp_path, version):
    route = tmp_path / "route.yaml"
    route.write_text(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: r\n"
        "spec:\n  parentRefs: [{name: gw}]\n  rules:\n    - backendRefs: [{name: svc, port: 80}]\n"
    )
    assert validate(version, [route]).invalid == ()
    route.write_text(route.read_text().replace("parentRefs", "parentRef"))
    findings = validate(version, [route]).invalid
    assert len(findings) == 1 and "parentRef" in findings[0].message
