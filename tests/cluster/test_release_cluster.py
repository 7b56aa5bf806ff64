"""Users' path, for real: the chart released by `portico release` into a local OCI registry, then
`helm install` and `helm upgrade` from oci://127.0.0.1:PORT/... with --verify on the kind cluster; a tampered
package is refused and nothing is installed (cluster marker)."""

from __future__ import annotations

import json
import sys

import pytest
import yaml

from portico.cluster import kind, lifecycle
from portico.process import CommandError, default_runner
from portico.registry import LocalRegistry
from tests.cluster.test_cluster import APP
from tests.conftest import CHART
from tests.release_helpers import chart_copy, make_key, tamper

pytestmark = pytest.mark.cluster

VERSION = yaml.safe_load((CHART / "Chart.yaml").read_text())["version"]
NEXT = "99.0.0"  # the next release, built from the same chart with a higher version
RELEASE = "from-oci"


def release(chart, registry, key, dist):
    done = default_runner().run([sys.executable, "-m", "portico.cli", "release", str(chart), "--registry",
                                 registry.oci(), "--plain-http", "--sign-key", key.name, "--keyring",
                                 str(key.secring), "--skip-matrix", "-o", str(dist)], check=False, timeout=300)
    assert done.returncode == 0, f"{done.stdout}{done.stderr}"
    return dist / f"{chart.name}-{yaml.safe_load((chart / 'Chart.yaml').read_text())['version']}.tgz"


@pytest.fixture(scope="module")
def published(tmp_path_factory):
    lifecycle.up()
    tmp = tmp_path_factory.mktemp("release")
    key = make_key(tmp / "gnupg", "portico-cluster-test")
    # Helm 4 keeps pulled charts and their .prov files in a content cache keyed by the chart's digest: the same
    # chart signed by an earlier run's key (an unchanged checkout packages the same bytes) would be verified with
    # that run's signature, "signature made by unknown entity". Each run pulls into a cache of its own.
    with pytest.MonkeyPatch.context() as env, LocalRegistry() as registry:
        env.setenv("HELM_CONTENT_CACHE", str(tmp / "helm-content"))
        first = release(CHART, registry, key, tmp / "dist")
        release(chart_copy(tmp, NEXT), registry, key, tmp / "dist")
        yield registry, key, first, tmp


def test_install_and_upgrade_from_the_registry_with_verification(published, tmp_path):
    registry, key, _, _ = published
    cluster = kind.cluster()
    values = tmp_path / "app.yaml"
    values.write_text(yaml.safe_dump(APP))
    ns = "release-oci"
    common = ["--verify", "--keyring", str(key.pubring), "--plain-http", "--namespace", ns, "-f", str(values),
              "--wait", "--timeout", "180s"]
    try:
        cluster.helm.run("upgrade", "--install", "--create-namespace", RELEASE, f"{registry.oci()}/portico",
                         "--version", VERSION, *common)
        cluster.helm.run("upgrade", RELEASE, f"{registry.oci()}/portico", "--version", NEXT, *common)
        history = json.loads(str(cluster.helm.run("history", RELEASE, "--namespace", ns, "-o", "json").stdout))
        assert [(h["chart"], h["status"]) for h in history] == [(f"portico-{VERSION}", "superseded"),
                                                                (f"portico-{NEXT}", "deployed")]
        pods = cluster.kubectl.get("pods", "-l", f"app.kubernetes.io/instance={RELEASE}", namespace=ns)
        assert pods["items"] and all(p["status"]["phase"] == "Running" for p in pods["items"])
    finally:
        cluster.helm.run("uninstall", RELEASE, "--namespace", ns, check=False)
        cluster.kubectl.delete_namespace(ns)


def test_a_tampered_package_is_not_installed(published, tmp_path):
    registry, key, first, _ = published
    cluster = kind.cluster()
    bad = tamper(first, tmp_path)
    cluster.helm.push(bad, registry.oci("tampered"), plain_http=True)
    ns = "release-tampered"
    with pytest.raises(CommandError, match="sha256 sum does not match"):
        cluster.helm.run("install", RELEASE, f"{registry.oci('tampered')}/portico", "--version", VERSION,
                         "--verify", "--keyring", str(key.pubring), "--plain-http", "--namespace", ns,
                         "--create-namespace")
    listed = json.loads(str(cluster.helm.run("list", "--all-namespaces", "-o", "json").stdout))
    assert not [r for r in listed if r["namespace"] == ns]
    cluster.kubectl.delete_namespace(ns)
