"""The matrix pipeline on deliberately broken fixtures: each breakage is caught by the right stage."""

from __future__ import annotations

import json
from xml.etree import ElementTree
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from portico.matrix import spec
from portico.matrix.run import run
from tests.conftest import FIXTURES

TINY = FIXTURES / "charts" / "tiny"


def write_matrix(tmp_path: Path, **overrides) -> Path:
    doc = {"chart": str(TINY), "release": {"name": "tiny", "namespace": "apps"},
           "axes": {"bug": {"path": "bug", "values": ["none"]}},
           "validate": {"kubernetesVersions": ["1.30", "1.37"]}}
    doc.update(overrides)
    path = tmp_path / "matrix.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def run_matrix(tmp_path: Path, **overrides):
    return run(spec.load(write_matrix(tmp_path, **overrides)), tmp_path / "out")


def one_template_chart(tmp_path: Path, name: str, values: str, template: str) -> Path:
    """A chart of one template, written for a test."""
    chart = tmp_path / name
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(f"apiVersion: v2\nname: {name}\nversion: 0.1.0\n")
    (chart / "values.yaml").write_text(values)
    (chart / "templates" / "main.yaml").write_text(template)
    return chart


def stages(result) -> set[tuple[str, str]]:
    return {(f.stage, f.rule) for f in result.findings}


def test_clean_fixture_has_no_findings(tmp_path):
    result = run_matrix(tmp_path)
    assert result.findings == []
    assert result.unique_renders == 1 and result.resources == 4


def test_invalid_field_is_caught_by_kubeconform_for_each_version(tmp_path):
    result = run_matrix(tmp_path, axes={"bug": {"path": "bug", "values": ["invalid-field"]}})
    assert stages(result) == {("schema", "kubeconform")}
    # one finding naming both versions: the message names the field, not each version's schema file
    assert [f.kubernetes_version for f in result.findings] == ["1.30, 1.37"]
    assert all("replicass" in f.message and f.kind == "Deployment" for f in result.findings)


def test_unknown_kind_is_an_error_unless_listed(tmp_path):
    result = run_matrix(tmp_path, axes={"bug": {"path": "bug", "values": ["unknown-kind"]}})
    assert {f.kind for f in result.findings} == {"Widget"}
    assert all("could not find schema" in f.message for f in result.findings)
    listed = run_matrix(tmp_path, axes={"bug": {"path": "bug", "values": ["unknown-kind"]}},
                        validate={"kubernetesVersions": ["1.34"], "skipKinds": ["Widget"]})
    assert listed.findings == []


def test_ingress_backend_to_no_service_port_is_caught_by_policy(tmp_path):
    result = run_matrix(tmp_path, axes={"bug": {"path": "bug", "values": ["backend-no-port"]}})
    assert stages(result) == {("policy", "exposure/backend-port")}
    (finding,) = result.findings
    assert finding.kind == "Ingress" and "tiny:metrics names no port of Service tiny" in finding.message
    assert finding.hint


def test_missing_readiness_probe_is_caught_by_policy(tmp_path):
    result = run_matrix(tmp_path, axes={"bug": {"path": "bug", "values": ["no-readiness"]}})
    assert stages(result) == {("policy", "zero-downtime/readiness-probe")}


def test_policy_rule_can_be_disabled_with_a_reason(tmp_path):
    result = run_matrix(tmp_path, axes={"bug": {"path": "bug", "values": ["no-readiness"]}},
                        policy={"disable": [{"rule": "zero-downtime/readiness-probe", "reason": "batch job"}]})
    assert result.findings == []


def test_selector_change_between_versions_is_caught_by_upgrade_check(tmp_path):
    result = run_matrix(tmp_path, upgrade={"from": str(FIXTURES / "charts" / "tiny-v1")})
    assert ("upgrade", "upgrade/immutable-selector") in stages(result)
    finding = next(f for f in result.findings if f.rule == "upgrade/immutable-selector")
    assert finding.kind == "Deployment" and "tiny-legacy" in finding.message
    assert {f.stage for f in result.findings} == {"upgrade"}


