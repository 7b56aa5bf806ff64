"""Selectors never change across chart versions (they are immutable on Deployments and StatefulSets).

The fixture records the selectors of chart 0.1.0 for a spread of values; every
later version must render the same ones. A release that must break this is a
major version and regenerates the fixture deliberately (see docs/chart.md).
"""

from __future__ import annotations

import pytest
import yaml

from tests.chart.render import render
from tests.conftest import FIXTURES

GOLDEN = yaml.safe_load((FIXTURES / "selectors-0.1.0.yaml").read_text())


def selectors(values: dict) -> dict:
    out = render(values, release="shop")
    found = {}
    for doc in out.docs:
        key = f"{doc['kind']}/{doc['metadata']['name']}"
        spec = doc.get("spec", {})
        if doc["kind"] in ("Deployment", "StatefulSet", "PodDisruptionBudget"):
            found[key] = spec["selector"]["matchLabels"]
        elif doc["kind"] == "Service" and "selector" in spec:
            found[key] = spec["selector"]
    return found


@pytest.mark.parametrize("case", sorted(GOLDEN), ids=sorted(GOLDEN))
def test_selectors_match_the_previous_chart_version(case):
    entry = GOLDEN[case]
    assert selectors(entry["values"]) == entry["selectors"]


def test_selectors_ignore_version_and_pod_labels():
    base = selectors({})
    changed = selectors({"podLabels": {"version": "2"}, "commonLabels": {"team": "x"}, "image": {"tag": "9.9"}})
    assert base == changed
