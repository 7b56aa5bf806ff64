"""`make soak`: the zero-downtime detection table, each scenario repeated on the local cluster.

The safe defaults (and the drain with the default budget) must pass every run
(false alarms 0 of N) and every single-fault control must fail every run (caught
N of N); the drain scenarios run on the multi-node cluster, made for them. Writes the table (failed requests per
run) between the markers of docs/zero-downtime.md and JSON to out/soak/, and
exits 1 when a control was missed or the defaults raised a false alarm.

    .venv/bin/python -m tests.cluster.soak [--runs 10] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Callable

from portico.cluster import kind, lifecycle, multinode
from tests.cluster import test_node_drain as drain
from tests.cluster import test_upgrade as up
from tests.conftest import REPO

DOC = REPO / "docs" / "zero-downtime.md"
START, END = "<!-- soak:start -->", "<!-- soak:end -->"


def scenarios() -> dict[str, tuple[bool, Callable[[Path], dict]]]:
    """name -> (must pass, run once into a directory). The drain scenarios bring up the multi-node cluster."""
    main = lazy(lambda: (lifecycle.up(), kind.cluster())[1])
    multi = lazy(multinode.up)
    out: dict[str, tuple[bool, Callable[[Path], dict]]] = {
        "safe-defaults": (True, lambda d: summary(up.run_control(main(), "safe-defaults", (up.SLOW_START,), d)))}
    for name, fault in up.SINGLE_FAULTS.items():
        out[name] = (False, lambda d, n=name, f=fault: summary(up.run_control(main(), n, (up.SLOW_START, f), d)))
    for name, (_, caught) in drain.DRAIN_ALL.items():
        out[name] = (not caught, lambda d, n=name: summary(drain.run_drain_all(multi(), n, d)))
    return out


def lazy(make):
    made = []

    def get():
        if not made:
            made.append(make())
        return made[0]
    return get


def summary(report) -> dict:
    return {"requests": report.requests, "failed": report.failed, "passed": report.passed,
            "classes": {k: v["count"] for k, v in report.failure_classes.items()}, "late": report.late_failures}


def table(results: dict[str, list[dict]], expected: dict[str, bool], runs: int, when: str) -> str:
    lines = [START, "", f"`make soak` on {when}: {runs} runs each, three targets (NodePort, Ingress, HTTPRoute) at "
             f"{up.RATE} req/s each and {up.SLOW_TARGET_RATE} req/s of 3-second requests on the NodePort, open loop "
             "(vegeta), kept-alive and fresh connections; the drain rows on the multi-node cluster, its NodePort only.",
             "",
             "| scenario | expected | result | failed requests per run | failure classes (all runs) |",
             "| --- | --- | --- | --- | --- |"]
    for name, rows in results.items():
        safe = expected[name]
        good = sum(1 for r in rows if r["passed"] == safe)
        classes: dict[str, int] = {}
        for r in rows:
            for k, v in r["classes"].items():
                classes[k] = classes.get(k, 0) + v
        verdict = f"{'passed' if safe else 'caught'} {good}/{len(rows)}"
        per_run = ", ".join(f"{r['failed']:,}" for r in rows)
        kinds = ", ".join(f"{k} {v:,}" for k, v in sorted(classes.items())) or "-"
        lines.append(f"| {name} | {'pass' if safe else 'fail'} | {verdict} | {per_run} | {kinds} |")
    return "\n".join([*lines, "", END])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--only", action="append", default=[])
    args = parser.parse_args()
    out = REPO / "out" / "soak"
    every = scenarios()
    chosen = {k: v for k, v in every.items() if not args.only or k in args.only}
    expected = {k: must_pass for k, (must_pass, _) in chosen.items()}
    results: dict[str, list[dict]] = {name: [] for name in chosen}
    try:
        for i in range(args.runs):
            for name, (_, run) in chosen.items():
                results[name].append(run(out / f"run-{i + 1}"))
                print(f"run {i + 1}/{args.runs} {name}: {results[name][-1]}", flush=True)
    finally:
        multinode.down()
    out.mkdir(parents=True, exist_ok=True)
    (out / "soak.json").write_text(json.dumps(results, indent=2))
    when = time.strftime("%Y-%m-%d")
    text = DOC.read_text()
    if START in text and not args.only:
        head, _, rest = text.partition(START)
        DOC.write_text(head + table(results, expected, args.runs, when) + rest.partition(END)[2])
    missed = [n for n, rows in results.items() for r in rows if r["passed"] != expected[n]]
    print(table(results, expected, args.runs, when))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
