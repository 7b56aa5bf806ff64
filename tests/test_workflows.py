"""The GitHub Actions users copy or call: actionlint passes on every workflow, action.yml is consistent."""

from __future__ import annotations

import re
import subprocess

import pytest
import yaml

from portico.process import default_runner
from portico.toolchain.locate import tool_path
from tests.conftest import REPO

WORKFLOWS = sorted([*REPO.glob(".github/workflows/*.yaml"), *REPO.glob("examples/github/*.yaml")])


def test_there_are_workflows_to_lint():
    assert {p.name for p in WORKFLOWS} >= {"ci.yaml", "chart-ci.yaml", "release.yaml", "chart-release.yaml"}


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: str(p.relative_to(REPO)))
def test_actionlint_passes(workflow):
    done = default_runner().run([tool_path("actionlint"), "-no-color", str(workflow)], cwd=REPO, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path):
    """Negative control: the lint really runs."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("on: push\njobs:\n  x:\n    runs-on: ubuntu-latest\n    steps:\n"
                   "      - run: echo ${{ github.nonexistent_context_key.x }}\n        uses: actions/checkout@v4\n")
    done = default_runner().run([tool_path("actionlint"), "-no-color", str(bad)], check=False)
    assert done.returncode == 1 and "bad.yaml" in str(done.stdout)


def test_action_uses_only_inputs_it_declares():
    action = yaml.safe_load((REPO / "action.yml").read_text())
    assert action["runs"]["using"] == "composite"
    declared = set(action["inputs"])
    used = set(re.findall(r"inputs\.([a-z-]+)", (REPO / "action.yml").read_text()))
    assert used <= declared and used >= {"matrix", "chart", "shard", "kubernetes-versions", "junit", "json"}
    for step in action["runs"]["steps"]:
        assert "uses" in step or step.get("shell") == "bash", step


def _action_run(tmp_path, **inputs) -> subprocess.CompletedProcess:
    """The action's portico step as the runner executes it, with `portico` on PATH recording its arguments."""
    action = yaml.safe_load((REPO / "action.yml").read_text())
    step = next(s for s in action["runs"]["steps"] if s.get("name") == "portico")
    fake = tmp_path / "bin" / "portico"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\nprintf "%s\\n" "$@" > "$ARGS_OUT"\n')
    fake.chmod(0o755)
    defaults = {name: str(spec.get("default", "")) for name, spec in action["inputs"].items()}
    values = {**defaults, **inputs}
    env = {k: values[v] for k, v in (("MATRIX", "matrix"), ("REPOSITORY", "repository"), ("CHARTS", "charts"),
                                       ("CHART", "chart"), ("SHARD", "shard"), ("KUBE_VERSIONS", "kubernetes-versions"),
                                       ("UPGRADE_FROM", "upgrade-from"), ("OUTPUT_DIR", "output-dir"),
                                       ("JUNIT", "junit"), ("JSON", "json"), ("MARKDOWN", "markdown"),
                                       ("SARIF", "sarif"))}
    env.update(BASE_REF=values.get("base_ref", ""), ARGS_OUT=str(tmp_path / "args"),
               PATH=f"{fake.parent}:/usr/bin:/bin")
    return subprocess.run(["bash", "-e", "-c", step["run"]], env=env, capture_output=True, text=True)


@pytest.mark.parametrize("inputs, expected", [
    ({"matrix": "ci/m.yaml", "shard": "2/3"}, ["matrix", "ci/m.yaml", "--shard", "2/3"]),
    ({"repository": "."}, ["ci", ".", "--all"]),
    ({"repository": ".", "base_ref": "main"}, ["ci", ".", "--since", "origin/main"]),
    ({"repository": ".", "charts": "web,api", "shard": "1/2"}, ["ci", ".", "--charts", "web,api", "--shard", "1/2"]),
])
def test_the_action_runs_matrix_or_ci_from_its_inputs(tmp_path, inputs, expected):
    done = _action_run(tmp_path, **inputs)
    assert done.returncode == 0, done.stderr
    args = (tmp_path / "args").read_text().split("\n")
    it = iter(args)
    assert all(word in it for word in expected), args  # in this order


@pytest.mark.parametrize("inputs, says", [
    ({}, "either the matrix input or the repository input"),
    ({"matrix": "m.yaml", "repository": "."}, "either the matrix input or the repository input"),
    ({"repository": ".", "upgrade-from": "git:main"}, "the upgrade-from input is for one matrix"),
])
def test_the_action_refuses_inputs_that_cannot_work_together(tmp_path, inputs, says):
    done = _action_run(tmp_path, **inputs)
    assert done.returncode == 2 and says in done.stderr
    assert not (tmp_path / "args").exists()


def test_action_reads_the_same_pins():
    text = (REPO / "action.yml").read_text()
    assert "tools/portico/data/versions.env" in text and "steps.pins.outputs.GO_VERSION" in text


def test_pre_commit_hooks_name_real_commands():
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} >= {"portico-matrix"}
    for hook in hooks:
        assert hook["entry"].split()[0] == "portico" and hook["language"] == "python"