def test_upgrade_from_a_git_ref(tmp_path):
    repo = tmp_path / "repo"
    chart = repo / "chart"
    git = ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t"]
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    subprocess.run(["cp", "-r", str(FIXTURES / "charts" / "tiny-v1"), str(chart)], check=True)
    subprocess.run([*git, "add", "."], check=True)
    subprocess.run([*git, "commit", "-qm", "v1"], check=True)
    (chart / "values.yaml").write_text((chart / "values.yaml").read_text().replace("tiny-legacy", "tiny"))
    matrix = write_matrix(tmp_path, chart=str(chart), upgrade={"from": "git:HEAD"})
    result = run(spec.load(matrix), tmp_path / "out")
    assert ("upgrade", "upgrade/immutable-selector") in stages(result)


def test_expectations_pass_on_the_right_rejection_and_fail_otherwise(tmp_path):
    chart = Path(__file__).resolve().parents[2] / "charts" / "portico"
    axes = {"grace": {"path": "terminationGracePeriodSeconds", "values": [30, 5]}}
    good = run_matrix(tmp_path, chart=str(chart), axes=axes,
                      expectations=[{"when": "grace == 5", "error": "must exceed lifecycle.preStop.seconds"}])
    assert good.findings == []
    assert [c.status for c in good.combos] == ["rendered", "rejected-as-expected"]
    wrong = run_matrix(tmp_path, chart=str(chart), axes=axes,
                       expectations=[{"when": "grace == 30", "error": "anything"}])
    assert [f.rule for f in wrong.findings] == ["expected-rejection", "render"]


def test_output_layout_and_index(tmp_path):
    result = run_matrix(tmp_path, axes={"bug": {"path": "bug", "values": ["none", "no-readiness"]},
                                        "replicas": {"path": "replicas", "values": [2, 3]}},
                        kubernetesVersions=["1.33", "1.34"])
    out = tmp_path / "out"
    index = json.loads((out / "index.json").read_text())
    assert len(index["combinations"]) == 8
    assert len(index["renders"]) == result.unique_renders == 4  # the Kubernetes version changes nothing here
    combo = index["combinations"][0]
    manifests = out / "combinations" / combo["id"] / "manifests"
    assert manifests.is_symlink() and sorted(p.name for p in manifests.iterdir())[0].startswith("000-")
    assert json.loads((out / "combinations" / combo["id"] / "values.yaml").read_text())["bug"] == "none"
    assert not (tmp_path / "out.partial").exists()


def _cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "portico.cli", *args], capture_output=True, text=True)


def test_cli_exit_codes_and_reports(tmp_path):
    clean = _cli("matrix", str(write_matrix(tmp_path)), "-o", str(tmp_path / "o1"), "--no-progress",
                 "--junit", str(tmp_path / "r.xml"), "--json", str(tmp_path / "r.json"),
                 "--markdown", str(tmp_path / "r.md"))
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert "combinations" in clean.stdout and "findings" in clean.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["ok"] is True and report["space"]["run"] == 1
    suite = ElementTree.parse(tmp_path / "r.xml").getroot().find("testsuite")
    assert (suite.get("name"), suite.get("tests"), suite.get("failures")) == ("portico-matrix", "1", "0")
    assert suite.find("testcase").get("name") == "bug=none"  # axis names, not bare levels
    # the run's time, shared by the cases (they add up to it), not 0.0
    assert abs(float(suite.find("testcase").get("time")) - report["timings"]["total"]) < 0.01 < report["timings"]["total"]
    assert "✅" in (tmp_path / "r.md").read_text()

    bad = write_matrix(tmp_path, axes={"bug": {"path": "bug", "values": ["no-readiness"]}})
    found = _cli("matrix", str(bad), "-o", str(tmp_path / "o2"), "--no-progress", "--junit", str(tmp_path / "f.xml"))
    assert found.returncode == 1
    assert "zero-downtime/readiness-probe" in found.stdout
    failures = list(ElementTree.parse(tmp_path / "f.xml").getroot().iter("failure"))
    assert any("policy:zero-downtime/readiness-probe" in (f.text or "") for f in failures)
    # one failure element per failed case, so `failures` counts failed cases
    root = ElementTree.parse(tmp_path / "f.xml").getroot()
    assert int(root.get("failures")) == len(failures) <= int(root.get("tests"))


