"""`make soak`: the zero-downtime detection table, each scenario repeated on the local cluster.

The safe defaults must pass every run (false alarms 0 of N) and every single-fault
control must fail every run (caught N of N). Writes the table (failed requests per
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

from portico.cluster import kind, lifecycle
from tests.cluster import test_upgrade as up
from tests.conftest import REPO

DOC = REPO / "docs" / "zero-downtime.md"
START, END = "<!-- soak:start -->", "<!-- soak:end -->"


def scenarios() -> dict[str, tuple[dict, ...]]:
    return {"safe-defaults": (up.SLOW_START,), **{name: (up.SLOW_START, fault)
                                                   for name, fault in up.SINGLE_FAULTS.items()}}


def run_once(cluster, name: str, layers: tuple[dict, ...], out: Path) -> dict:
    report = up.run_scenario(cluster, name, up.step(f"{name} a", *layers, up.version(f"{name}-a")),
                             up.step(f"{name} b", *layers, up.version(f"{name}-b")), f"{name}-b", out)
    return {"requests": report.requests, "failed": report.failed, "passed": report.passed,
            "classes": {k: v["count"] for k, v in report.failure_classes.items()}, "late": report.late_failures}


def table(results: dict[str, list[dict]], runs: int, when: str) -> str:
    lines = [START, "", f"`make soak` on {when}: {runs} runs each, three targets (NodePort, Ingress, HTTPRoute) at "
             f"{up.RATE} req/s each, open loop (vegeta), half kept-alive and half fresh connections.", "",
             "| scenario | expected | result | failed requests per run | failure classes (all runs) |",
             "| --- | --- | --- | --- | --- |"]
    for name, rows in results.items():
        safe = name == "safe-defaults"
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
    lifecycle.up()
    cluster = kind.cluster()
    out = REPO / "out" / "soak"
    chosen = {k: v for k, v in scenarios().items() if not args.only or k in args.only}
    results: dict[str, list[dict]] = {name: [] for name in chosen}
    for i in range(args.runs):
        for name, layers in chosen.items():
            results[name].append(run_once(cluster, name, layers, out / f"run-{i + 1}"))
            print(f"run {i + 1}/{args.runs} {name}: {results[name][-1]}", flush=True)
    out.mkdir(parents=True, exist_ok=True)
    (out / "soak.json").write_text(json.dumps(results, indent=2))
    text = DOC.read_text()
    if START in text:
        head, _, rest = text.partition(START)
        text = head + table(results, args.runs, time.strftime("%Y-%m-%d")) + rest.partition(END)[2]
        DOC.write_text(text)
    missed = [n for n, rows in results.items() for r in rows if r["passed"] != (n == "safe-defaults")]
    print(table(results, args.runs, time.strftime("%Y-%m-%d")))
    return 1 if missed else 0


if __name__ == "__main__":
    sys.exit(main())
