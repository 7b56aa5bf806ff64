"""The GitHub Actions users copy or call: actionlint passes on every workflow, action.yml is consistent."""

from __future__ import annotations

import re

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


def test_action_reads_the_same_pins():
    text = (REPO / "action.yml").read_text()
    assert "tools/portico/data/versions.env" in text and "steps.pins.outputs.GO_VERSION" in text


def test_pre_commit_hooks_name_real_commands():
    hooks = yaml.safe_load((REPO / ".pre-commit-hooks.yaml").read_text())
    assert {h["id"] for h in hooks} >= {"portico-matrix"}
    for hook in hooks:
        assert hook["entry"].split()[0] == "portico" and hook["language"] == "python"
