"""The CLI's surface: subcommands, version, one-line errors."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_a_broken_tool_exits_3_not_1_so_ci_can_tell_it_from_a_finding(fixtures, tmp_path):
    """The same manifest as the exit-1 test above: a kubeconform that crashes is not a finding."""
    crashing = tmp_path / "kubeconform"
    crashing.write_text("#!/bin/sh\necho 'panic: runtime error: index out of range' >&2\nexit 2\n")
    crashing.chmod(0o755)
    proc = subprocess.run([sys.executable, "-m", "portico.cli", "validate", "--kube-version", "1.34",
                           str(fixtures / "manifests" / "deployment-misspelled.yaml")], capture_output=True, text=True,
                          env={**os.environ, "PORTICO_KUBECONFORM": str(crashing)})
    assert proc.returncode == 3, proc.stderr
    assert "kubeconform failed (exit 2): panic: runtime error" in proc.stderr and "Traceback" not in proc.stderr


def test_a_bug_in_portico_exits_4_with_one_line_and_the_traceback_on_request(monkeypatch, capsys):
    from portico import cli
    from portico.commands import versions

    def broken(args):
        raise KeyError("spec")

    monkeypatch.setattr(versions, "handle", broken)
    assert cli.main(["versions"]) == 4
    err = capsys.readouterr().err
    assert "internal error: KeyError: 'spec'" in err and "--verbose" in err and "Traceback" not in err
    with pytest.raises(KeyError):
        cli.main(["--verbose", "versions"])
    from portico import process

    process.set_verbose(False)


def test_exit_codes_are_distinct_and_documented():
    from portico import errors

    codes = {name: getattr(errors, name) for name in dir(errors) if name.startswith("EXIT_")}
    assert sorted(codes.values()) == [0, 1, 2, 3, 4, 130]
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    for code in ("0 clean", "1 findings", "2 usage", "3 a tool", "4 a bug", "130 interrupted"):
        assert code in " ".join(readme.split("Exit codes everywhere", 1)[1][:700].split()), code


def test_validate_clean_manifest_exit_0(fixtures):
    proc = run("validate", "--kube-version", "1.30", "--kube-version", "1.37",
               str(fixtures / "manifests" / "deployment-valid.yaml"))
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "kubernetes 1.30: 1 resources, ok" in proc.stdout


def test_every_target_form_parses_to_what_the_load_needs():
    from portico.commands.upgrade_check import _target

    web = _target("web=http://127.0.0.1:30080/x@shop.test")
    assert (web.url, web.host, web.in_cluster) == ("http://127.0.0.1:30080/x", "shop.test", False)
    api = _target("api=grpc://127.0.0.1:18080@api.test")
    assert (api.url, api.host) == ("grpc://127.0.0.1:18080", "api.test")
    # lb:// and cluster:// are resolved after the install (check.resolve_targets), so they stay as given here.
    assert _target("lb=lb://web:8080/").url == "lb://web:8080/"
    assert _target("svc=cluster://web/healthz").url == "cluster://web/healthz"


def test_kept_alive_requests_are_posts_straight_to_the_pods_and_gets_through_a_proxy():
    from portico.commands.upgrade_check import _target, keepalive_method

    assert keepalive_method("auto", _target("np=http://127.0.0.1:30002/")) == "POST"
    assert keepalive_method("auto", _target("in=http://127.0.0.1:18080/@shop.test")) == "GET"
    assert keepalive_method("POST", _target("in=http://127.0.0.1:18080/@shop.test")) == "POST"


@pytest.mark.parametrize("rate", ["0", "-5", "fast", "nan"])
def test_upgrade_check_refuses_a_rate_that_is_no_positive_number(rate, capsys):
    from portico.cli import main

    with pytest.raises(SystemExit) as exit_:
        main(["upgrade-check", str(Path(__file__).parents[1] / "charts" / "portico"), "--release", "r",
              "--namespace", "n", "--target", "np=http://127.0.0.1:30002/", "--rate", rate])
    assert exit_.value.code == 2
    assert f"--rate: expected a finite number above 0, got '{rate}'" in capsys.readouterr().err
