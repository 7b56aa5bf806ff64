"""`make soak` on an ordinary app: how often one `upgrade-check` catches a missing preStop, by --cycles.

The app and load of the issue that asked for it: the plain test app (serves at once, drains on SIGTERM) at 2
replicas, `lifecycle.preStop.mode: none`, a readiness probe on /readyz every second, everything else at the
chart's defaults; one NodePort target at 500 req/s (half kept-alive, half fresh). The same runs with the preStop
kept (the chart's defaults) must pass: the false-alarm control. Prints caught/passed per --cycles and writes JSON.

    .venv/bin/python -m tests.cluster.soak_ordinary [--runs 10] [--cycles 1 2]
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from portico.cluster import kind, lifecycle
from portico.zerodowntime.load import Target
from tests.cluster import test_upgrade as up
from tests.cluster.test_cluster import APP, merge
from tests.conftest import REPO

NODE_PORT = up.NODE_PORT
ORDINARY = merge(APP, {
    "replicaCount": 2,
    "service": {"type": "NodePort", "ports": [{"name": "http", "port": 80, "targetPort": "http",
                                               "nodePort": NODE_PORT}]},
    "lifecycle": {"preStop": {"seconds": 10}}, "terminationGracePeriodSeconds": 30,
})
CASES = {"no-prestop": ({"lifecycle": {"preStop": {"mode": "none"}}}, False), "chart-defaults": ({}, True)}


def run_once(cluster, case: str, cycles: int, out_dir) -> dict:
    fault, _ = CASES[case]
    name = f"ordinary-{case}-c{cycles}"
    started = time.monotonic()
    report = up.run_scenario(cluster, name, up.step(f"{case} a", ORDINARY, fault, up.version("a"), chart=up.CHART),
                             up.step(f"{case} b", ORDINARY, fault, up.version("b"), chart=up.CHART), "b", out_dir,
                             load_targets=[Target("nodeport", f"http://127.0.0.1:{NODE_PORT}/")], min_requests=0,
                             cycles=cycles)
    return {"case": case, "cycles": cycles, "passed": report.passed, "failed": report.failed,
            "requests": report.requests, "terminations": report.terminations,
            "seconds": round(time.monotonic() - started, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--cycles", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--only", choices=sorted(CASES), nargs="+", default=sorted(CASES))
    args = parser.parse_args()
    lifecycle.up()
    cluster = kind.cluster()
    out_dir = REPO / "out" / "soak-ordinary"
    rows = [run_once(cluster, case, cycles, out_dir)
            for _ in range(args.runs) for cycles in args.cycles for case in args.only]
    (out_dir / "runs.json").write_text(json.dumps(rows, indent=2))
    print(f"{'case':<16} {'cycles':>6} {'runs':>5} {'caught':>7} {'passed':>7} {'terminations':>13} {'s/check':>8}")
    for case in args.only:
        for cycles in args.cycles:
            mine = [r for r in rows if r["case"] == case and r["cycles"] == cycles]
            caught = sum(1 for r in mine if not r["passed"])
            print(f"{case:<16} {cycles:>6} {len(mine):>5} {caught:>7} {len(mine) - caught:>7} "
                  f"{sum(r['terminations'] for r in mine) / len(mine):>13.1f} "
                  f"{sum(r['seconds'] for r in mine) / len(mine):>8.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
