"""Releases for real: `portico release` packages, signs and pushes the chart to a real OCI registry (the CNCF
distribution registry on 127.0.0.1); helm 4 and helm 3 pull it back with --verify; a tampered package and a
wrong key are refused; a release stops before pushing when a step fails; the harness takes packaged, oci://
and repo/chart references. The install and upgrade from the registry on the cluster are in
tests/cluster/test_release_cluster.py."""

from __future__ import annotations

import functools
import http.server
import json
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

import pytest
import semver
import yaml

from portico.clients.helm import Helm
from portico.process import default_runner
from portico.registry import LocalRegistry
from tests.conftest import CHART, REPO
from tests.release_helpers import chart_copy, make_key, pull, tamper

VERSION = yaml.safe_load((CHART / "Chart.yaml").read_text())["version"]
NEXT_PATCH = str(semver.Version.parse(VERSION).bump_patch())


def portico(*args: str, cwd: Path = REPO, env: dict | None = None):
    return default_runner().run([sys.executable, "-m", "portico.cli", *args], cwd=cwd, check=False, timeout=600,
                                env=env)


@pytest.fixture(scope="module")
def registry():
    with LocalRegistry() as reg:
        yield reg


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    return make_key(tmp_path_factory.mktemp("gnupg"), "portico-test")


@pytest.fixture(scope="module")
def released(registry, key, tmp_path_factory) -> Path:
    """The chart released through `portico release` (matrix skipped: make check runs it)."""
    dist = tmp_path_factory.mktemp("dist")
    done = portico("release", str(CHART), "--registry", registry.oci(), "--plain-http", "--sign-key", key.name,
                   "--keyring", str(key.secring), "--verify-keyring", str(key.pubring), "--skip-matrix",
                   "-o", str(dist))
    assert done.returncode == 0, done.stdout + done.stderr
    for step in ("metadata", "version", "lint", "package", "verify", "push"):
        assert f"{step:<9} ok" in done.stdout
    return dist / f"portico-{VERSION}.tgz"


def tags(registry: LocalRegistry, repo: str) -> list[str]:
    try:
        with urllib.request.urlopen(f"http://{registry.host}/v2/{repo}/tags/list", timeout=5) as resp:
            return json.load(resp).get("tags") or []
    except urllib.error.HTTPError as exc:
        assert exc.code == 404
        return []


@pytest.mark.parametrize("helm_name", ["helm", "helm3"])
def test_pushed_chart_pulls_back_verified(released, registry, key, tmp_path, helm_name):
    assert Path(f"{released}.prov").exists()
    assert VERSION in tags(registry, "charts/portico")
    done = pull(Helm.pinned(helm_name), f"{registry.oci()}/portico", VERSION, key.pubring, tmp_path)
    assert done.ok, done.stderr
    assert "Chart Hash Verified" in f"{done.stdout}{done.stderr}"
    assert (tmp_path / f"portico-{VERSION}.tgz").read_bytes() == released.read_bytes()


@pytest.mark.parametrize("helm_name", ["helm", "helm3"])
def test_tampered_package_is_refused(released, registry, key, tmp_path, helm_name):
    bad = tamper(released, tmp_path)
    Helm.pinned().push(bad, registry.oci("tampered"), plain_http=True)
    done = pull(Helm.pinned(helm_name), f"{registry.oci('tampered')}/portico", VERSION, key.pubring, tmp_path / "p")
    assert not done.ok
    assert "sha256 sum does not match" in str(done.stderr)
    # The harness refuses it too, before rendering anything.
    cli = portico("render", f"{registry.oci('tampered')}/portico@{VERSION}", "--plain-http", "--verify",
                  "--keyring", str(key.pubring))
    assert cli.returncode == 2 and "sha256 sum does not match" in cli.stderr and not cli.stdout


def test_another_key_is_refused(released, registry, tmp_path):
    stranger = make_key(tmp_path / "gnupg", "stranger")
    done = pull(Helm.pinned(), f"{registry.oci()}/portico", VERSION, stranger.pubring, tmp_path / "p")
    assert not done.ok and "signature made by unknown entity" in str(done.stderr)


