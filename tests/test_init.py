"""`portico init` keeps the switches that change what the chart renders, says what it left out and why, and
takes chart-testing's ci/*-values.yaml as cases."""

from __future__ import annotations

import subprocess
import sys

import yaml

VALUES = """\
extra:
  enabled: false     # adds a ConfigMap: kept
quiet:
  enabled: false     # read by nothing: left out, no effect
strict:
  enabled: false     # the chart refuses it alone: left out, with the chart's reason
diagnosticMode:
  enabled: false     # bitnami's debugging switch (probes off, a sleep for a command): left out, though it has effect
"""
TEMPLATE = """\
apiVersion: v1
kind: Service
metadata: {name: web}
spec: {ports: [{port: 80}]}
{{- if .Values.extra.enabled }}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: extra}
{{- end }}
{{- if .Values.strict.enabled }}{{ fail "strict needs a key" }}{{ end }}
{{- if .Values.diagnosticMode.enabled }}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: debug-tools}
{{- end }}
"""


def _chart(root, *, ct_cases: bool):
    chart = root / "web"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: web\nversion: 1.0.0\n")
    (chart / "values.yaml").write_text(VALUES)
    (chart / "templates" / "all.yaml").write_text(TEMPLATE)
    if ct_cases:
        (chart / "ci").mkdir()
        (chart / "ci" / "big-values.yaml").write_text("extra: {enabled: true}\n")
    return chart


def _init(chart, out):
    return subprocess.run([sys.executable, "-m", "portico.cli", "init", str(chart), "-o", str(out)],
                          capture_output=True, text=True)


def test_init_keeps_switches_by_their_effect_and_says_why_it_left_the_others(tmp_path):
    chart = _chart(tmp_path, ct_cases=False)
    done = _init(chart, tmp_path / "m.yaml")
    assert done.returncode == 0, done.stderr
    text = (tmp_path / "m.yaml").read_text()
    doc = yaml.safe_load(text)
    assert [axis["path"] for axis in doc["axes"].values()] == ["extra.enabled"]
    assert "quiet.enabled: changes no rendered object" in text
    assert "strict.enabled: the chart refuses it alone" in text and "strict needs a key" in text
    assert "diagnosticMode.enabled: a debugging switch" in text
    assert "environments" not in doc
    run = subprocess.run([sys.executable, "-m", "portico.cli", "matrix", str(tmp_path / "m.yaml"), "-o",
                          str(tmp_path / "out"), "--no-progress"], capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr


def test_init_takes_cts_values_files_as_cases(tmp_path):
    chart = _chart(tmp_path, ct_cases=True)
    out = tmp_path / "elsewhere" / "m.yaml"
    out.parent.mkdir()
    assert _init(chart, out).returncode == 0
    doc = yaml.safe_load(out.read_text())
    assert doc["environments"] == {"defaults": [], "big": ["../web/ci/big-values.yaml"]}
    assert "ct's 1 ci/*-values.yaml cases" in out.read_text()
