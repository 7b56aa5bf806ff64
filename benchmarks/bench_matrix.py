"""Render throughput: portico's in-process renderer against a `helm template` loop and `ct lint`.

Measured in one run on the same matrix (default: the chart's own
charts/portico/ci/matrix.yaml). The loops are slow, so they run over a seeded
random sample of the matrix's combinations and report their rate; portico runs
the whole matrix and a same-sized sample. Usage:

    .venv/bin/python benchmarks/bench_matrix.py [--sample 120] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

from portico import schemas  # noqa: E402
from portico.toolchain.locate import tool_path, tools_env  # noqa: E402
from portico.matrix import combos, spec  # noqa: E402
from portico.matrix.run import build_jobs  # noqa: E402
from portico.renderer import HelmLoopRenderer, InProcessRenderer  # noqa: E402
from portico.toolchain.pins import load_versions  # noqa: E402


def timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def render_rate(renderer, jobs) -> tuple[float, int]:
    results, seconds = timed(lambda: list(renderer.render_many(jobs)))
    return len(results) / seconds, sum(1 for r in results if r.error)


def ct_lint_rate(chart: Path, jobs, count: int) -> float:
    """ct lint over `count` values sets, as ci/*-values.yaml files of a chart copy."""
    with tempfile.TemporaryDirectory(prefix="portico-bench-ct-") as tmp:
        root = Path(tmp)
        copy = root / "charts" / chart.name
        shutil.copytree(chart, copy)
        shutil.rmtree(copy / "ci")
        (copy / "ci").mkdir()
        for i, job in enumerate(jobs[:count]):
            merged: dict = {}
            for layer in job.layers:
                merged = _merge(merged, layer)
            (copy / "ci" / f"c{i:04d}-values.yaml").write_text(yaml.safe_dump(merged))
        subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, check=True)
        cmd = [tool_path("ct"), "lint", "--charts", str(copy), "--chart-yaml-schema", str(REPO / "ci/chart_schema.yaml"),
               "--lint-conf", str(REPO / "ci/lintconf.yaml"), "--validate-maintainers=false",
               "--check-version-increment=false"]
        _, seconds = timed(lambda: subprocess.run(cmd, cwd=root, capture_output=True, env=tools_env()))
    return count / seconds


def _merge(a: dict, b: dict) -> dict:
    out = dict(a)
    for k, v in b.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--matrix", type=Path, default=REPO / "charts/portico/ci/matrix.yaml")
    parser.add_argument("--sample", type=int, default=120, help="combinations for the slow loops")
    parser.add_argument("--ct-sample", type=int, default=24, help="values files for ct lint")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()

    matrix = spec.load(args.matrix)
    plan = combos.plan(matrix)
    _, jobs = build_jobs(matrix, plan.combinations)
    sample = random.Random(42).sample(jobs, min(args.sample, len(jobs)))
    chart = matrix.chart
    cpus = os.cpu_count() or 1

    results: dict = {"matrix": str(args.matrix.relative_to(REPO)), "combinations": len(jobs), "sample": len(sample),
                     "machine": f"{platform.machine()}, {cpus} cores, Python {platform.python_version()}",
                     "versions": {k: v for k, v in load_versions().items() if k in (
                         "HELM_VERSION", "KUBECONFORM_VERSION", "CT_VERSION")}}
    rates: dict[str, float] = {}
    rates["portico, full matrix"], _ = render_rate(InProcessRenderer(chart), jobs)
    rates["portico, sample"], _ = render_rate(InProcessRenderer(chart), sample)
    rates["portico, sample, no version reuse"], _ = render_rate(_NoReuse(chart), sample)
    rates["helm template loop"], _ = render_rate(HelmLoopRenderer(chart, parallel=1), sample)
    rates[f"helm template loop, {cpus} parallel"], _ = render_rate(HelmLoopRenderer(chart, parallel=cpus), sample)
    rates["ct lint"] = ct_lint_rate(chart, sample, args.ct_sample)

    with tempfile.TemporaryDirectory(prefix="portico-bench-kc-") as tmp:
        from portico import manifests

        out = list(InProcessRenderer(chart).render_many(sample))
        for r in out:
            if not r.error:
                manifests.write_resources(manifests.load_all(r.manifest), Path(tmp) / r.id)
        result, seconds = timed(lambda: schemas.validate("1.34", [Path(tmp)]))
        kc_rate = result.resources / seconds

    baseline = rates["helm template loop"]
    results["renders_per_second"] = rates
    results["ratio_vs_helm_template_loop"] = {k: v / baseline for k, v in rates.items()}
    results["kubeconform_resources_per_second"] = kc_rate

    width = max(map(len, rates))
    print(f"matrix {results['matrix']}: {len(jobs)} combinations; loops sampled on {len(sample)}")
    print(f"{'renderer':<{width}}  renders/s  vs helm template loop")
    for name, rate in rates.items():
        print(f"{name:<{width}}  {rate:9.1f}  {rate / baseline:6.1f}x")
    print(f"kubeconform (strict, 1 version): {kc_rate:.0f} resources/s")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


class _NoReuse(InProcessRenderer):
    """The in-process renderer rendering every Kubernetes version separately."""

    def render_many(self, jobs):
        original = self.client.binary
        wrapper = Path(tempfile.mkdtemp(prefix="portico-bench-")) / "portico-render"
        wrapper.write_text(f"#!/bin/sh\nexec {original} -no-version-reuse \"$@\"\n")
        wrapper.chmod(0o755)
        self.client.binary = str(wrapper)
        try:
            yield from super().render_many(jobs)
        finally:
            self.client.binary = original
            shutil.rmtree(wrapper.parent, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