def test_the_published_armored_key_verifies_nothing_it_did_not_sign(released, tmp_path):
    # signing-key.asc is the project's release key: a package signed by the test key must not pass with it.
    dearmored = tmp_path / "portico.gpg"
    subprocess.run(["gpg", "--batch", "--yes", "--dearmor", "-o", str(dearmored), str(REPO / "signing-key.asc")],
                   check=True, capture_output=True, env={"GNUPGHOME": str(tmp_path)})
    done = default_runner().run([Helm.pinned().binary, "verify", str(released), "--keyring", str(dearmored)],
                                check=False)
    assert not done.ok and "signature made by unknown entity" in str(done.stderr)


def test_release_stops_before_pushing_when_a_step_fails(registry, key, tmp_path):
    chart = chart_copy(tmp_path, "0.9.0")
    (chart / "CHANGELOG.md").write_text("# Changelog\n")  # no entry for 0.9.0
    dist = tmp_path / "dist"
    done = portico("release", str(chart), "--registry", registry.oci("stopped"), "--plain-http", "--sign-key",
                   key.name, "--keyring", str(key.secring), "--skip-matrix", "-o", str(dist))
    assert done.returncode == 1
    assert "metadata  FAIL" in done.stdout and "no entry for version 0.9.0" in done.stdout
    assert tags(registry, "stopped/portico") == [] and not dist.exists()


def test_release_signs_with_cosign(registry, tmp_path):
    assert portico("setup", "cosign").returncode == 0
    from portico.clients.cosign import Cosign, image_ref

    env = {"COSIGN_PASSWORD": "test", "PATH": "/usr/bin:/bin"}
    cosign = Cosign.pinned()
    cosign.runner.run([cosign.binary, "generate-key-pair"], cwd=tmp_path, env=env, timeout=60)
    chart = chart_copy(tmp_path, "0.9.1")
    done = portico("release", str(chart), "--registry", registry.oci("cosigned"), "--plain-http", "--skip-matrix",
                   "--cosign-key", str(tmp_path / "cosign.key"), "-o", str(tmp_path / "dist"),
                   "--json", str(tmp_path / "release.json"), env={"COSIGN_PASSWORD": "test"})
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads((tmp_path / "release.json").read_text())
    ref = result["reference"]
    assert ref == image_ref(registry.oci("cosigned"), "portico", result["digest"]) and "cosign    ok" in done.stdout
    assert "verified" in cosign.verify(ref, tmp_path / "cosign.pub", http=True)
    other = tmp_path / "other"
    other.mkdir()
    cosign.runner.run([cosign.binary, "generate-key-pair"], cwd=other, env=env, timeout=60)
    with pytest.raises(Exception, match="cosign verify failed"):
        cosign.verify(ref, other / "cosign.pub", http=True)


# --- chart references in the harness ------------------------------------------------------------------------


def test_render_takes_a_package_an_oci_reference_and_a_directory_alike(released, registry, key, tmp_path):
    outputs = {}
    for name, args in {"dir": [str(CHART)], "tgz": [str(released)],
                       "oci": [f"{registry.oci()}/portico", "--chart-version", VERSION, "--plain-http", "--verify",
                               "--keyring", str(key.pubring)],
                       "oci@": [f"{registry.oci()}/portico@{VERSION}", "--plain-http"]}.items():
        done = portico("render", *args)
        assert done.returncode == 0, (name, done.stderr)
        outputs[name] = done.stdout
    assert len(set(outputs.values())) == 1 and "kind: Deployment" in outputs["dir"]


