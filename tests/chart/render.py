"""Render charts/portico with the real helm binary and index the objects."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from portico.clients.helm import Helm, RenderRequest
from portico.process import Completed
from portico.values import as_files
from tests.conftest import CHART


@dataclass
class Rendered:
    docs: list[dict[str, Any]]

    def all(self, kind: str) -> list[dict[str, Any]]:
        return [d for d in self.docs if d["kind"] == kind]

    def one(self, kind: str, name: str | None = None) -> dict[str, Any]:
        matches = [d for d in self.all(kind) if name is None or d["metadata"]["name"] == name]
        assert len(matches) == 1, f"expected one {kind} {name or ''}, got {[d['metadata']['name'] for d in matches]}"
        return matches[0]

    def kinds(self) -> list[str]:
        return sorted(d["kind"] for d in self.docs)

    def container(self, kind: str = "Deployment") -> dict[str, Any]:
        return self.one(kind)["spec"]["template"]["spec"]["containers"][0]


class RenderFailed(AssertionError):
    pass


def helm_template(values: dict | None = None, files: list[Path] = (), *, release: str = "rel",
                  namespace: str = "apps", chart: Path = CHART, extra: list[str] = (),
                  helm: str = "helm") -> Completed:
    client = Helm.pinned(helm)
    req = RenderRequest(chart=chart, values_files=files, release=release, namespace=namespace, extra_args=extra)
    with as_files([values or {}]) as layer_files:
        return client.runner.run([client.binary, *client.template_args(req, layer_files)], check=False)


def render(values: dict | None = None, files: list[Path] = (), **kw) -> Rendered:
    proc = helm_template(values, files, **kw)
    if proc.returncode != 0:
        raise RenderFailed(proc.stderr)
    return Rendered([d for d in yaml.safe_load_all(proc.stdout) if d])


def render_error(values: dict | None = None, files: list[Path] = (), **kw) -> str:
    proc = helm_template(values, files, **kw)
    assert proc.returncode != 0, f"expected a rejection, rendered:\n{proc.stdout[:2000]}"
    return proc.stderr