@pytest.mark.parametrize("shard", ["1/2", "2/2"])
def test_shards_partition_the_combinations(tmp_path, shard):
    matrix = write_matrix(tmp_path, axes={"replicas": {"path": "replicas", "values": [1, 2, 3]}})
    out = _cli("matrix", str(matrix), "-o", str(tmp_path / "o"), "--no-progress", "--json", str(tmp_path / "s.json"),
               "--shard", shard)
    assert out.returncode == 0, out.stderr
    ids = [c["properties"]["levels"]["replicas"] for c in json.loads((tmp_path / "s.json").read_text())["cases"]]
    assert ids == (["1", "3"] if shard == "1/2" else ["2"])


def test_three_shards_merged_equal_one_unsharded_run(tmp_path):
    matrix = write_matrix(tmp_path, axes={"bug": {"path": "bug", "values": ["none", "no-readiness", "backend-no-port"]},
                                          "replicas": {"path": "replicas", "values": [1, 2, 3]}})
    full = _cli("matrix", str(matrix), "-o", str(tmp_path / "full"), "--no-progress", "--json", str(tmp_path / "f.json"))
    assert full.returncode == 1, full.stderr
    shards = []
    for i in (1, 2, 3):
        out = _cli("matrix", str(matrix), "-o", str(tmp_path / f"s{i}"), "--no-progress", "--shard", f"{i}/3",
                   "--json", str(tmp_path / f"s{i}.json"))
        assert out.returncode in (0, 1), out.stderr
        shards.append(str(tmp_path / f"s{i}.json"))
    merged = _cli("merge-reports", *shards, "--json", str(tmp_path / "m.json"), "--junit", str(tmp_path / "m.xml"),
                  "--markdown", str(tmp_path / "m.md"))
    assert merged.returncode == 1, merged.stderr  # the findings are still there
    one, many = (json.loads((tmp_path / n).read_text()) for n in ("f.json", "m.json"))
    assert sorted(c["name"] for c in many["cases"]) == sorted(c["name"] for c in one["cases"])
    assert {c["name"]: c["status"] for c in many["cases"]} == {c["name"]: c["status"] for c in one["cases"]}

    def problems(doc):
        return {(f["stage"], f["rule"], f["kind"], f["name"], f["message"]): sorted(f["combinations"])
                for f in doc["findings"]}

    assert problems(many) == problems(one) and problems(one)
    assert many["space"]["run"] == one["space"]["run"] == 9 and many["shards"] == 3
    suite = ElementTree.parse(tmp_path / "m.xml").getroot().find("testsuite")
    assert suite.get("tests") == "9"


def test_merge_reports_refuses_what_is_not_a_report(tmp_path):
    bad = tmp_path / "x.json"
    bad.write_text("[]")
    done = _cli("merge-reports", str(bad), "--json", str(tmp_path / "m.json"))
    assert done.returncode == 2 and "not a portico JSON report" in done.stderr and not (tmp_path / "m.json").exists()


def test_a_removed_api_version_is_one_finding_not_two(tmp_path):
    """A PDB hard-coded to policy/v1beta1: "removed in 1.25" (with the replacement), not also kubeconform's
    "could not find schema" for the same object and version. An unknown kind still gets the schema finding
    (test_unknown_kind_is_an_error_unless_listed: the negative control)."""
    chart = one_template_chart(tmp_path, "old-pdb", "minAvailable: 1\n", (
        "apiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\nspec:\n"
        "  minAvailable: {{ .Values.minAvailable }}\n  selector:\n    matchLabels: {app: web}\n"))
    result = run_matrix(tmp_path, chart=str(chart), axes={"min": {"path": "minAvailable", "values": [1]}})
    assert stages(result) == {("deprecation", "api/removed")}
    assert all(f.file.endswith("old-pdb/templates/main.yaml") and f.line == 2 for f in result.findings)


def test_kubeconform_messages_name_the_fields():
    from portico.clients.kubeconform import clean_message

    raw = ("problem validating schema. Check JSON formatting: jsonschema validation failed with "
           "'file:///x/service-v1.json#' - at '/spec': validation failed\n  - at '/spec/ports/0/port': got string, "
           "want integer\n  - at '/spec': additional properties 'protocl' not allowed")
    assert clean_message(raw) == ("spec.ports[0].port: got string, want integer; spec: additional properties "
                                  "'protocl' not allowed")
    assert clean_message("could not find schema for Widget") == "could not find schema for Widget"