def test_matrix_runs_on_the_published_chart_and_compares_upgrades_with_it(released, registry, tmp_path):
    matrix = tmp_path / "m.yaml"
    matrix.write_text(yaml.safe_dump({
        "chart": f"{registry.oci()}/portico@{VERSION}",
        "axes": {"type": {"path": "service.type", "values": ["ClusterIP", "NodePort"]}},
        "validate": {"kubernetesVersions": ["1.34"]},
        "upgrade": {"from": f"{registry.oci()}/portico@{VERSION}"},
    }))
    done = portico("matrix", str(matrix), "-o", str(tmp_path / "out"), "--plain-http", "--no-progress",
                   "--json", str(tmp_path / "r.json"))
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["space"]["run"] == 2 and "upgrade" in report["timings"]
    # --chart with a packaged chart overrides the file's chart.
    done = portico("matrix", str(matrix), "--chart", str(released), "-o", str(tmp_path / "out2"), "--plain-http",
                   "--no-progress")
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("how", ["oci", "tgz"])
def test_init_writes_a_matrix_for_a_published_or_packaged_chart(released, registry, tmp_path, how):
    ref = f"{registry.oci()}/portico@{VERSION}" if how == "oci" else str(released)
    refused = portico("init", ref, "--plain-http")
    assert refused.returncode == 2 and "give -o FILE" in refused.stderr
    out = tmp_path / "m.yaml"
    done = portico("init", ref, "--plain-http", "-o", str(out))
    assert done.returncode == 0, done.stderr
    doc = yaml.safe_load(out.read_text())
    assert doc["chart"] == (ref if how == "oci" else str(released.resolve()))
    # The chart's ci/*-values.yaml travel inside the matrix: the pulled copy is gone once init exits.
    assert "ctValues" in doc["axes"] and "environments" not in doc
    run = portico("matrix", str(out), "-o", str(tmp_path / "o"), "--plain-http", "--no-progress",
                  "--kube-version", "1.34")
    assert run.returncode in (0, 1) and "combinations" in run.stdout, run.stderr


def test_repo_chart_references_go_through_helm_repositories(released, tmp_path):
    served = tmp_path / "repo"
    served.mkdir()
    (served / released.name).write_bytes(released.read_bytes())
    helm = Helm.pinned()
    helm.run("repo", "index", str(served))
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(served))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    env = {"HELM_REPOSITORY_CONFIG": str(tmp_path / "repositories.yaml"),
           "HELM_REPOSITORY_CACHE": str(tmp_path / "cache")}
    try:
        default_runner().run([helm.binary, "repo", "add", "local", f"http://127.0.0.1:{server.server_port}"],
                             env=env, timeout=60)
        done = portico("render", "local/portico", "--chart-version", VERSION, env=env)
        assert done.returncode == 0, done.stderr
        assert "kind: Deployment" in done.stdout
        missing = portico("render", "local/nothing", env=env)
        assert missing.returncode == 2 and "local/nothing" in missing.stderr
    finally:
        server.shutdown()


@pytest.mark.parametrize("args,expected", [
    (["render", "oci://127.0.0.1:1/charts/none@1.0.0", "--plain-http"], "helm could not pull the OCI reference"),
    (["render", "charts/portco"], "helm could not pull"),
    (["render", "./nope.tgz"], "does not exist"),
    (["release", str(CHART), "--registry", "https://example.invalid/charts"], "expected oci://HOST/PATH"),
    (["release", str(CHART), "--sign-key", "someone"], "--sign-key needs --keyring"),
    (["version-check", str(REPO / "tools")], "no Chart.yaml"),
])
def test_bad_references_and_release_flags_are_input_errors(args, expected, tmp_path):
    done = portico(*args, cwd=REPO)
    assert done.returncode == 2, done.stdout + done.stderr
    assert expected in done.stderr and "Traceback" not in done.stderr


def test_a_packaged_chart_that_is_not_one_is_an_input_error(tmp_path):
    fake = tmp_path / "chart.tgz"
    fake.write_text("not a tarball")
    done = portico("render", str(fake))
    assert done.returncode == 2 and "chart.tgz" in done.stderr and "not a packaged chart" in done.stderr


# --- the version-bump rule ------------------------------------------------------------------------------------


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@t", *args], check=True,
                          capture_output=True, text=True).stdout


def chart_repo(tmp_path: Path) -> Path:
    """A git repository holding a copy of the chart in one commit; the chart's path."""
    repo = tmp_path / "repo"
    chart = repo / "charts" / "portico"
    chart.parent.mkdir(parents=True)
    subprocess.run(["cp", "-r", str(CHART), str(chart)], check=True)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", ".")
    git(repo, "commit", "-q", "-m", "chart")
    return chart


@pytest.fixture
def released_repo(tmp_path) -> Path:
    """A git repository whose chart was released as portico-<VERSION> (tagged)."""
    chart = chart_repo(tmp_path)
    git(chart.parents[1], "tag", "-a", f"portico-{VERSION}", "-m", "release")
    return chart


