"""The CLI's surface: subcommands, version, one-line errors."""

from __future__ import annotations

import subprocess
import sys

from portico import __version__


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "portico.cli", *args], capture_output=True, text=True)


def test_help_lists_every_subcommand():
    out = run("--help").stdout
    for sub in ("render", "validate", "matrix", "smoke", "upgrade-check", "cluster"):
        assert sub in out


def test_version():
    proc = run("--version")
    assert proc.returncode == 0 and proc.stdout.strip() == f"portico {__version__}"


def test_missing_chart_is_a_usage_error_without_traceback(tmp_path):
    proc = run("render", str(tmp_path / "nope"))
    assert proc.returncode == 2
    assert "does not exist" in proc.stderr and "Traceback" not in proc.stderr


def test_validate_reports_invalid_manifest_with_exit_1(fixtures):
    proc = run("validate", "--kube-version", "1.34", str(fixtures / "manifests" / "deployment-misspelled.yaml"))
    assert proc.returncode == 1
    assert "replicsa" in proc.stdout and "Traceback" not in proc.stderr


def test_validate_clean_manifest_exit_0(fixtures):
    proc = run("validate", "--kube-version", "1.30", "--kube-version", "1.37",
               str(fixtures / "manifests" / "deployment-valid.yaml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "kubernetes 1.30: 1 resources, ok" in proc.stdout
