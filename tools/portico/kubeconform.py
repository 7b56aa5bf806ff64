"""Run kubeconform, strict and offline, over rendered manifests.

One invocation per Kubernetes version covers every file given; the JSON
output is parsed into `Finding`s. Missing schemas are errors unless the kind
is listed in `skip_kinds` (kubeconform's -skip), never -ignore-missing-schemas.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from portico.binaries import tool_path
from portico.errors import ToolError
from portico.schemas import ensure_schemas, kubeconform_locations


@dataclass(frozen=True)
class Finding:
    kubernetes_version: str
    filename: str
    kind: str
    name: str
    status: str  # statusInvalid | statusError
    message: str

    def line(self) -> str:
        return f"{self.filename}: {self.kind}/{self.name} (k8s {self.kubernetes_version}): {self.message}"


@dataclass(frozen=True)
class Result:
    kubernetes_version: str
    resources: int
    findings: tuple[Finding, ...]


def command(kubernetes_version: str, paths: Sequence[Path | str], *, skip_kinds: Iterable[str] = (),
            workers: int = 4) -> list[str]:
    cmd = [tool_path("kubeconform"), "-strict", "-summary", "-output", "json",
           "-n", str(workers), "-kubernetes-version", f"{kubernetes_version}.0"]
    for location in kubeconform_locations():
        cmd += ["-schema-location", location]
    skips = sorted(set(skip_kinds))
    if skips:
        cmd += ["-skip", ",".join(skips)]
    return cmd + [str(p) for p in paths]


def validate(kubernetes_version: str, paths: Sequence[Path | str], *, skip_kinds: Iterable[str] = ()) -> Result:
    """Validate every manifest under `paths` against one Kubernetes version."""
    ensure_schemas(log=lambda _msg: None)
    proc = subprocess.run(command(kubernetes_version, paths, skip_kinds=skip_kinds),
                          capture_output=True, text=True)
    try:
        report = json.loads(proc.stdout)
    except ValueError as exc:
        raise ToolError(f"kubeconform gave no JSON report (exit {proc.returncode}): {proc.stderr.strip()[:500]}") from exc
    findings = tuple(
        Finding(kubernetes_version, r.get("filename", ""), r.get("kind", ""), r.get("name", ""),
                r.get("status", ""), r.get("msg", ""))
        for r in report.get("resources", [])
        if r.get("status") in ("statusInvalid", "statusError")
    )
    summary = report.get("summary", {})
    total = sum(int(summary.get(k, 0)) for k in ("valid", "invalid", "errors", "skipped"))
    if proc.returncode not in (0, 1):
        raise ToolError(f"kubeconform failed (exit {proc.returncode}): {proc.stderr.strip()[:500]}")
    return Result(kubernetes_version, total, findings)
