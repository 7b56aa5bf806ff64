"""Small matrices, the size `portico init` writes: whole `portico matrix` processes against the loop they replace.

For each chart of ../shared/corpus (or --chart DIR, repeatable), three matrices of the chart's own switches:
- 1 combination (the defaults);
- 4 combinations (the two switches `portico init` ranks first, exhaustively);
- what `portico init` writes (its t-wise plan over up to 10 switches, plus ct's ci/*-values.yaml cases).
Each side does the same work on the same combinations: `portico matrix` (render, schemas for two Kubernetes
versions, policy, reports; no admission), timed as a whole process from start to exit, against a loop of
`helm template` (2 at a time) writing one file per resource, then one kubeconform run per Kubernetes version
over the loop's output. The ratio is the loop's time over portico's: above 1, portico is faster.

    .venv/bin/python benchmarks/bench_small.py [--json out.json] [--chart DIR ...]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

from portico import manifests, schemas  # noqa: E402
from portico.matrix import combos, spec  # noqa: E402
from portico.matrix.run import build_jobs  # noqa: E402
from portico.renderer import HelmLoopRenderer  # noqa: E402

CORPUS = REPO.parent / "shared" / "corpus" / "charts"
REPEATS = 3  # the median of three runs per side


def _matrices(chart: Path, tmp: Path) -> list[tuple[str, Path]]:
    """The three matrices of one chart, written under tmp."""
    init_path = tmp / f"{chart.name}-init.yaml"
    done = subprocess.run([sys.executable, "-m", "portico.cli", "init", str(chart), "-o", str(init_path)],
                          capture_output=True, text=True, cwd=REPO)
    if done.returncode != 0:
        return []
    doc = yaml.safe_load(init_path.read_text())
    versions = doc["validate"]
    one = {"chart": str(chart), "axes": {"defaults": {"snippets": {"chart": {}}}}, "validate": versions}
    first = dict(list(doc["axes"].items())[:2])
    four = {"chart": str(chart), "axes": {k: {"path": a["path"], "values": a["values"][:2]} for k, a in first.items()},
            "validate": versions}
    out = []
    for label, body in (("1", one), ("4", four)):
        path = tmp / f"{chart.name}-{label}.yaml"
        path.write_text(yaml.safe_dump(body))
        out.append((label, path))
    out.append(("init", init_path))
    return out


def _median(fn) -> float:
    times = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


# As a user's machine runs it: Python caches bytecode (some sandboxes set PYTHONDONTWRITEBYTECODE, which makes
# every start compile portico's modules again, about 0.2 s).
_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def _portico(matrix: Path, out: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "portico.cli", "matrix", str(matrix), "-o", str(out),
                           "--no-progress"], capture_output=True, text=True, cwd=REPO, env=_ENV)
    if done.returncode not in (0, 1):
        raise SystemExit(f"{matrix}: portico matrix exited {done.returncode}: {done.stderr[-500:]}")


def _loop(chart: Path, jobs, versions: list[str], tmp: Path) -> None:
    with tempfile.TemporaryDirectory(dir=tmp) as out:
        for r in HelmLoopRenderer(chart, parallel=2).render_many(jobs):
            if not r.error:
                manifests.write_resources(manifests.load_all(r.manifest), Path(out) / r.id)
        for version in versions:
            schemas.validate(version, [Path(out)])


def bench(chart: Path, tmp: Path) -> list[dict]:
    rows = []
    for label, path in _matrices(chart, tmp):
        matrix = spec.load(path)
        _, jobs = build_jobs(matrix, combos.plan(matrix).combinations)
        portico_s = _median(lambda: _portico(path, tmp / "out"))
        loop_s = _median(lambda: _loop(matrix.chart, jobs, list(matrix.validate_versions), tmp))
        row = {"chart": chart.name, "matrix": label, "combinations": len(jobs), "portico_s": portico_s,
               "loop_s": loop_s, "ratio": loop_s / portico_s}
        print(f"{chart.name:<26} {label:>5} {len(jobs):>6} {portico_s:>9.2f} {loop_s:>9.2f} {row['ratio']:>7.2f}x",
              flush=True)
        rows.append(row)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chart", action="append", type=Path, default=[], help="a chart directory (repeatable)")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    charts = [c.resolve() for c in args.chart] or sorted(p for p in CORPUS.iterdir() if (p / "Chart.yaml").is_file())
    cpus = os.cpu_count() or 1
    print(f"machine: {platform.machine()}, {cpus} cores; median of {REPEATS} runs per side")
    print(f"{'chart':<26} {'size':>5} {'combos':>6} {'portico s':>9} {'loop s':>9} {'ratio':>8}")
    rows = []
    with tempfile.TemporaryDirectory(prefix="portico-bench-small-") as tmp:
        for chart in charts:
            rows += bench(chart, Path(tmp))
    for label in ("1", "4", "init"):
        mine = [r for r in rows if r["matrix"] == label]
        if mine:
            worst = min(mine, key=lambda r: r["ratio"])
            print(f"size {label}: lowest ratio {worst['chart']} {worst['ratio']:.2f}x, median "
                  f"{statistics.median(r['ratio'] for r in mine):.2f}x")
    if args.json:
        args.json.write_text(json.dumps({"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, "
                                         f"{cpus} cores", "rows": rows}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
