"""Per chart: portico against a `helm template` loop, render-only and end to end, in one run.

For each matrix (default: this chart's and every tests/corpus/*.yaml), side by side
on the same combinations:
- render-only: portico-render over every combination against one `helm template`
  process per combination (on a seeded sample: the loop is slow; its rate does not
  depend on which combinations it gets);
- end to end: `portico matrix` (render, schemas for every Kubernetes version of the
  matrix, policy, reports; no admission) against the loop plus one batched
  kubeconform run per Kubernetes version over the loop's output, per combination;
- peak RSS of the `portico matrix` process tree.
Usage:

    .venv/bin/python benchmarks/bench_charts.py [--sample 24] [--json out.json] [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

from portico import manifests, schemas  # noqa: E402
from portico.matrix import combos, spec  # noqa: E402
from portico.matrix.run import build_jobs  # noqa: E402
from portico.renderer import HelmLoopRenderer, InProcessRenderer  # noqa: E402
from portico.toolchain.pins import load_versions  # noqa: E402


def matrices(only: list[str]) -> list[tuple[str, Path]]:
    found = [("portico", REPO / "charts/portico/ci/matrix.yaml")]
    found += [(p.stem, p) for p in sorted((REPO / "tests/corpus").glob("*.yaml"))]
    return [(n, p) for n, p in found if not only or n in only]


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def loop_end_to_end(chart: Path, sample, versions: list[str]) -> float:
    """Seconds for the sample: one helm template each, then one kubeconform run per Kubernetes version."""
    with tempfile.TemporaryDirectory(prefix="portico-bench-loop-") as tmp:
        def run():
            for r in HelmLoopRenderer(chart, parallel=1).render_many(sample):
                if not r.error:
                    manifests.write_resources(manifests.load_all(r.manifest), Path(tmp) / r.id)
            for version in versions:
                schemas.validate(version, [Path(tmp)])
        return timed(run)[1]


# Runs a command and prints the peak RSS (KiB) of the largest process of its tree, as getrusage reports it.
_PEAK = ("import resource, subprocess, sys; code = subprocess.run(sys.argv[1:], capture_output=True).returncode; "
         "print(code, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)")


def peak_rss(cmd: list[str]) -> tuple[int, float, float]:
    """(exit code, seconds, peak RSS in MiB of the largest process) of a command."""
    done, seconds = timed(lambda: subprocess.run([sys.executable, "-c", _PEAK, *cmd], capture_output=True,
                                                 text=True, cwd=REPO))
    code, kib = done.stdout.split()
    return int(code), seconds, int(kib) / 1024


def portico_end_to_end(matrix: Path, out: Path) -> tuple[float, float, int]:
    """Seconds, peak RSS (MiB) and unique renders (random content masked) of `portico matrix`."""
    cmd = [sys.executable, "-m", "portico.cli", "matrix", str(matrix), "-o", str(out), "--no-progress",
           "--json", str(out.with_suffix(".json"))]
    code, seconds, rss = peak_rss(cmd)
    if code not in (0, 1):
        raise SystemExit(f"{matrix}: portico matrix exited {code}")
    return seconds, rss, json.loads(out.with_suffix(".json").read_text())["unique_renders"]


def bench(name: str, path: Path, sample_size: int, tmp: Path) -> dict:
    matrix = spec.load(path)
    plan = combos.plan(matrix)
    _, jobs = build_jobs(matrix, plan.combinations)
    sample = random.Random(42).sample(jobs, min(sample_size, len(jobs)))
    _, portico_s = timed(lambda: list(InProcessRenderer(matrix.chart).render_many(jobs)))
    _, loop_s = timed(lambda: list(HelmLoopRenderer(matrix.chart, parallel=1).render_many(sample)))
    portico_rate, loop_rate = len(jobs) / portico_s, len(sample) / loop_s
    e2e_loop = loop_end_to_end(matrix.chart, sample, list(matrix.validate_versions)) / len(sample)
    e2e_s, rss, unique = portico_end_to_end(path, tmp / name)
    e2e_portico = e2e_s / len(jobs)
    row = {"chart": name, "combinations": len(jobs), "unique_renders": unique, "portico_renders_per_s": portico_rate,
           "loop_renders_per_s": loop_rate, "render_ratio": portico_rate / loop_rate,
           "e2e_portico_ms_per_combination": e2e_portico * 1000, "e2e_loop_ms_per_combination": e2e_loop * 1000,
           "e2e_ratio": e2e_loop / e2e_portico, "peak_rss_mib": rss}
    print(f"{name:<26} {len(jobs):>6} {unique:>6} {portico_rate:>9.0f} {loop_rate:>7.1f} "
          f"{row['render_ratio']:>7.1f}x {row['e2e_ratio']:>7.1f}x {rss:>7.0f}", flush=True)
    return row


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sample", type=int, default=24, help="combinations for the helm template loop")
    parser.add_argument("--only", action="append", default=[], help="only this chart (repeatable)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    cpus = os.cpu_count() or 1
    print(f"machine: {platform.machine()}, {cpus} cores; helm {load_versions()['HELM_VERSION']}; "
          f"loop sample {args.sample}")
    print(f"{'chart':<26} {'combos':>6} {'unique':>6} {'portico/s':>9} {'loop/s':>7} {'render':>8} {'e2e':>8} "
          f"{'RSS MiB':>7}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="portico-bench-charts-") as tmp:
        for name, path in matrices(args.only):
            rows.append(bench(name, path, args.sample, Path(tmp)))
    worst = min(rows, key=lambda r: r["render_ratio"])
    print(f"lowest render ratio: {worst['chart']} {worst['render_ratio']:.1f}x; lowest end to end: "
          f"{min(rows, key=lambda r: r['e2e_ratio'])['chart']} {min(r['e2e_ratio'] for r in rows):.1f}x")
    if args.json:
        args.json.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, "
                                         f"{cpus} cores", "sample": args.sample, "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
