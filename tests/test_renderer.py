"""portico-render gives what `helm template` gives: same objects, same errors, in any order."""

from __future__ import annotations

import pytest
import yaml

from portico.renderer import HelmLoopRenderer, InProcessRenderer, RenderJob
from tests.conftest import CHART

CASES = [
    ("nodeport-1.30", [{"service": {"type": "NodePort"}}], "1.30"),
    ("nodeport-1.37", [{"service": {"type": "NodePort"}}], "1.37"),
    ("layers-merge", [{"service": {"type": "NodePort", "annotations": {"a": "1"}}},
                      {"service": {"annotations": {"b": "2"}}}, {"replicaCount": 4}], "1.34"),
    ("null-unsets", [{"resources": None}], "1.34"),
    ("schema-error", [{"service": {"type": "Bogus"}, "zzz": 1}], "1.34"),
    ("schema-error-other-version", [{"service": {"type": "Bogus"}, "zzz": 1}], "1.29"),
    ("template-fail", [{"terminationGracePeriodSeconds": 5}], "1.34"),
    ("template-fail-old-k8s", [{"terminationGracePeriodSeconds": 5}], "1.29"),
    ("too-old-k8s", [{"service": {"type": "NodePort"}}], "1.29"),
    ("all-exposures", [{"expose": {"via": ["ingress", "httpRoute", "route"], "tls": {"enabled": True}},
                        "autoscaling": {"enabled": True}}], "1.33"),
]


def _jobs() -> list[RenderJob]:
    return [RenderJob(id=cid, layers=layers, kube_version=kv, release="shop", namespace="apps")
            for cid, layers, kv in CASES]


def _normalise(result) -> tuple:
    if result.error:
        return ("error", result.error.strip())
    docs = [d for d in yaml.safe_load_all(result.manifest) if d]
    return ("ok", sorted(yaml.safe_dump(d, sort_keys=True) for d in docs))


@pytest.fixture(scope="module")
def helm_results():
    return {r.id: _normalise(r) for r in HelmLoopRenderer(CHART, parallel=2).render_many(_jobs())}


@pytest.mark.parametrize("workers", [1, 2])
def test_in_process_renderer_matches_helm_template(helm_results, workers):
    ours = {r.id: _normalise(r) for r in InProcessRenderer(CHART, workers=workers).render_many(_jobs() * 3)}
    assert ours.keys() == helm_results.keys()
    for cid in helm_results:
        assert ours[cid] == helm_results[cid], cid


def test_expected_error_texts(helm_results):
    assert "value must be one of 'ClusterIP'" in helm_results["schema-error"][1]
    # Schema errors come first, whatever the Kubernetes version.
    assert helm_results["schema-error-other-version"] == helm_results["schema-error"]
    assert "incompatible with Kubernetes v1.29" in helm_results["too-old-k8s"][1]
    assert "incompatible with Kubernetes v1.29" in helm_results["template-fail-old-k8s"][1]
    assert "must exceed lifecycle.preStop.seconds" in helm_results["template-fail"][1]