def test_capabilities_answer_group_versions_every_cluster_serves(tmp_path):
    """helm template's own list lacks apiregistration.k8s.io/v1: a chart that checks it rendered v1beta1
    (removed in 1.22) and got two false errors. The matrix answers what the target version serves; with
    builtinAPIVersions: false it answers as helm template does (the negative control)."""
    chart = one_template_chart(tmp_path, "aggregated", "group: metrics.k8s.io\n", (
        '{{- if .Capabilities.APIVersions.Has "apiregistration.k8s.io/v1" }}\napiVersion: apiregistration.k8s.io/v1\n'
        "{{- else }}\napiVersion: apiregistration.k8s.io/v1beta1\n{{- end }}\nkind: APIService\nmetadata:\n"
        "  name: v1beta1.{{ .Values.group }}\nspec:\n  group: {{ .Values.group }}\n  version: v1beta1\n"
        "  groupPriorityMinimum: 100\n  versionPriority: 100\n  service: {name: api, namespace: default}\n"))
    axes = {"group": {"path": "group", "values": ["metrics.k8s.io"]}}
    assert run_matrix(tmp_path, chart=str(chart), axes=axes).findings == []
    as_helm = run_matrix(tmp_path, chart=str(chart), axes=axes, builtinAPIVersions=False)
    assert ("deprecation", "api/removed") in stages(as_helm)


class CountingRenderer:
    def __init__(self, chart):
        from portico.renderer import InProcessRenderer

        self.inner, self.batches = InProcessRenderer(chart), []

    def render_many(self, jobs):
        jobs = list(jobs)
        self.batches.append(len(jobs))
        return self.inner.render_many(jobs)


def test_renders_are_probed_twice_only_when_a_template_calls_a_random_function(tmp_path):
    plain = CountingRenderer(TINY)
    run(spec.load(write_matrix(tmp_path, axes={"replicas": {"path": "replicas", "values": [1, 2]}})),
        tmp_path / "o1", renderer=plain)
    assert plain.batches == [2], "no random function in the templates: no probe renders"
    random_chart = one_template_chart(tmp_path, "random", "replicas: 1\n", (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: s{{ .Values.replicas }}\n"
        "stringData:\n  password: {{ randAlphaNum 16 | quote }}\n"))
    probed = CountingRenderer(random_chart)
    result = run(spec.load(write_matrix(tmp_path, chart=str(random_chart),
                                        axes={"replicas": {"path": "replicas", "values": [1, 2]}})),
                 tmp_path / "o2", renderer=probed)
    assert probed.batches == [2, 2] and result.randomised == ["Secret stringData.password"]


def test_t_wise_reports_say_what_rendered_and_that_triggers_are_inferred(tmp_path):
    """Coverage counts the combinations that rendered, and a trigger from a t-wise sample says it was inferred;
    an exhaustive run says neither (the negative control)."""
    from rich.console import Console

    from portico.matrix import report

    chart = one_template_chart(tmp_path, "modes", "mode: ok\na: x\nb: x\nreplicas: 1\n", (
        '{{- if eq .Values.mode "bad" }}{{ fail "mode bad is refused" }}{{ end }}\napiVersion: apps/v1\n'
        "kind: Deployment\nmetadata:\n  name: web\n  labels: {a: {{ .Values.a }}, b: {{ .Values.b }}}\nspec:\n"
        "  replicas: {{ .Values.replicas }}\n  selector: {matchLabels: {app: web}}\n  template:\n"
        "    metadata: {labels: {app: web}}\n    spec:\n      containers: [{name: web, image: x}]\n"))
    axes = {"mode": {"path": "mode", "values": ["ok", "bad"]}, "a": {"path": "a", "values": ["x", "y"]},
            "b": {"path": "b", "values": ["x", "y"]}, "replicas": {"path": "replicas", "values": [1, 3]}}
    for strategy, said in (({"type": "t-wise", "t": 2, "seed": 1}, True), ({"type": "exhaustive"}, False)):
        result = run(spec.load(write_matrix(tmp_path, chart=str(chart), axes=axes, strategy=strategy)),
                     tmp_path / f"out-{strategy['type']}")
        console = Console(record=True, width=400)
        report.print_summary(result, console, max_findings=100)
        text = console.export_text()
        assert ("combinations that rendered" in text) is said, text
        assert ("inferred from the" in text) is said, text
        assert "whenever replicas=3" in text, text  # the PDB finding's trigger
