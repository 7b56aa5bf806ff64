"""Render many values sets of one chart.

`InProcessRenderer` streams requests to `portico-render` (tools/renderer: Helm's
Go SDK, chart loaded once, a worker per core). `HelmLoopRenderer` runs
`helm template` once per request: the baseline the benchmarks compare against,
and the fallback when portico-render is not built.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import yaml

from portico.binaries import tool_path, tools_env
from portico.errors import ToolError
from portico.helm import clean_error


@dataclass(frozen=True)
class RenderJob:
    id: str
    layers: list[dict[str, Any]]
    kube_version: str | None = None
    release: str = "release"
    namespace: str = "default"
    api_versions: tuple[str, ...] = field(default_factory=tuple)


@dataclass(frozen=True)
class RenderResult:
    id: str
    manifest: str
    error: str | None


class InProcessRenderer:
    def __init__(self, chart: Path, workers: int | None = None):
        self.chart = chart
        self.workers = workers or os.cpu_count() or 2
        self.binary = tool_path("portico-render")

    def render_many(self, jobs: Iterable[RenderJob]) -> Iterator[RenderResult]:
        proc = subprocess.Popen(
            [self.binary, "-chart", str(self.chart), "-workers", str(self.workers)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1 << 20,
        )
        assert proc.stdin and proc.stdout and proc.stderr
        sent = 0
        feed_error: list[BaseException] = []

        def feed() -> None:
            nonlocal sent
            try:
                for job in jobs:
                    proc.stdin.write(json.dumps({
                        "id": job.id, "layers": job.layers, "kubeVersion": job.kube_version or "",
                        "apiVersions": list(job.api_versions), "release": job.release,
                        "namespace": job.namespace,
                    }) + "\n")
                    sent += 1
            except BrokenPipeError as exc:
                feed_error.append(exc)
            finally:
                try:
                    proc.stdin.close()
                except BrokenPipeError:
                    pass

        writer = threading.Thread(target=feed, daemon=True)
        writer.start()
        received = 0
        for line in proc.stdout:
            resp = json.loads(line)
            received += 1
            yield RenderResult(resp["id"], resp.get("manifest", ""), resp.get("error"))
        writer.join()
        code = proc.wait()
        if code != 0 or feed_error or received != sent:
            raise ToolError(f"portico-render failed (exit {code}, {received}/{sent} renders): "
                            f"{proc.stderr.read().strip()[:800]}")


class HelmLoopRenderer:
    """One `helm template` process per job, `parallel` at a time."""

    def __init__(self, chart: Path, parallel: int = 1, helm: str = "helm"):
        self.chart = chart
        self.parallel = parallel
        self.helm = tool_path(helm)

    def _one(self, job: RenderJob) -> RenderResult:
        with tempfile.TemporaryDirectory(prefix="portico-values-") as tmp:
            cmd = [self.helm, "template", job.release, str(self.chart), "--namespace", job.namespace]
            if job.kube_version:
                cmd += ["--kube-version", job.kube_version]
            for api in job.api_versions:
                cmd += ["--api-versions", api]
            for i, layer in enumerate(job.layers):
                path = Path(tmp) / f"{i:03d}.yaml"
                path.write_text(yaml.safe_dump(layer))
                cmd += ["-f", str(path)]
            proc = subprocess.run(cmd, capture_output=True, text=True, env=tools_env())
        if proc.returncode != 0:
            return RenderResult(job.id, "", clean_error(proc.stderr).removesuffix(
                "Use --debug flag to render out invalid YAML").strip())
        return RenderResult(job.id, proc.stdout, None)

    def render_many(self, jobs: Iterable[RenderJob]) -> Iterator[RenderResult]:
        if self.parallel <= 1:
            for job in jobs:
                yield self._one(job)
            return
        with ThreadPoolExecutor(self.parallel) as pool:
            yield from pool.map(self._one, jobs)


def default_renderer(chart: Path) -> InProcessRenderer | HelmLoopRenderer:
    try:
        return InProcessRenderer(chart)
    except ToolError:
        return HelmLoopRenderer(chart, parallel=os.cpu_count() or 2)
