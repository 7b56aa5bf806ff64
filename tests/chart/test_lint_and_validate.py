"""helm lint --strict, ct lint, and kubeconform strict for Kubernetes 1.30-1.37 on every values file."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from portico import manifests, schemas
from portico.process import default_runner
from portico.toolchain.locate import tool_path, tools_env
from portico.schemas import kubernetes_versions
from tests.chart.render import helm_template, render
from tests.conftest import CHART, REPO

VALUES_FILES = sorted([*CHART.glob("examples/*.yaml"), *CHART.glob("environments/*.yaml"), *CHART.glob("ci/*-values.yaml")])
IDS = [str(p.relative_to(CHART)) for p in VALUES_FILES]


@pytest.mark.parametrize("values_file", [None, *VALUES_FILES], ids=["defaults", *IDS])
def test_helm_lint_strict(values_file):
    cmd = [tool_path("helm"), "lint", "--strict", str(CHART)]
    if values_file:
        cmd += ["-f", str(values_file)]
    proc = default_runner().run(cmd, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "0 chart(s) failed" in proc.stdout


def test_ct_lint():
    proc = default_runner().run([tool_path("ct"), "lint", "--config", "ci/ct.yaml", "--charts", "charts/portico"],
                                cwd=REPO, check=False, env=tools_env())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "All charts linted successfully" in proc.stdout + proc.stderr


# Every kind the chart can render, so CRD schemas (Gateway API, Route, ServiceMonitor) are exercised too.
EVERY_KIND = {
    "expose": {"via": ["ingress", "httpRoute", "route"], "tls": {"enabled": True, "clusterIssuer": "ca"}},
    "httpRoute": {"rules": [{"matches": [{"headers": [{"name": "x-canary", "value": "1"}]}],
                             "backendRefs": [{"weight": 90}, {"name": "canary", "namespace": "other", "port": 80,
                                                              "weight": 10}]}]},
    "grpcRoute": {"enabled": True}, "tlsRoute": {"enabled": True, "hostnames": ["tls.example.com"]},
    "tcpRoute": {"enabled": True}, "udpRoute": {"enabled": True, "rules": [{"backendRefs": [{"port": 80}]}]},
    "autoscaling": {"enabled": True},
    "serviceMonitor": {"enabled": True}, "networkPolicy": {"enabled": True, "egress": {"enabled": True}},
    "configMap": {"enabled": True, "data": {"a": "b"}, "mountPath": "/etc/app"},
    "secret": {"enabled": True, "stringData": {"p": "q"}},
    "additionalServices": {"lb": {"type": "LoadBalancer", "loadBalancerClass": "metallb"}},
}


# GRPCRoute has been v1 only since Gateway API 1.2: no older schema to check it against.
OLDER_GATEWAY_API = ("v1beta1/HTTPRoute", "v1alpha2/TLSRoute", "v1alpha2/TCPRoute",
                     "v1alpha2/UDPRoute", "v1beta1/ReferenceGrant")


@pytest.fixture(scope="module")
def rendered_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("rendered")
    for values_file, name in zip([None, *VALUES_FILES], ["defaults", *IDS]):
        out = render(files=[values_file] if values_file else [])
        manifests.write_resources(out.docs, root / name.replace("/", "__"))
    every = render(EVERY_KIND)
    assert {"Route", "HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute", "ReferenceGrant", "ServiceMonitor",
            "NetworkPolicy", "HorizontalPodAutoscaler"} <= set(every.kinds())
    manifests.write_resources(every.docs, root / "every-kind")
    # The same kinds as a cluster serving only the older Gateway API versions gets them.
    older = render(EVERY_KIND, extra=[f"--api-versions=gateway.networking.k8s.io/{v}" for v in OLDER_GATEWAY_API])
    manifests.write_resources(older.docs, root / "every-kind-older-gateway-api")
    return root


@pytest.mark.parametrize("version", kubernetes_versions())
def test_kubeconform_strict_clean(rendered_dir, version):
    result = schemas.validate(version, [rendered_dir])
    assert result.resources > 40
    assert result.invalid == (), "\n".join(f.line() for f in result.invalid)


@pytest.mark.parametrize("values_file", VALUES_FILES, ids=IDS)
def test_helm3_renders_the_same_objects(values_file):
    def objects(helm: str) -> list:
        proc = helm_template(files=[values_file], helm=helm)
        assert proc.returncode == 0, proc.stderr
        docs = [d for d in yaml.safe_load_all(proc.stdout) if d]
        return sorted((yaml.safe_dump(d, sort_keys=True) for d in docs))

    assert objects("helm3") == objects("helm")


def test_chart_readme_is_generated_and_explains_every_value(tmp_path):
    readme = (CHART / "README.md").read_text()
    proc = default_runner().run([tool_path("helm-docs"), "--chart-search-root", str(CHART), "--dry-run"],
                                check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == readme.strip(), "charts/portico/README.md is stale: run `make docs`"
    undocumented = [line.split("|")[1].strip() for line in readme.splitlines()
                    if line.startswith("| ") and line.rstrip().endswith("|  |")]
    assert undocumented == []
