"""Bad input, fed to every subcommand as a new user would: exit 2, one line naming the file and key, no traceback,
nothing half-written, nothing of the user's deleted."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml

from portico.process import default_runner
from tests.conftest import CHART, FIXTURES

TINY = FIXTURES / "charts" / "tiny"
VALID = FIXTURES / "manifests" / "deployment-valid.yaml"


def portico(*args: str, cwd: Path):
    return default_runner().run([sys.executable, "-m", "portico.cli", *args], cwd=cwd, check=False, timeout=300)


def matrix_file(tmp: Path, **doc) -> str:
    base = {"chart": str(TINY), "axes": {"bug": {"path": "bug", "values": ["none"]}},
            "validate": {"kubernetesVersions": ["1.34"]}}
    base.update(doc)
    path = tmp / "m.yaml"
    path.write_text(yaml.safe_dump(base))
    return str(path)


def write(tmp: Path, name: str, text: str) -> str:
    path = tmp / name
    path.write_text(text)
    return str(path)


def occupied(tmp: Path) -> str:
    d = tmp / "theirs"
    d.mkdir()
    (d / "notes.txt").write_text("mine")
    return str(d)


# Each case: (arguments built from a temp dir, what stderr must name).
CASES = {
    # render
    "render: missing chart": (lambda t: ["render", str(t / "nope")], ["does not exist"]),
    "render: values file missing": (lambda t: ["render", str(TINY), "-f", str(t / "v.yaml")], ["v.yaml", "does not exist"]),
    "render: values not YAML": (lambda t: ["render", str(TINY), "-f", write(t, "v.yaml", "a: [\n")], ["v.yaml"]),
    "render: --set without value": (lambda t: ["render", str(TINY), "--set", "replicas"], ["--set", "replicas"]),
    "render: values the schema refuses": (lambda t: ["render", str(CHART), "--set", "service.type=Bogus"],
                                          ["/service/type", "charts/portico"]),
    "render: template syntax error": (lambda t: ["render", _broken_chart(t)], ["broken", "parse error"]),
    "render: -o into a directory portico does not own": (lambda t: ["render", str(TINY), "-o", occupied(t)],
                                                         ["theirs", "not empty"]),
    "render: -o is a file": (lambda t: ["render", str(TINY), "-o", write(t, "f.txt", "x")], ["f.txt", "not a directory"]),
    "render: -o . in a user's directory": (lambda t: ["render", str(TINY), "-o", "."], ["not empty"]),
    "render: bad --kube-version": (lambda t: ["render", str(TINY), "--kube-version", "latest"], ["--kube-version"]),
    "render: not a chart": (lambda t: ["render", str(t)], ["Chart.yaml"]),
    # validate
    "validate: missing path": (lambda t: ["validate", str(t / "nope.yaml")], ["does not exist"]),
    "validate: empty directory": (lambda t: ["validate", _empty(t)], ["no manifests"]),
    "validate: dangling symlink": (lambda t: ["validate", _dangling(t)], ["dangling symlink"]),
    "validate: version without schemas": (lambda t: ["validate", str(VALID), "--kube-version", "1.12"],
                                          ["1.12", "available: 1.30"]),
    # matrix
    "matrix: file missing": (lambda t: ["matrix", str(t / "m.yaml")], ["does not exist"]),
    "matrix: a directory": (lambda t: ["matrix", str(t)], ["is a directory"]),
    "matrix: not YAML": (lambda t: ["matrix", write(t, "m.yaml", "axes: [\n")], ["m.yaml", "line"]),
    "matrix: not a mapping": (lambda t: ["matrix", write(t, "m.yaml", "- a\n")], ["m.yaml", "mapping"]),
    "matrix: unknown top-level key": (lambda t: ["matrix", matrix_file(t, axis={})], ["m.yaml", "axis"]),
    "matrix: axis on an unknown key": (lambda t: ["matrix", matrix_file(t, axes={"r": {"path": "replica",
                                                                                       "values": [1]}})],
                                       ["m.yaml", "axes.r.path", "did you mean 'replicas'"]),
    "matrix: boolean level label": (lambda t: ["matrix", write(t, "m.yaml", f"chart: {TINY}\naxes:\n  a:\n    "
                                                                           "snippets:\n      off: {bug: none}\n")],
                                    ["m.yaml", "axes.a.snippets", "quote it"]),
    "matrix: unknown policy rule": (lambda t: ["matrix", matrix_file(t, policy={"disable": [
        {"rule": "security/read-only", "reason": "x"}]})], ["policy.disable[0].rule", "did you mean"]),
    "matrix: unknown Kubernetes version": (lambda t: ["matrix", matrix_file(t, validate={"kubernetesVersions": ["1.12"]})],
                                           ["validate.kubernetesVersions[0]", "1.12"]),
    "matrix: expression on an unknown axis": (lambda t: ["matrix", matrix_file(t, constraints=["nope == 1"])],
                                              ["constraints[0]", "nope"]),
    "matrix: broken expression": (lambda t: ["matrix", matrix_file(t, constraints=["bug =="])], ["constraints[0]"]),
    "matrix: missing values file": (lambda t: ["matrix", matrix_file(t, values=["nope.yaml"])], ["values[0]", "nope.yaml"]),
    "matrix: bad --shard": (lambda t: ["matrix", matrix_file(t), "--shard", "3/2"], ["--shard"]),
    "matrix: -o into a directory portico does not own": (lambda t: ["matrix", matrix_file(t), "-o", occupied(t)],
                                                         ["theirs", "not empty"]),
    "matrix: baseline without reasons": (lambda t: ["matrix", matrix_file(t), "--baseline",
                                                    write(t, "b.yaml", "findings: [{rule: x}]\n")],
                                         ["b.yaml", "findings[0].reason"]),
    "matrix: --kube-version without schemas": (lambda t: ["matrix", matrix_file(t), "--kube-version", "1.12"],
                                               ["--kube-version", "1.12"]),
    "matrix: template syntax error": (lambda t: ["matrix", matrix_file(t, chart=_broken_chart(t), axes={
        "x": {"path": "x", "values": [1], "newKey": True}})], ["parse error"]),
    "matrix: values schema with a remote $ref": (lambda t: ["matrix", matrix_file(t, chart=_remote_ref_chart(t))],
                                                  ["https://example.com/common.json", "relative"]),
    "matrix: kubeconfig with an exec plugin": (lambda t: ["matrix", matrix_file(t), "--admission-kubeconfig", write(
        t, "kc.yaml", "current-context: c\ncontexts: [{name: c, context: {cluster: k, user: u}}]\n"
                      "clusters: [{name: k, cluster: {server: 'https://127.0.0.1:1'}}]\n"
                      "users: [{name: u, user: {exec: {command: aws}}}]\n")], ["kc.yaml", "users.u", "exec"]),
    "matrix: admission for a Kubernetes minor with no pinned server": (
        lambda t: ["matrix", matrix_file(t), "--admission-kube-version", "1.12"], ["--admission-kube-version", "1.12",
                                                                                 "available: 1.30"]),
    "matrix: admission.kubernetesVersions unknown": (
        lambda t: ["matrix", matrix_file(t, admission={"kubernetesVersions": ["1.29"]})],
        ["admission.kubernetesVersions[0]", "1.29"]),
    "matrix: unknown snippet key": (lambda t: ["matrix", matrix_file(t, axes={"a": {"snippets": {"one": {
        "selectorLable": "x"}}}})], ["axes.a.snippets.one", "selectorLabel"]),
    # smoke and upgrade-check (argument and file checks happen before any cluster is touched)
    "smoke: missing smoke file": (lambda t: ["smoke", str(TINY), str(t / "s.yaml")], ["does not exist"]),
    "smoke: smoke file is a directory": (lambda t: ["smoke", str(TINY), str(t)], ["is a directory"]),
    "smoke: no scenarios": (lambda t: ["smoke", str(TINY), write(t, "s.yaml", "common: {}\n")], ["s.yaml", "scenarios"]),
    "smoke: bad reach": (lambda t: ["smoke", str(TINY), write(t, "s.yaml", "scenarios: {a: {reach: teleport}}\n")],
                         ["s.yaml", "scenarios.a.reach"]),
    "upgrade-check: values file is a directory": (lambda t: ["upgrade-check", str(TINY), "--release", "r", "--namespace",
                                                             "r", "--target", "a=http://127.0.0.1:1/", "-f", str(t)],
                                                  ["is a directory"]),
    "upgrade-check: bad target": (lambda t: ["upgrade-check", str(TINY), "--release", "r", "--namespace", "r",
                                             "--target", "somewhere"], ["--target"]),
    "upgrade-check: lb target with a bad port": (lambda t: ["upgrade-check", str(TINY), "--release", "r",
                                                            "--namespace", "r", "--target", "lb=lb://web:http/"],
                                                 ["--target", "lb://SERVICE[:PORT]"]),
    "upgrade-check: grpc target with a path": (lambda t: ["upgrade-check", str(TINY), "--release", "r",
                                                          "--namespace", "r", "--target", "g=grpc://127.0.0.1:1/x"],
                                               ["--target", "grpc://ADDRESS:PORT"]),
    "upgrade-check: cluster target without a service": (lambda t: ["upgrade-check", str(TINY), "--release", "r",
                                                                   "--namespace", "r", "--target", "c=cluster:///x"],
                                                        ["--target", "cluster://SERVICE[:PORT]"]),
    "upgrade-check: bad keep-alive method": (lambda t: ["upgrade-check", str(TINY), "--release", "r", "--namespace",
                                                        "r", "--target", "a=http://127.0.0.1:1/",
                                                        "--keepalive-method", "PUT"], ["--keepalive-method"]),
    "upgrade-check: missing --release": (lambda t: ["upgrade-check", str(TINY), "--namespace", "r", "--target",
                                                    "a=http://127.0.0.1:1/"], ["--release"]),
    # init and the rest
    "init: not a chart": (lambda t: ["init", str(t)], ["Chart.yaml"]),
    "init: output exists": (lambda t: ["init", str(TINY), "-o", write(t, "m.yaml", "x")], ["m.yaml", "exists"]),
    "unknown subcommand": (lambda t: ["frobnicate"], ["invalid choice"]),
    "cluster: unknown action": (lambda t: ["cluster", "explode"], ["invalid choice"]),
    "setup: unknown tool": (lambda t: ["setup", "frob"], ["unknown tool", "frob"]),
    "setup: --skip an unknown tool": (lambda t: ["setup", "--skip", "frob"], ["--skip", "frob", "registry"]),
    # what a first report met (issue: the first report on an unseen chart)
    "matrix: --json is a directory": (lambda t: ["matrix", matrix_file(t), "-o", str(t / "o"), "--json", str(t)],
                                      ["--json", "is a directory"]),
    "matrix: --schema-location does not exist": (
        lambda t: ["matrix", matrix_file(t), "-o", str(t / "o"), "--schema-location", "/does/not/exist"],
        ["--schema-location", "/does/not/exist"]),
    "matrix: validate.schemaLocations does not exist": (
        lambda t: ["matrix", matrix_file(t, validate={"kubernetesVersions": ["1.34"], "schemaLocations": ["nope/"]}),
                   "-o", str(t / "o")], ["validate.schemaLocations[0]", "'nope/' does not exist"]),
    "matrix: a key given twice": (lambda t: ["matrix", write(t, "m.yaml", f"chart: {TINY}\naxes:\n  a: {{path: bug, "
                                                             f"values: [none]}}\naxes: {{}}\n"), "-o", str(t / "o")],
                                  ["m.yaml", "line 4", "'axes' is given twice"]),
    "upgrade-check: --rate inf": (lambda t: ["upgrade-check", str(TINY), "--release", "r", "--namespace", "n",
                                             "--target", "w=http://127.0.0.1:1/", "--rate", "inf"],
                                  ["--rate", "finite"]),
    "upgrade-check: --cycles 0": (lambda t: ["upgrade-check", str(TINY), "--release", "r", "--namespace", "n",
                                             "--target", "w=http://127.0.0.1:1/", "--cycles", "0"],
                                  ["--cycles", "from 1 to 10"]),
    "version-check: outside a git repository": (lambda t: ["version-check", _plain_chart(t)],
                                                ["not in a git repository"]),
    "ci: --charts names no chart": (lambda t: ["ci", _plain_repo(t), "--charts", "nope"], ["--charts", "'nope'"]),
    "ci: a ct.yaml key ct lacks": (lambda t: ["ci", _plain_repo(t, "chart-dir: [charts]\n"), "--all"],
                                   ["ct.yaml", "'chart-dir'"]),
}


def _broken_chart(tmp: Path) -> str:
    root = tmp / "broken"
    (root / "templates").mkdir(parents=True, exist_ok=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: broken\nversion: 0.1.0\n")
    (root / "values.yaml").write_text("x: 1\n")
    (root / "templates" / "cm.yaml").write_text("kind: ConfigMap\n{{ if .Values.x }\n")
    return str(root)


def _remote_ref_chart(tmp: Path) -> str:
    root = tmp / "remote-ref"
    (root / "templates").mkdir(parents=True, exist_ok=True)
    (root / "Chart.yaml").write_text("apiVersion: v2\nname: remote-ref\nversion: 0.1.0\n")
    (root / "values.yaml").write_text("bug: none\n")
    (root / "values.schema.json").write_text('{"properties": {"bug": {"$ref": "https://example.com/common.json"}}}')
    return str(root)


def _empty(tmp: Path) -> str:
    (tmp / "empty").mkdir()
    return str(tmp / "empty")


def _dangling(tmp: Path) -> str:
    (tmp / "d").mkdir()
    (tmp / "d" / "ok.yaml").write_text(VALID.read_text())
    (tmp / "d" / "gone.yaml").symlink_to(tmp / "nowhere.yaml")
    return str(tmp / "d")


def test_there_are_at_least_thirty_cases():
    assert len(CASES) >= 30


@pytest.mark.parametrize("case", list(CASES), ids=list(CASES))
def test_bad_input_exits_2_naming_it(case, tmp_path):
    build, expected = CASES[case]
    args = build(tmp_path)
    user_dir = tmp_path / "cwd"
    user_dir.mkdir()
    (user_dir / "keep.txt").write_text("the user's")
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    done = portico(*args, cwd=user_dir)
    stderr = str(done.stderr)
    assert done.returncode == 2, f"exit {done.returncode}\n{done.stdout}\n{stderr}"
    assert "Traceback" not in stderr + str(done.stdout)
    for text in expected:
        assert text in stderr, f"{text!r} not in: {stderr}"
    after = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    assert after == before, f"left behind: {set(after) - set(before)}; removed: {set(before) - set(after)}"


def _plain_chart(tmp: Path) -> str:
    import shutil

    shutil.copytree(TINY, tmp / "plain")
    return str(tmp / "plain")


def _plain_repo(tmp: Path, ct_yaml: str | None = None) -> str:
    import shutil

    shutil.copytree(TINY, tmp / "repo" / "charts" / "tiny")
    if ct_yaml is not None:
        (tmp / "repo" / "ct.yaml").write_text(ct_yaml)
    return str(tmp / "repo")
