"""`make soak`: the zero-downtime detection table, each scenario repeated on the local cluster.

The safe defaults (and the drain with the default budget) must pass every run
(false alarms 0 of N) and every single-fault control must fail every run (caught
N of N); the drain scenarios run on the multi-node cluster, made for them. Writes the table (failed requests per
run) between the markers of docs/zero-downtime.md and JSON to out/soak/, and
exits 1 when a control was missed or the defaults raised a false alarm.

    .venv/bin/python -m tests.cluster.soak [--runs 10] [--only NAME ...] [--multi-node]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Callable

from portico.cluster import kind, lifecycle, multinode
from tests.cluster import multi as on_multi
from tests.cluster import test_node_drain as drain
from tests.cluster import test_upgrade as up
from tests.conftest import REPO

DOC = REPO / "docs" / "zero-downtime.md"
MARKERS = {False: ("<!-- soak:start -->", "<!-- soak:end -->"),
           True: ("<!-- soak-multi:start -->", "<!-- soak-multi:end -->")}


def scenarios(multi_node: bool = False) -> dict[str, tuple[bool, Callable[[Path], dict]]]:
    """name -> (must pass, run once into a directory). The drain scenarios bring up the multi-node cluster;
    with `multi_node` the controls and their baseline run there too (NodePort and slow targets, as in
    `make test`), named multi-<control>."""
    main = lazy(lambda: (lifecycle.up(), kind.cluster())[1])
    multi = lazy(multinode.up)

    def control(name: str, layers: tuple[dict, ...], d: Path):
        if multi_node:
            return up.run_control(multi(), f"multi-{name}", layers, d, make_step=on_multi.step,
                                  load_targets=on_multi.control_load(), min_requests=on_multi.MIN_REQUESTS)
        return up.run_control(main(), name, layers, d)

    prefix = "multi-" if multi_node else ""
    out: dict[str, tuple[bool, Callable[[Path], dict]]] = {
        f"{prefix}safe-defaults": (True, lambda d: summary(control("safe-defaults", (up.SLOW_START,), d)))}
    for name, fault in up.SINGLE_FAULTS.items():
        out[f"{prefix}{name}"] = (False, lambda d, n=name, f=fault: summary(control(n, (up.SLOW_START, f), d)))
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


def table(results: dict[str, list[dict]], expected: dict[str, bool], runs: int, when: str,
          multi_node: bool = False) -> str:
    start, end = MARKERS[multi_node]
    where = ("on the multi-node cluster: its NodePort at "
             if multi_node else "three targets (NodePort, Ingress, HTTPRoute) at ")
    lines = [start, "", f"`make soak{' SOAK_ARGS=--multi-node' if multi_node else ''}` on {when}: {runs} runs each, "
             f"{where}{up.RATE} req/s{'' if multi_node else ' each'} and {up.SLOW_TARGET_RATE} req/s of 3-second "
             "requests on the NodePort, open loop (vegeta), kept-alive and fresh connections; the drain rows on the "
             "multi-node cluster, its NodePort only.",
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
    return "\n".join([*lines, "", end])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--only", action="append", default=[])
    parser.add_argument("--multi-node", action="store_true",
                        help="the controls on the multi-node cluster (NodePort and slow targets), as make test runs them")
    args = parser.parse_args()
    out = REPO / "out" / "soak"
    every = scenarios(args.multi_node)
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
    start, end = MARKERS[args.multi_node]
    written = table(results, expected, args.runs, when, args.multi_node)
    if start in text and not args.only:
        head, _, rest = text.partition(start)
        DOC.write_text(head + written + rest.partition(end)[2])
    missed = [n for n, rows in results.items() for r in rows if r["passed"] != expected[n]]
    print(written)
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
