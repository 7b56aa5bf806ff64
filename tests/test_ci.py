"""`portico ci` on generated chart repositories (real git, real helm, real renders): discovery, changed charts
and their dependents, dependencies from the repository, the version rule, one report; and the two public
monorepos' layouts (ct.yaml, 25 and 117 charts)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from xml.etree import ElementTree

import pytest
import yaml

from portico.repo import config as config_mod
from portico.repo import discover
from portico.repo.deps import satisfies
from tests.conftest import FIXTURES, REPO

MONOREPOS = REPO.parent / "shared" / "monorepos"
TINY = FIXTURES / "charts" / "tiny"


def git(root: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(root), "-c", "user.email=ci@portico.test", "-c", "user.name=ci", *args],
                          check=True, capture_output=True, text=True).stdout


def chart(root: Path, name: str, version: str = "1.0.0", deps: list[dict] | None = None, library: bool = False):
    path = root / "charts" / name
    if library:
        (path / "templates").mkdir(parents=True)
        (path / "templates" / "_helpers.tpl").write_text('{{- define "lib.name" -}}lib{{- end -}}\n')
    else:
        shutil.copytree(TINY, path)
    meta = {"apiVersion": "v2", "name": name, "version": version, "type": "library" if library else "application"}
    if deps:
        meta["dependencies"] = deps
    (path / "Chart.yaml").write_text(yaml.safe_dump(meta))
    return path


@pytest.fixture
def repo(tmp_path):
    root = tmp_path / "repo"
    chart(root, "lib", library=True)
    chart(root, "web", deps=[{"name": "lib", "version": "1.x.x", "repository": "oci://registry.invalid/charts"}])
    chart(root, "api")
    chart(root, "orphan", deps=[{"name": "gone", "version": "2.0.0", "repository": "https://charts.invalid"}])
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "four charts")
    return root


def ci(root: Path, *args: str):
    out = root.parent / "report.json"
    done = subprocess.run([sys.executable, "-m", "portico.cli", "ci", str(root), "-o", str(root.parent / "out"),
                           "--json", str(out), "--junit", str(root.parent / "report.xml"), *args],
                          capture_output=True, text=True, timeout=600)
    assert "Traceback" not in done.stderr, done.stderr
    report = json.loads(out.read_text()) if out.exists() else None
    if out.exists():
        out.unlink()
    return done, report


def rows(report) -> dict[str, dict]:
    return {row["chart"]: row for row in report["charts"]}


def test_all_runs_every_chart_and_skips_one_whose_dependency_is_nowhere(repo):
    done, report = ci(repo, "--all")
    assert done.returncode == 1, done.stderr
    got = rows(report)
    assert set(got) == {"lib", "web", "api", "orphan"}
    assert got["api"]["matrix"] == "passed" and got["web"]["matrix"] == "passed"
    assert got["lib"]["matrix"] == "-", "a library chart is linted, not rendered"
    assert got["orphan"]["dependencies"] == "error"
    missing = [f for f in report["findings"] if f["rule"] == "dependency-missing"]
    assert len(missing) == 1 and "gone 2.0.0 from https://charts.invalid" in missing[0]["message"]
    assert missing[0]["file"] == "charts/orphan/Chart.yaml"
    # findings of a chart rendered from a copy (its dependencies filled) name the repository's files
    assert all(f["file"].startswith("charts/") for f in report["findings"]), report["findings"]
    web_deps = next(c for c in report["cases"] if c["name"] == "web dependencies")
    assert web_deps["detail"] == "lib 1.0.0 from charts/lib"
    # lib comes before web, which depends on it
    order = [row["chart"] for row in report["charts"]]
    assert order.index("lib") < order.index("web")
    suites = ElementTree.parse(repo.parent / "report.xml").getroot().findall("testsuite")
    assert {s.get("name") for s in suites} == {f"portico-ci.charts/{n}" for n in got}


def test_one_chart_under_two_aliases_is_one_package_and_one_finding(tmp_path):
    """grafana-sampling uses alloy twice (alloy-deployment, alloy-statefulset): helm dependency build leaves one
    package, and a missing one is one problem, not two."""
    root = tmp_path / "repo"
    chart(root, "api")
    twice = [{"name": "api", "version": v, "repository": "file://../api", "alias": a}
             for a, v in (("one", "1.0.0"), ("two", "1.0.0"), ("three", ">=1.0.0"))]
    chart(root, "pair", deps=twice)
    gone = [{"name": "gone", "version": "1.0.0", "repository": "https://charts.invalid", "alias": a}
            for a in ("first", "second")]
    chart(root, "orphan", deps=gone)
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "aliases")
    done, report = ci(root, "--all")
    got = rows(report)
    assert got["pair"]["dependencies"] == "passed" and got["pair"]["matrix"] == "passed", done.stderr
    missing = [f["message"] for f in report["findings"] if f["rule"] == "dependency-missing"]
    assert len(missing) == 1 and "gone 1.0.0 (as first, second)" in missing[0]


def test_since_takes_the_changed_chart_and_its_dependents_only(repo):
    (repo / "charts" / "lib" / "templates" / "_helpers.tpl").write_text('{{- define "lib.name" -}}lib2{{- end -}}\n')
    meta = yaml.safe_load((repo / "charts" / "lib" / "Chart.yaml").read_text())
    (repo / "charts" / "lib" / "Chart.yaml").write_text(yaml.safe_dump({**meta, "version": "1.1.0"}))
    git(repo, "commit", "-qam", "lib 1.1.0")
    done, report = ci(repo, "--since", "HEAD~1")
    assert done.returncode == 0, done.stdout + done.stderr
    got = rows(report)
    assert set(got) == {"lib", "web"}, "unchanged charts are not in the report at all"
    assert got["lib"]["reason"] == "changed: Chart.yaml, templates/_helpers.tpl"
    assert got["web"]["reason"] == "depends on changed chart lib (charts/lib)"
    assert got["lib"]["version"] == "passed"


def test_a_change_without_a_version_bump_fails_naming_the_chart_and_rule(repo):
    (repo / "charts" / "api" / "values.yaml").write_text((TINY / "values.yaml").read_text() + "extra: 1\n")
    git(repo, "commit", "-qam", "api changed, same version")
    done, report = ci(repo, "--since", "HEAD~1")
    assert done.returncode == 1
    assert set(rows(report)) == {"api"}
    bump = [f for f in report["findings"] if f["rule"] == "version-increment"]
    assert bump and bump[0]["file"] == "charts/api/Chart.yaml" and "still 1.0.0" in bump[0]["message"]
    # the negative control: nothing changed since HEAD, nothing runs, exit 0
    done, report = ci(repo, "--since", "HEAD")
    assert done.returncode == 0 and report["charts"] == []


def test_the_default_base_is_the_target_branch(repo):
    git(repo, "checkout", "-qb", "feature")
    (repo / "charts" / "api" / "values.yaml").write_text((TINY / "values.yaml").read_text() + "extra: 1\n")
    git(repo, "commit", "-qam", "on a branch")
    done, report = ci(repo)
    assert set(rows(report)) == {"api"}, done.stderr
    assert "changed since main" in report["selection"]


def test_ct_config_chart_dirs_and_exclusions(repo):
    (repo / "ct.yaml").write_text("chart-dirs: [charts]\nexcluded-charts: [orphan]\nlint-conf: lintconf.yaml\n"
                                  "check-version-increment: false\n")
    done, report = ci(repo, "--all")
    assert done.returncode == 0, done.stderr
    assert set(rows(report)) == {"lib", "web", "api"}
    assert "read but not used here: lint-conf" in done.stderr
    assert rows(report)["api"]["version"] == "skipped"


@pytest.mark.parametrize("args, flag", [(["--charts", "nope"], "--charts"), (["--since", "no-such-ref"], "--since"),
                                        (["--dependency-dir", "/does/not/exist", "--all"], "--dependency-dir"),
                                        (["--jobs", "-1", "--all"], "--jobs"),
                                        (["--all", "--no-upgrade"], "--no-upgrade"),
                                        (["--all", "--install", "--helm-timeout", "soon"], "--helm-timeout"),
                                        (["--all", "--install", "--helm-timeout", "300"], "--helm-timeout"),
                                        (["--all", "--install", "--kubeconfig", "/does/not/exist"], "--kubeconfig")])
def test_bad_flags_exit_2_naming_the_flag(repo, args, flag):
    done, report = ci(repo, *args)
    assert done.returncode == 2 and flag in done.stderr and report is None


def test_the_ct_configs_helm_args_go_to_installs_set_args_last(tmp_path):
    (tmp_path / "ct.yaml").write_text("helm-extra-args: --timeout 600s\nhelm-extra-set-args: --set=a=1 --set b=2\n")
    config = config_mod.load(tmp_path / "ct.yaml")
    assert config.helm_extra_args == ("--timeout", "600s", "--set=a=1", "--set", "b=2")


def test_install_cases_follow_ct_values_files_else_the_defaults(tmp_path):
    from portico.repo.install import cases

    assert cases(tmp_path) == [("defaults", None)]
    (tmp_path / "ci").mkdir()
    for name in ("b-values.yaml", "a-values.yaml", "notes.yaml"):
        (tmp_path / "ci" / name).write_text("{}")
    assert [name for name, _ in cases(tmp_path)] == ["a", "b"]


def test_a_ct_config_with_an_unknown_key_is_an_input_error(repo):
    (repo / "ct.yaml").write_text("chart-dirs: [charts]\nchart-dir: [typo]\n")
    done, _ = ci(repo, "--all")
    assert done.returncode == 2 and "ct.yaml" in done.stderr and "'chart-dir'" in done.stderr


def test_outside_git_since_is_refused_and_all_runs(tmp_path):
    chart(tmp_path / "plain", "api")
    done, _ = ci(tmp_path / "plain")
    assert done.returncode == 2 and "not in a git repository" in done.stderr
    done, report = ci(tmp_path / "plain", "--all")
    assert done.returncode == 0 and rows(report)["api"]["version"] == "skipped"


def test_the_public_monorepos_layouts():
    grafana = MONOREPOS / "grafana-helm-charts"
    cfg = config_mod.load(config_mod.find(grafana, None))
    assert cfg.chart_dirs == ("charts",) and cfg.target_branch == "main" and not cfg.validate_maintainers
    assert cfg.exclude_deprecated and "bitnami" in cfg.chart_repos
    # 25 directories, 14 with a Chart.yaml (the others hold a README where a chart moved away), 10 deprecated
    every = discover.discover(grafana, config_mod.CiConfig(chart_dirs=("charts",)))
    assert len(every) == 14 and sum(c.deprecated for c in every) == 10
    assert {c.name for c in discover.discover(grafana, cfg)} == {c.name for c in every if not c.deprecated}
    bitnami = discover.discover(MONOREPOS / "bitnami-charts", config_mod.CiConfig())
    assert len(bitnami) == 117 and all(c.rel.startswith("bitnami/") for c in bitnami)


@pytest.mark.parametrize("version, constraint, ok", [
    ("2.31.10", "2.x.x", True), ("23.0.1", "22.x.x", False), ("1.4.0", ">=1.0.0, <2.0.0", True),
    ("2.0.0", ">=1.0.0, <2.0.0", False), ("1.2.9", "~1.2.3", True), ("1.0.0", "", True), ("1.0.0", "bogus", False)])
def test_version_constraints_as_helm_reads_them(version, constraint, ok):
    assert satisfies(version, constraint) is ok


def test_shards_split_the_charts(repo):
    seen = []
    for index in (1, 2):
        done, report = ci(repo, "--all", "--shard", f"{index}/2")
        assert done.returncode in (0, 1) and f"shard {index}/2" in report["selection"]
        seen += [row["chart"] for row in report["charts"]]
    assert sorted(seen) == ["api", "lib", "orphan", "web"]


def test_merge_reports_joins_the_shards(repo):
    for index in (1, 2):
        done = subprocess.run([sys.executable, "-m", "portico.cli", "ci", str(repo), "--all", "--shard", f"{index}/2",
                               "-o", str(repo.parent / "out"), "--json", str(repo.parent / f"s{index}.json")],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode in (0, 1), done.stderr
    merged = repo.parent / "merged.json"
    done = subprocess.run([sys.executable, "-m", "portico.cli", "merge-reports", str(repo.parent / "s1.json"),
                           str(repo.parent / "s2.json"), "--json", str(merged)], capture_output=True, text=True)
    assert done.returncode == 1, done.stderr  # the orphan chart's missing dependency
    report = json.loads(merged.read_text())
    assert sorted(row["chart"] for row in report["charts"]) == ["api", "lib", "orphan", "web"]
    assert report["charts_failed"] == 1 and any(f["rule"] == "dependency-missing" for f in report["findings"])
