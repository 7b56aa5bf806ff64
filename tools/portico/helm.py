"""Thin wrappers over the pinned helm binary."""

from __future__ import annotations

import re
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

import yaml

from portico.binaries import tool_path, tools_env
from portico.errors import PorticoError, ToolError


class RenderError(PorticoError):
    """helm refused to render: a schema rejection, a `fail`, a template error."""

    exit_code = 1


@dataclass(frozen=True)
class RenderRequest:
    chart: Path
    values_files: Sequence[Path] = ()
    set_values: Sequence[str] = ()  # --set key=value, applied last
    release: str = "release"
    namespace: str = "default"
    kube_version: str | None = None  # e.g. "1.34"; Capabilities.KubeVersion
    api_versions: Sequence[str] = ()  # extra Capabilities.APIVersions
    extra_args: Sequence[str] = field(default_factory=tuple)


def template_command(req: RenderRequest, helm: str | None = None) -> list[str]:
    cmd = [helm or tool_path("helm"), "template", req.release, str(req.chart), "--namespace", req.namespace]
    for values in req.values_files:
        cmd += ["--values", str(values)]
    for assignment in req.set_values:
        cmd += ["--set", assignment]
    if req.kube_version:
        cmd += ["--kube-version", req.kube_version]
    for api in req.api_versions:
        cmd += ["--api-versions", api]
    return cmd + list(req.extra_args)


_HELM_ERROR = re.compile(r"^Error: ", re.MULTILINE)


def clean_error(stderr: str) -> str:
    """helm's error without its 'Error: ' prefix and repeated context lines."""
    text = stderr.strip()
    lines = [ln for ln in text.splitlines() if not ln.startswith("WARNING:")]
    return _HELM_ERROR.sub("", "\n".join(lines)).strip()


def template(req: RenderRequest, helm: str | None = None) -> str:
    """Render with `helm template`; raise RenderError with helm's reason."""
    proc = subprocess.run(template_command(req, helm), capture_output=True, text=True, env=tools_env())
    if proc.returncode != 0:
        raise RenderError(clean_error(proc.stderr) or f"helm template exited {proc.returncode}")
    return proc.stdout


def split_documents(text: str) -> list[dict]:
    """Parse a multi-document stream, dropping empty documents."""
    return [doc for doc in yaml.safe_load_all(text) if doc]


def lint(chart: Path, values_files: Sequence[Path] = (), strict: bool = True) -> subprocess.CompletedProcess:
    cmd = [tool_path("helm"), "lint", str(chart)]
    if strict:
        cmd.append("--strict")
    for values in values_files:
        cmd += ["--values", str(values)]
    proc = subprocess.run(cmd, capture_output=True, text=True, env=tools_env())
    if proc.returncode not in (0, 1):
        raise ToolError(f"helm lint crashed (exit {proc.returncode}): {proc.stderr.strip()}")
    return proc
