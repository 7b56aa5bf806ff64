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


def test_the_catalog_knows_the_crds_charts_create_most(tmp_path):
    """cert-manager, KEDA, Argo Rollouts, External Secrets, Istio and Traefik resources are validated against their
    pinned CRDs (not "could not find schema"), strictly: the one typo among them is the one finding."""
    manifest = FIXTURES / "manifests" / "popular-crds.yaml"
    findings = validate("1.37", [manifest]).invalid
    assert [(f.kind, f.name) for f in findings] == [("Issuer", "bad")], [f.message for f in findings]
    assert "'clas' not allowed" in findings[0].message


CRD = """apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  names: {kind: Widget, listKind: WidgetList, plural: widgets, singular: widget}
  scope: Namespaced
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec: {type: object, properties: {size: {type: string}}}
"""


@pytest.mark.parametrize("spec, code", [("size: big", 0), ("sise: big", 1)])
def test_validate_takes_the_crds_among_the_files_and_skips_what_is_no_object(tmp_path, spec, code):
    """`portico validate DIR`: a kustomization.yaml and a values.yaml are no Kubernetes objects (skipped, said);
    a CRD among the files validates its custom resources (a misspelled field is caught: the negative control)."""
    import subprocess
    import sys

    (tmp_path / "crd.yaml").write_text(CRD)
    (tmp_path / "widget.yaml").write_text(f"apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w}}\n"
                                          f"spec: {{{spec}}}\n")
    (tmp_path / "kustomization.yaml").write_text("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n"
                                                 "resources: [crd.yaml, widget.yaml]\n")
    (tmp_path / "values.yaml").write_text("replicas: 2\n")
    done = subprocess.run([sys.executable, "-m", "portico.cli", "validate", str(tmp_path), "--kube-version", "1.37"],
                          capture_output=True, text=True)
    assert done.returncode == code, done.stdout + done.stderr
    assert "skipped 2 file(s) that hold no Kubernetes object" in done.stdout
    assert "could not find schema" not in done.stdout
    if code:
        assert "sise" in done.stdout


@pytest.mark.parametrize("spec, code", [("size: big", 0), ("sise: big", 1)])
def test_render_writes_the_charts_crds_and_validate_uses_them(tmp_path, spec, code):
    """`portico render -o DIR` writes crds/ as `helm install` applies them, so `portico validate DIR` checks the
    chart's custom resources against its own CRDs (the misspelled field is the negative control)."""
    import subprocess
    import sys

    chart = tmp_path / "widgets"
    (chart / "crds").mkdir(parents=True)
    (chart / "templates").mkdir()
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: widgets\nversion: 1.0.0\n")
    (chart / "crds" / "widget.yaml").write_text(CRD)
    (chart / "templates" / "widget.yaml").write_text(
        f"apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w}}\nspec: {{{spec}}}\n")

    def portico(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "portico.cli", *args], capture_output=True, text=True)

    assert portico("render", str(chart), "-o", str(tmp_path / "out")).returncode == 0
    assert sorted((tmp_path / "out").glob("*.yaml"))[0].name.startswith("000-customresourcedefinition-")
    done = portico("validate", str(tmp_path / "out"), "--kube-version", "1.37")
    assert done.returncode == code, done.stdout + done.stderr
    assert "could not find schema" not in done.stdout
    skipped = portico("render", str(chart), "-o", str(tmp_path / "bare"), "--skip-crds")
    assert skipped.returncode == 0 and len(list((tmp_path / "bare").glob("*.yaml"))) == 1


BOUNDED_CRD = CRD.replace("spec: {type: object, properties: {size: {type: string}}}", """spec:
              type: object
              properties:
                port: {type: integer, minimum: 1, maximum: 65536, exclusiveMaximum: true}
                ratio: {type: number, minimum: 1e-05, maximum: 1}""")


@pytest.mark.parametrize("spec, code", [("port: 8080, ratio: 0.5", 0), ("port: 65536, ratio: 0.5", 1),
                                        ("port: 80, ratio: 0.000001", 1)])
def test_openapi_exclusive_bounds_and_exponent_floats_are_schema_not_a_crash(tmp_path, spec, code):
    """Contour's and envoy-gateway's CRDs (OpenAPI's boolean exclusiveMaximum) and apisix's (`minimum: 1e-05`, a
    float to Go, a string to YAML 1.1) once stopped the whole chart; the bounds are enforced (the controls)."""
    import subprocess
    import sys

    (tmp_path / "crd.yaml").write_text(BOUNDED_CRD)
    (tmp_path / "widget.yaml").write_text(f"apiVersion: example.com/v1\nkind: Widget\nmetadata: {{name: w}}\n"
                                          f"spec: {{{spec}}}\n")
    done = subprocess.run([sys.executable, "-m", "portico.cli", "validate", str(tmp_path), "--kube-version", "1.37"],
                          capture_output=True, text=True)
    assert done.returncode == code, done.stdout + done.stderr
    assert "crd-schema" not in done.stdout and "Traceback" not in done.stderr


def test_a_crd_schema_that_cannot_be_converted_checks_apiversion_and_kind_and_says_so(tmp_path):
    from portico.schemas import crd

    broken = {"apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
              "metadata": {"name": "widgets.example.com"},
              "spec": {"group": "example.com", "names": {"kind": "Widget", "plural": "widgets"},
                       "versions": [{"name": "v1", "schema": {"openAPIV3Schema": {
                           "type": "object", "properties": {"spec": {"type": "object", "minProperties": "two"}}}}}]}}
    notes: list[str] = []
    written = crd.convert_crds([broken], tmp_path, "chart", notes)
    assert [p.name for p in written] == ["widget_v1.json"] and len(notes) == 1
    assert notes[0].startswith("example.com/widget_v1: only apiVersion and kind are checked") and "minProperties" in notes[0]
    good = tmp_path / "good.yaml"
    good.write_text("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {anything: 1}\n")
    # The kind is known (no "could not find schema" false alarm); without the loose schema it would not be.
    assert validate("1.37", [good], extra_locations=[crd.location(tmp_path)]).invalid == ()
    assert validate("1.37", [good]).invalid
