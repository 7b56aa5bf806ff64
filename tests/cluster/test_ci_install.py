"""`portico ci --install` on a generated repository of three corpus charts, as `ct install --upgrade` (cluster marker).

A branch changes one chart; every chart is installed as it was on main, upgraded to the branch's chart with the
same ci values, tested and removed. The cluster has no registry, so each chart's ci values point it at the locally
built stock web server, as a user's CI values point a chart at its own images. The negative control: a values file
the API server refuses (a CronJob schedule that is no cron expression) fails its case, named by that file, and
only that case.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys

import pytest
import yaml

from portico.cluster import kind, lifecycle
from tests.cluster import stock_web
from tests.conftest import REPO

pytestmark = pytest.mark.cluster

CORPUS = REPO.parent / "shared" / "corpus" / "charts"
STOCK = {"repository": stock_web.REPOSITORY, "tag": stock_web.TAGS[0], "pullPolicy": "Never"}
CI_VALUES = {
    "application": yaml.safe_load((REPO / "tests" / "corpus" / "values" / "application-stock-web.yaml").read_text()),
    "onechart": {"image": STOCK, "containerPort": stock_web.PORT, "resources": {"requests": {"cpu": "10m"}},
                 "probe": {"enabled": True, "path": "/"}},
    # A CronJob: nothing to wait for, and the schedule is far off, so its image is never pulled.
    "descheduler": {"schedule": "0 0 1 1 *"},
}


def git(root, *args: str) -> None:
    subprocess.run(["git", "-C", str(root), "-c", "user.email=ci@portico.test", "-c", "user.name=ci", *args],
                   check=True, capture_output=True, text=True)


@pytest.fixture(scope="module")
def repo(tmp_path_factory):
    if not CORPUS.is_dir():
        pytest.skip(f"the chart corpus is not at {CORPUS}")
    lifecycle.up()
    stock_web.images()
    root = tmp_path_factory.mktemp("ci-install") / "repo"
    for name, values in CI_VALUES.items():
        path = root / "charts" / name
        shutil.copytree(CORPUS / name, path, ignore=shutil.ignore_patterns("ci"))
        (path / "ci").mkdir()
        (path / "ci" / "local-values.yaml").write_text(yaml.safe_dump(values))
    (root / "charts" / "descheduler" / "ci" / "broken-values.yaml").write_text(
        yaml.safe_dump({"schedule": "every minute"}))
    git(root, "init", "-q", "-b", "main")
    git(root, "add", "-A")
    git(root, "commit", "-qm", "three charts")
    # The branch changes onechart: a label on its pods, and the version bump the version rule asks for.
    git(root, "checkout", "-q", "-b", "change")
    chart_yaml = root / "charts" / "onechart" / "Chart.yaml"
    meta = yaml.safe_load(chart_yaml.read_text())
    meta["version"] = "0.74.1"
    chart_yaml.write_text(yaml.safe_dump(meta))
    values = root / "charts" / "onechart" / "ci" / "local-values.yaml"
    values.write_text(yaml.safe_dump({**CI_VALUES["onechart"], "podLabels": {"changed": "yes"}}))
    git(root, "commit", "-qam", "onechart: a pod label")
    return root


def test_ci_install_installs_upgrades_and_tests_each_case_and_names_the_one_that_fails(repo):
    report_path = repo.parent / "ci.json"
    done = subprocess.run([sys.executable, "-m", "portico.cli", "ci", str(repo), "--all", "--install",
                           "--kubeconfig", str(kind.kubeconfig_path()), "--helm-timeout", "180s", "-j", "2",
                           "-o", str(repo.parent / "out"), "--json", str(report_path)],
                          capture_output=True, text=True, timeout=1500)
    print(done.stdout[-6000:], done.stderr[-3000:])
    assert "Traceback" not in done.stderr
    assert done.returncode == 1, "the broken case fails the run"
    report = json.loads(report_path.read_text())
    cases = {c["name"]: c for c in report["cases"] if c["properties"]["step"] == "install"}
    assert set(cases) == {"application install local", "onechart install local", "descheduler install local",
                          "descheduler install broken"}
    for name in ("application install local", "onechart install local", "descheduler install local"):
        assert cases[name]["status"] == "passed", cases[name]
        assert "installed the base's chart, upgraded, helm test passed" in cases[name]["detail"]
    broken = cases["descheduler install broken"]
    assert broken["status"] == "failed" and "schedule" in broken["detail"]
    assert [f["file"] for f in broken["findings"]] == ["charts/descheduler/ci/broken-values.yaml"]
    rows = {row["chart"]: row for row in report["charts"]}
    assert rows["descheduler"]["install"] == "failed" and rows["onechart"]["install"] == "passed"
    # Nothing left behind: every case's namespace is gone or going.
    namespaces = kind.cluster().kubectl.get("namespaces")["items"]
    left = [n["metadata"]["name"] for n in namespaces if n["metadata"]["name"].startswith("portico-ci-")
            and n.get("status", {}).get("phase") != "Terminating"]
    assert not left
