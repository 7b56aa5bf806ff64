"""Values as helm loads them, the wait helper, and the report writers over one result model."""

from __future__ import annotations

import json
import time
from xml.etree import ElementTree

import pytest

from portico import values, wait
from portico.errors import InputError, ToolError
from portico.reports import github, json_report, junit, markdown, sarif
from portico.results import FAILED, PASSED, WARNING_SEVERITY, Case, Finding, Report


def test_dates_stay_strings_as_helm_keeps_them(tmp_path):
    path = tmp_path / "v.yaml"
    path.write_text("releaseDate: 2024-01-01\nn: 3\non: yes\n")
    # Keys go through JSON in helm: `on:` (YAML 1.1 for true) becomes the string "true".
    assert values.load_file(path) == {"releaseDate": "2024-01-01", "n": 3, "true": True}


@pytest.mark.parametrize("text, message", [("- a\n- b\n", "must hold a mapping"), ("a: [\n", "not valid YAML")])
def test_bad_values_files_name_the_file(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(InputError, match=message) as caught:
        values.load_file(path)
    assert str(path) in str(caught.value)


def test_a_directory_is_not_a_values_file(tmp_path):
    with pytest.raises(InputError, match="is a directory"):
        values.load_file(tmp_path)


def test_merge_is_helms_f_merge():
    assert values.merge([{"a": {"b": 1, "c": 2}, "l": [1]}, {"a": {"c": 3}, "l": [2]}, {"a": {"d": None}}]) == \
        {"a": {"b": 1, "c": 3, "d": None}, "l": [2]}


def test_wait_until_returns_the_value_once_truthy():
    calls = []

    def check():
        calls.append(1)
        if len(calls) < 3:
            raise OSError("not yet")
        return "ready"

    assert wait.until(check, timeout=5, interval=0.01, what="x") == "ready"


def test_wait_until_names_what_and_the_last_error():
    started = time.monotonic()
    with pytest.raises(ToolError, match=r"service never answered after 0s: refused"):
        wait.until(lambda: (_ for _ in ()).throw(ConnectionRefusedError("refused")), timeout=0.2, interval=0.05,
                   what="service never answered")
    assert time.monotonic() - started < 2


def test_wait_retry_gives_up_after_its_attempts():
    count = []

    def flaky():
        count.append(1)
        raise ToolError("boom")

    with pytest.raises(ToolError, match="still failing after 3 attempts: boom"):
        wait.retry(flaky, attempts=3, delay=0, what="call")
    assert len(count) == 3


def test_wait_retry_raises_an_error_its_when_refuses_at_once():
    count = []

    def failing():
        count.append(1)
        raise ToolError("not found" if len(count) > 1 else "conflict")

    with pytest.raises(ToolError, match="^not found$"):
        wait.retry(failing, attempts=5, delay=0, what="call", on=(ToolError,),
                   when=lambda exc: str(exc) == "conflict")
    assert len(count) == 2


def _report() -> Report:
    finding = Finding("policy", "zero-downtime/readiness-probe", "no readinessProbe", "Deployment", "web",
                      hint="add one", combinations=("a", "b"), file="charts/x/values.yaml")
    warning = Finding("admission", "deprecation", "v1beta1 is deprecated", severity=WARNING_SEVERITY)
    return Report("matrix", "m.yaml", [Case("tls=true", FAILED, [finding]), Case("tls=false", PASSED)],
                  [finding, warning], 1.5, {"unique_renders": 2}, [("unique renders", "2")])


def test_junit_has_a_case_per_case_and_a_failure_per_finding():
    root = ElementTree.fromstring(junit.render(_report()))
    suite = root.find("testsuite")
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    failure = suite.find("testcase").find("failure")
    assert failure.get("type") == "policy:zero-downtime/readiness-probe" and "fix: add one" in failure.text


def test_json_and_markdown_carry_the_findings():
    doc = json.loads(json_report.render(_report()))
    assert doc["ok"] is False and doc["unique_renders"] == 2 and len(doc["findings"]) == 2
    text = markdown.render(_report())
    assert "❌" in text and "zero-downtime/readiness-probe" in text and "| unique renders | 2 |" in text


def test_sarif_levels_and_locations():
    doc = json.loads(sarif.render(_report()))
    results = doc["runs"][0]["results"]
    assert [r["level"] for r in results] == ["error", "warning"]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "charts/x/values.yaml"
    assert {r["id"] for r in doc["runs"][0]["tool"]["driver"]["rules"]} == {"zero-downtime/readiness-probe",
                                                                           "deprecation"}


def test_github_annotations():
    lines = github.annotations(_report())
    assert lines[0].startswith("::error file=charts/x/values.yaml,title=portico zero-downtime/readiness-probe::")
    assert lines[1].startswith("::warning title=portico deprecation::")


def test_a_warning_alone_does_not_fail_a_report():
    report = _report()
    report.cases = [Case("x")]
    report.findings = [f for f in report.findings if f.severity == WARNING_SEVERITY]
    assert report.ok
