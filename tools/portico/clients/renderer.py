"""portico-render: Helm's Go SDK in one long-lived process (package data renderer/).

Requests go in as JSON lines on stdin, answers come back as JSON lines in any
order; the chart is loaded once and a worker per core renders.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from portico.clients.helm import DEFAULT_NAMESPACE, DEFAULT_RELEASE
from portico.errors import ToolError
from portico.process import Runner, default_runner, tail


@dataclass(frozen=True)
class RenderJob:
    id: str
    layers: list[dict[str, Any]]
    kube_version: str | None = None
    release: str = DEFAULT_RELEASE
    namespace: str = DEFAULT_NAMESPACE
    api_versions: tuple[str, ...] = field(default_factory=tuple)

    def wire(self) -> str:
        return json.dumps({"id": self.id, "layers": self.layers, "kubeVersion": self.kube_version or "",
                           "apiVersions": list(self.api_versions), "release": self.release,
                           "namespace": self.namespace}, default=str) + "\n"


@dataclass(frozen=True)
class RenderResult:
    id: str
    manifest: str
    error: str | None
    sha256: str | None = None  # of the manifest, when the renderer computed it

    def digest(self) -> str:
        return self.sha256 or hashlib.sha256(self.manifest.encode()).hexdigest()


@dataclass
class PorticoRender:
    binary: str
    runner: Runner = field(default_factory=default_runner)

    def render_many(self, chart: Path, jobs: Iterable[RenderJob], workers: int) -> Iterator[RenderResult]:
        proc = self.runner.start([self.binary, "-chart", str(chart), "-workers", str(workers)], stdin=True,
                                 stdout=True, bufsize=1 << 20)
        sent = 0
        feed_error: list[BaseException] = []

        def feed() -> None:
            nonlocal sent
            try:
                for job in jobs:
                    proc.stdin.write(job.wire())
                    sent += 1
            except BrokenPipeError as exc:
                feed_error.append(exc)
            finally:
                try:
                    proc.stdin.close()
                except BrokenPipeError:
                    pass

        with proc:
            writer = threading.Thread(target=feed, daemon=True)
            writer.start()
            received = 0
            shared: dict[str, str] = {}  # large documents the renderer sends once (see main.go: response)
            for line in proc.stdout:
                resp = json.loads(line)
                received += 1
                yield RenderResult(resp["id"], _manifest(resp, shared), resp.get("error"), resp.get("sha256"))
            writer.join()
            code = proc.wait(timeout=60)
            if code != 0 or feed_error or received != sent:
                raise ToolError(f"portico-render failed (exit {code}, {received}/{sent} renders): "
                                f"{tail(proc.stderr_text())}")


def _manifest(resp: dict, shared: dict[str, str]) -> str:
    if "parts" not in resp:
        return resp.get("manifest", "")
    shared.update(resp.get("defs") or {})
    return "".join(shared[p[1:]] if p.startswith("\x00") else p for p in resp["parts"])
