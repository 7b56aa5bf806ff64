"""Portico as a user installs it: a wheel in a clean venv, used from a directory outside this checkout.

Nothing of the checkout is importable there (no PYTHONPATH, another cwd), so the
pins, the renderer's Go source and the schemas must come from the package itself.
The tools cache is shared with the checkout's (the same pinned binaries), so
`portico setup` answers "present" instead of building everything again.
"""

from __future__ import annotations

import json
import os
import sys
import venv
from pathlib import Path

import pytest
import yaml

from portico.process import Runner
from tests.conftest import CORPUS, REPO

pytestmark = pytest.mark.install


@pytest.fixture(scope="module")
def installed(tmp_path_factory) -> Path:
    """The bin dir of a fresh venv holding portico from a freshly built wheel."""
    root = tmp_path_factory.mktemp("user")
    wheels = root / "wheels"
    runner = Runner()
    runner.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "--disable-pip-version-check", "-w",
                str(wheels), str(REPO)], timeout=600)
    wheel = next(wheels.glob("portico-*.whl"))
    env_dir = root / "venv"
    venv.create(env_dir, with_pip=True)
    runner.run([env_dir / "bin" / "python", "-m", "pip", "install", "-q", "--disable-pip-version-check", "-c",
                REPO / "tools" / "requirements.lock", str(wheel)], timeout=900)
    return env_dir / "bin"


def portico(bin_dir: Path, *args: str, cwd: Path):
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = os.pathsep.join([str(bin_dir), "/usr/local/bin", "/usr/bin", "/bin", "/usr/local/go/bin"])
    return Runner().run([bin_dir / "portico", *args], cwd=cwd, env=env, check=False, timeout=900)


def test_the_wheel_carries_its_data(installed):
    done = Runner().run([installed / "python", "-c", "import portico, portico.paths as p; print(portico.__file__); "
                         "print(p.data_path('versions.env').is_file(), p.data_path('renderer', 'main.go').is_file(), "
                         "p.data_path('testapp', 'main.go').is_file())"], cwd="/")
    location, flags = str(done.stdout).splitlines()
    assert str(REPO) not in location and "site-packages" in location
    assert flags == "True True True"


def test_setup_doctor_and_every_offline_command_on_a_corpus_chart(installed, tmp_path):
    work = tmp_path / "their-repo"
    chart = work / "charts" / "node-exporter"
    chart.parent.mkdir(parents=True)
    Runner().run(["cp", "-r", str(CORPUS / "prometheus-node-exporter"), str(chart)])
    for step in (["setup"], ["doctor"], ["versions"]):
        done = portico(installed, *step, cwd=work)
        assert done.returncode == 0, f"portico {step}: {done.stdout}{done.stderr}"
    assert "HELM_VERSION=" in str(done.stdout)

    rendered = portico(installed, "render", "charts/node-exporter", "-o", "out/render", cwd=work)
    assert rendered.returncode == 0, rendered.stderr
    assert any(p.name.endswith("daemonset-node-exporter.yaml") or "daemonset" in p.name
               for p in (work / "out" / "render").iterdir())
    validated = portico(installed, "validate", "out/render", "--kube-version", "1.34", cwd=work)
    assert validated.returncode == 0, validated.stdout + validated.stderr

    matrix = work / "matrix.yaml"
    matrix.write_text(yaml.safe_dump({
        "chart": "charts/node-exporter",
        "axes": {"hostNetwork": {"path": "hostNetwork", "values": [True, False]},
                 "rbac": {"path": "rbac.create", "values": [True, False]}},
        "validate": {"kubernetesVersions": ["1.30", "1.37"]},
        "policy": {"disable": [{"rule": "security/read-only-root", "reason": "upstream default"},
                               {"rule": "zero-downtime/readiness-probe", "reason": "upstream default"},
                               {"rule": "security/restricted-pss", "reason": "a node agent"}]},
    }))
    run = portico(installed, "matrix", "matrix.yaml", "-o", "out/matrix", "--no-progress", "--json", "out/m.json",
                  "--junit", "out/m.xml", "--sarif", "out/m.sarif", cwd=work)
    assert run.returncode in (0, 1), run.stdout + run.stderr
    assert "Traceback" not in str(run.stderr)
    report = json.loads((work / "out" / "m.json").read_text())
    assert report["space"]["run"] == 4 and len(report["cases"]) == 4
    assert (work / "out" / "m.sarif").exists() and (work / "out" / "m.xml").exists()
    assert not (REPO / "out" / "m.json").exists()


def test_smoke_and_upgrade_check_start_outside_the_checkout(installed, tmp_path):
    """Their argument checks and help work from the installed package (the cluster runs are cluster tests)."""
    for cmd in (["smoke", "--help"], ["upgrade-check", "--help"], ["cluster", "--help"]):
        done = portico(installed, *cmd, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
    bad = portico(installed, "smoke", str(tmp_path / "nope"), str(tmp_path / "nope.yaml"), cwd=tmp_path)
    assert bad.returncode == 2 and "does not exist" in str(bad.stderr) and "Traceback" not in str(bad.stderr)
