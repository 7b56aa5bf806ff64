"""The harness on real public charts (../shared/corpus): every corpus matrix runs clean, first time, admission included.

"Clean" means: no crash, no traceback, at least 200 combinations, and every
finding either gone (a false alarm fixed in portico) or in the chart's baseline
with a reason, and no baseline entry that matches nothing. The negative controls
show each mechanism that keeps the corpus clean can still fail.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from portico.process import default_runner
from tests.conftest import CORPUS, REPO

MATRICES = sorted((REPO / "tests" / "corpus").glob("*.yaml"))
PY = [str(Path(__import__("sys").executable)), "-m", "portico.cli"]


def matrix(path: Path, out: Path, *extra: str):
    return default_runner().run([*PY, "matrix", str(path), "-o", str(out / "m"), "--no-progress", "--json",
                                 str(out / "r.json"), *extra], check=False, timeout=900)


def test_every_corpus_chart_has_a_matrix():
    charts = {p.name for p in CORPUS.iterdir() if p.is_dir()}
    assert charts and {m.stem for m in MATRICES} == charts


@pytest.mark.apiserver
@pytest.mark.parametrize("path", MATRICES, ids=lambda p: p.stem)
def test_corpus_matrix_runs_clean(path, tmp_path):
    """Schemas, policy and admission by a real API server (restricted Pod Security)."""
    done = matrix(path, tmp_path, "--admission")
    assert "Traceback" not in str(done.stderr), done.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert done.returncode == 0, "\n".join(f"{f['rule']} {f['kind']}/{f['name']}: {f['message']}"
                                           for f in report["findings"]) or done.stderr
    assert report["space"]["run"] >= 200
    assert report["stale_baseline"] == [], "baseline entries that match nothing: remove them"
    baseline = yaml.safe_load((path.parent / "baselines" / f"{path.stem}.yaml").read_text())
    assert all(e["reason"].strip() and "--write-baseline" not in e["reason"] for e in baseline["findings"])


def _copy(tmp_path: Path, name: str, **changes) -> Path:
    """A corpus matrix rewritten into tmp_path (chart and baseline paths made absolute)."""
    src = REPO / "tests" / "corpus" / f"{name}.yaml"
    doc = yaml.safe_load(src.read_text())
    doc["chart"] = str((src.parent / doc["chart"]).resolve())
    doc["values"] = [str((src.parent / v).resolve()) for v in doc.get("values", [])]
    doc.pop("baseline", None)
    doc.update(changes)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_without_the_baseline_the_known_findings_fail_the_run(tmp_path):
    done = matrix(_copy(tmp_path, "onechart"), tmp_path)
    report = json.loads((tmp_path / "r.json").read_text())
    assert done.returncode == 1 and report["problems"] >= 1
    assert "problems in" in str(done.stdout)


def test_built_in_kinds_are_answered_as_a_cluster_would(tmp_path):
    """descheduler gates its PDB on policy/v1/PodDisruptionBudget; helm template alone renders policy/v1beta1."""
    done = matrix(_copy(tmp_path, "descheduler", builtinAPIVersions=False), tmp_path)
    report = json.loads((tmp_path / "r.json").read_text())
    assert done.returncode == 1
    # one problem, one finding: the removed API version, not also its missing schema
    assert {f["rule"] for f in report["findings"] if f["kind"] == "PodDisruptionBudget"} == {"api/removed"}


def test_randomised_content_is_masked_for_dedupe(tmp_path):
    matrix(_copy(tmp_path, "grafana"), tmp_path)
    report = json.loads((tmp_path / "r.json").read_text())
    assert "Secret data.admin-password" in report["randomised"]
    assert report["unique_renders"] < report["space"]["run"] / 2


def test_a_false_property_is_a_finding(tmp_path):
    path = _copy(tmp_path, "application", expectations=[
        {"when": "gateway == 'none' and httpRoute", "error": "There is no APIGateway resource definition"},
        {"when": "ingress", "assert": "count('Ingress') == 2", "message": "two Ingresses"}])
    done = matrix(path, tmp_path)
    report = json.loads((tmp_path / "r.json").read_text())
    props = [f for f in report["findings"] if f["rule"] == "expected-property"]
    assert done.returncode == 1 and props and "two Ingresses" in props[0]["message"]
    assert dict(props[0]["trigger"]) == {"ingress": "true"}


def test_chart_crds_validate_its_custom_resources(tmp_path):
    """traefik ships CRDs in crds/: its IngressRoute (dashboard) is validated against them, and a bad field is caught."""
    path = _copy(tmp_path, "traefik", axes={
        "dashboard": {"snippets": {"ok": {"ingressRoute": {"dashboard": {"enabled": True}}},
                                   "bad": {"ingressRoute": {"dashboard": {"enabled": True, "tls": {"secretNam": "typo"}}}}}}})
    done = matrix(path, tmp_path)
    report = json.loads((tmp_path / "r.json").read_text())
    schema = [f for f in report["findings"] if f["stage"] == "schema"]
    assert done.returncode == 1 and schema and all(f["kind"] == "IngressRoute" for f in schema)
    assert {tuple(t) for f in schema for t in f["trigger"]} == {("dashboard", "bad")}


@pytest.mark.parametrize("chart", sorted(p.name for p in CORPUS.iterdir() if p.is_dir()))
def test_init_writes_a_matrix_that_runs(chart, tmp_path):
    out = tmp_path / "m.yaml"
    made = default_runner().run([*PY, "init", str(CORPUS / chart), "-o", str(out)], check=False)
    assert made.returncode == 0, made.stderr
    doc = yaml.safe_load(out.read_text())
    assert doc["axes"] and "portico init" in out.read_text()
    done = matrix(out, tmp_path)
    assert done.returncode in (0, 1), done.stderr  # findings are fine; bad input or a crash is not
    assert "Traceback" not in str(done.stderr)
    assert json.loads((tmp_path / "r.json").read_text())["space"]["run"] >= 1
