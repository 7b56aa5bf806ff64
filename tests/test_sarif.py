"""SARIF reports checked by Microsoft's SARIF validator (the SARIF SDK's Multitool, pinned in versions.env)
with its GitHub code scanning rules, the rules GitHub applies when it ingests a file: a report with findings of
every stage passes, and a result without a location is caught (the negative control)."""

from __future__ import annotations

import json
import os
import subprocess
import tarfile
from pathlib import Path

import pytest

from portico import reports
from portico.matrix import report as matrix_report
from portico.matrix import spec
from portico.matrix.run import run
from portico.paths import cache_dir
from portico.toolchain.pins import load_versions
from tests.conftest import FIXTURES

PACKAGE = "@microsoft/sarif-multitool-linux"


@pytest.fixture(scope="module")
def multitool() -> Path:
    """The validator, fetched once per version with npm (the package registry) into the tools cache."""
    version = load_versions()["SARIF_MULTITOOL_VERSION"]
    home = cache_dir() / "sarif-multitool" / version
    binary = home / "package" / "Sarif.Multitool"
    if not binary.exists():
        home.mkdir(parents=True, exist_ok=True)
        partial = home.with_name(f"{version}.partial-{os.getpid()}")
        partial.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(["npm", "pack", "--silent", f"{PACKAGE}@{version}", "--pack-destination", str(partial)],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr
        with tarfile.open(next(partial.glob("*.tgz"))) as tar:
            tar.extractall(partial, filter="data")
        (partial / "package" / "Sarif.Multitool").chmod(0o755)
        os.replace(partial / "package", home / "package") if not binary.exists() else None
    return binary


def validate(multitool: Path, sarif: Path) -> list[dict]:
    """The validator's errors (its own output is SARIF: results with level error)."""
    out = sarif.with_suffix(".validation.sarif")
    done = subprocess.run([str(multitool), "validate", str(sarif), "--rule-kind", "Gh;Sarif", "-o", str(out)], capture_output=True, text=True, timeout=300,
                          env={**os.environ, "DOTNET_SYSTEM_GLOBALIZATION_INVARIANT": "1"})
    assert out.exists(), done.stdout + done.stderr
    results = json.loads(out.read_text())["runs"][0].get("results", [])
    return [r for r in results if r.get("level", "warning") == "error"]


def test_a_matrix_report_with_findings_passes_githubs_rules(multitool, tmp_path):
    path = tmp_path / "matrix.yaml"
    path.write_text(json.dumps({"chart": str(FIXTURES / "charts" / "tiny"), "axes": {"bug": {"path": "bug", "values": [
        "none", "invalid-field", "no-readiness", "unknown-kind", "backend-no-port"]}},
        "validate": {"kubernetesVersions": ["1.37"]}}))
    result = run(spec.load(path), tmp_path / "out")
    report = matrix_report.to_report(result)
    assert {f.stage for f in report.findings} >= {"schema", "policy"}
    reports.write(report, sarif=tmp_path / "r.sarif")
    doc = json.loads((tmp_path / "r.sarif").read_text())
    assert all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in doc["runs"][0]["results"])
    templated = [r for r in doc["runs"][0]["results"] if r["properties"]["object"]]
    assert templated and all(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"].endswith(
        "tiny/templates/all.yaml") and r["locations"][0]["physicalLocation"]["region"]["startLine"] > 0
        for r in templated)
    assert validate(multitool, tmp_path / "r.sarif") == []


def test_the_validator_catches_a_result_without_a_location(multitool, tmp_path):
    bad = {"$schema": "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json",
           "version": "2.1.0", "runs": [{"tool": {"driver": {"name": "t", "version": "1", "informationUri":
                                                             "https://example.org", "rules": [{"id": "a"}]}},
                                         "results": [{"ruleId": "a", "message": {"text": "m"}}]}]}
    (tmp_path / "bad.sarif").write_text(json.dumps(bad))
    errors = validate(multitool, tmp_path / "bad.sarif")
    assert any("locations" in json.dumps(e) for e in errors)