def test_a_chart_change_without_a_version_bump_fails(released_repo):
    assert portico("version-check", str(released_repo)).returncode == 0
    notes = released_repo / "templates" / "NOTES.txt"
    notes.write_text(notes.read_text() + "\nThanks.\n")
    done = portico("version-check", str(released_repo))
    assert done.returncode == 1
    assert f"changed since portico-{VERSION} (templates/NOTES.txt)" in done.stdout
    assert f"its version is still {VERSION}" in done.stdout
    # release refuses at the version step too: nothing is packaged.
    rel = portico("release", str(released_repo), "--skip-matrix", "-o", str(released_repo.parent / "dist"))
    assert rel.returncode == 1 and "version   FAIL" in rel.stdout and not (released_repo.parent / "dist").exists()


def test_a_bump_with_its_changelog_entry_passes(released_repo, tmp_path):
    notes = released_repo / "templates" / "NOTES.txt"
    notes.write_text(notes.read_text() + "\nThanks.\n")
    bumped = chart_copy(tmp_path / "bumped", NEXT_PATCH, chart=released_repo)
    for name in ("Chart.yaml", "CHANGELOG.md"):
        (released_repo / name).write_text((bumped / name).read_text())
    done = portico("version-check", str(released_repo))
    assert done.returncode == 0, done.stdout
    assert f"version {NEXT_PATCH} ok (against portico-{VERSION})" in done.stdout
    # A lower version than the release is refused even with an entry.
    meta = yaml.safe_load((released_repo / "Chart.yaml").read_text())
    meta["version"] = "0.0.9"
    (released_repo / "Chart.yaml").write_text(yaml.safe_dump(meta))
    assert portico("version-check", str(released_repo)).returncode == 1


def test_this_chart_is_in_step_with_its_metadata(tmp_path):
    """The shipped chart: CHANGELOG entry, Artifact Hub annotations, the image annotation matching the default."""
    from portico import versioning

    assert versioning.metadata_problems(CHART) == []
    meta = yaml.safe_load((CHART / "Chart.yaml").read_text())
    values = yaml.safe_load((CHART / "values.yaml").read_text())
    images = yaml.safe_load(meta["annotations"]["artifacthub.io/images"])
    assert [i["image"] for i in images] == [f"docker.io/{values['image']['repository']}:{meta['appVersion']}"]
    fingerprint = yaml.safe_load(meta["annotations"]["artifacthub.io/signKey"])["fingerprint"]
    shown = subprocess.run(["gpg", "--batch", "--show-keys", "--with-colons", str(REPO / "signing-key.asc")],
                           capture_output=True, text=True, check=True, env={"GNUPGHOME": str(tmp_path)}).stdout
    assert f":{fingerprint}:" in shown


def test_metadata_problems_name_the_key(tmp_path):
    from portico import versioning

    chart = chart_copy(tmp_path, "1.0.0")
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    meta["annotations"]["artifacthub.io/changes"] = "- kind: improved\n  description: x\n"
    del meta["annotations"]["artifacthub.io/links"]
    (chart / "Chart.yaml").write_text(yaml.safe_dump(meta))
    problems = "\n".join(versioning.metadata_problems(chart))
    assert "annotations.artifacthub.io/changes[0]: expected kind (one of added" in problems
    assert "annotations.artifacthub.io/links: missing" in problems


def test_without_release_tags_the_previous_version_is_found_in_the_history(tmp_path):
    """A fresh clone has no tags: version-check and make check's upgrade comparison use the last commit with the
    chart's previous version."""
    chart = chart_repo(tmp_path)
    repo = chart.parents[1]
    # negative control: a single version in the whole history leaves nothing to compare with
    assert portico("version-check", str(chart), "--previous-ref").stdout.strip() == ""
    assert "nothing to compare with" in portico("version-check", str(chart)).stdout
    first = git(repo, "rev-parse", "HEAD").strip()
    bumped = chart_copy(tmp_path / "bumped", NEXT_PATCH, chart=chart)
    for name in ("Chart.yaml", "CHANGELOG.md"):
        (chart / name).write_text((bumped / name).read_text())
    git(repo, "commit", "-qam", "bump")
    assert portico("version-check", str(chart), "--previous-ref").stdout.strip() == first
    done = portico("version-check", str(chart))
    assert done.returncode == 0 and f"the last commit with version {VERSION}; no release tag" in done.stdout
    # a version lower than the previous one is refused
    meta = yaml.safe_load((chart / "Chart.yaml").read_text())
    (chart / "Chart.yaml").write_text(yaml.safe_dump({**meta, "version": "0.0.1"}))
    assert portico("version-check", str(chart)).returncode == 1
