"""Render many values sets of one chart.

`InProcessRenderer` streams requests to portico-render (Helm's Go SDK, chart
loaded once, a worker per core). `HelmLoopRenderer` runs `helm template` once
per request: the baseline the benchmarks compare against, and the fallback
when portico-render is not built (no Go on the machine), with one warning.
"""

from __future__ import annotations

import os
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable, Iterator

from portico.clients.helm import Helm, RenderError, RenderRequest
from portico.clients.renderer import PorticoRender, RenderJob, RenderResult
from portico.errors import ToolError
from portico.toolchain.locate import tool_path

__all__ = ["HelmLoopRenderer", "InProcessRenderer", "RenderJob", "RenderResult", "default_renderer"]


class InProcessRenderer:
    def __init__(self, chart: Path, workers: int | None = None):
        self.chart = chart
        self.workers = workers or os.cpu_count() or 2
        self.client = PorticoRender(tool_path("portico-render"))

    def render_many(self, jobs: Iterable[RenderJob]) -> Iterator[RenderResult]:
        return self.client.render_many(self.chart, jobs, self.workers)


class HelmLoopRenderer:
    """One `helm template` process per job, `parallel` at a time."""

    def __init__(self, chart: Path, parallel: int = 1, helm: str = "helm"):
        self.chart = chart
        self.parallel = parallel
        self.helm = Helm.pinned(helm)

    def render_one(self, job: RenderJob) -> RenderResult:
        # --include-crds: the in-process renderer includes crds/ (the matrix validates custom resources with them).
        req = RenderRequest(chart=self.chart, layers=job.layers, release=job.release, namespace=job.namespace,
                            kube_version=job.kube_version, api_versions=job.api_versions,
                            extra_args=("--include-crds",))
        try:
            return RenderResult(job.id, self.helm.template(req), None)
        except RenderError as exc:
            return RenderResult(job.id, "", str(exc))

    def render_many(self, jobs: Iterable[RenderJob]) -> Iterator[RenderResult]:
        if self.parallel <= 1:
            for job in jobs:
                yield self.render_one(job)
            return
        with ThreadPoolExecutor(self.parallel) as pool:
            yield from pool.map(self.render_one, jobs)


def _stderr(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def default_renderer(chart: Path, warn: Callable[[str], None] = _stderr) -> InProcessRenderer | HelmLoopRenderer:
    try:
        return InProcessRenderer(chart)
    except ToolError:
        warn("portico: warning: portico-render is not built (it needs Go; run `portico setup`): rendering with one "
             "`helm template` per combination, which is many times slower")
        return HelmLoopRenderer(chart, parallel=os.cpu_count() or 2)
