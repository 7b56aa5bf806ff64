"""Routes do what they say, through the real gateway (Traefik's Gateway API): a 90/10 weighted split on "/"
declared in httpRoute.rules sends about 10% of requests to the canary, although expose.hosts also asks for
"/" (the chart puts user rules first and drops the generated duplicate). Negative control: the same route
with the generated catch-all ahead of the split, as chart 0.1.0 rendered it, sends the canary nothing
(cluster marker).

Tolerance: 1,000 requests on fresh connections; the canary's share must be 10% +- 4 points (three binomial
standard deviations at n = 1,000 are 2.8 points; Traefik's weighted round robin is close to exact).
"""

from __future__ import annotations

import json
import urllib.request
from collections import Counter

import pytest

from portico import wait
from portico.cluster import addons, kind, lifecycle
from tests.cluster.test_cluster import APP, merge
from tests.conftest import CHART

pytestmark = pytest.mark.cluster

NS = "route-split"
HOST = "split.portico.test"
REQUESTS = 1000
PARENT = {"name": addons.GATEWAY_NAME, "namespace": addons.GATEWAY_NAMESPACE, "sectionName": "http"}
SPLIT = {"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
         "backendRefs": [{"name": "stable-portico", "port": 80, "weight": 90},
                         {"name": "canary-portico", "port": 80, "weight": 10}]}


def version(v: str) -> dict:
    return {"env": {"VERSION": v}}


def one(url: str) -> str:
    req = urllib.request.Request(url, headers={"Host": HOST})
    with urllib.request.urlopen(req, timeout=5) as resp:
        return json.loads(resp.read())["version"]


def shares(url: str) -> Counter:
    """REQUESTS requests (bounded: each times out after 5 s), counted by the version that answered."""
    return Counter(one(url) for _ in range(REQUESTS))


@pytest.fixture(scope="module")
def split():
    lifecycle.up()
    cluster = kind.cluster()
    try:
        cluster.install("canary", CHART, NS, [merge(APP, version("canary"))], timeout="180s")
        cluster.install("stable", CHART, NS, [merge(APP, version("stable"), {
            "expose": {"via": ["httpRoute"], "hosts": [{"host": HOST, "paths": [{"path": "/"}]}]},
            "httpRoute": {"parentRefs": [PARENT], "rules": [SPLIT]}})], timeout="180s")
        url = f"{kind.ENDPOINTS.http}/"
        # Both backends answer once the gateway has programmed the route.
        wait.until(lambda: {"stable", "canary"} <= {one(url) for _ in range(40)}, timeout=60, interval=1,
                   what="the split route never reached both versions")
        yield cluster, url
    finally:
        for release in ("stable", "canary"):
            cluster.helm.run("uninstall", release, "--namespace", NS, check=False)
        cluster.kubectl.delete_namespace(NS)


def test_a_weighted_split_gets_its_share(split):
    cluster, url = split
    counts = shares(url)
    print(f"split 90/10 over {REQUESTS} requests: {dict(counts)}")
    assert set(counts) == {"stable", "canary"}
    assert 0.06 <= counts["canary"] / REQUESTS <= 0.14, counts


def test_a_generated_catch_all_ahead_of_the_split_starves_it(split):
    """Negative control: rules in 0.1.0's order (the catch-all generated from expose.hosts first)."""
    cluster, url = split
    route = cluster.kubectl.get("httproute", "stable-portico", namespace=NS)
    catch_all = {"matches": SPLIT["matches"], "backendRefs": [{"name": "stable-portico", "port": 80}]}
    route["spec"]["rules"] = [catch_all, *route["spec"]["rules"]]
    for key in ("resourceVersion", "uid", "creationTimestamp", "managedFields", "generation"):
        route["metadata"].pop(key, None)
    route.pop("status", None)
    cluster.kubectl.run("apply", "-f", "-", input=json.dumps(route))
    wait.until(lambda: "canary" not in {one(url) for _ in range(40)}, timeout=60, interval=1,
               what="the reordered route never took effect")
    counts = shares(url)
    print(f"catch-all first over {REQUESTS} requests: {dict(counts)}")
    assert counts == Counter({"stable": REQUESTS})
