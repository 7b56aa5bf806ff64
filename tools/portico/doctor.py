"""`portico doctor`: what portico needs on this machine, and what to do about what is missing."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass

from portico.paths import bin_dir, cache_dir


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    required: bool = True  # optional checks (cluster tests) warn without failing

    def line(self) -> str:
        mark = "ok  " if self.ok else ("FAIL" if self.required else "warn")
        return f"{mark} {self.name:<14} {self.detail}"


def _python() -> Check:
    ok = sys.version_info >= (3, 11)
    return Check("python", ok, f"{sys.version.split()[0]}" + ("" if ok else ": need 3.11+"))


def _go() -> Check:
    from portico.clients.go import Go
    from portico.toolchain.gomod import MIN_GO

    binary = shutil.which("go")
    if binary is None:
        return Check("go", False, f"not on PATH: the renderer falls back to a helm loop; install Go {MIN_GO}+",
                     required=False)
    version = Go(binary).version().removeprefix("go")
    ok = tuple(int(p) for p in version.split(".")[:2]) >= tuple(int(p) for p in MIN_GO.split("."))
    return Check("go", ok, f"{version} at {binary}" + ("" if ok else f": need {MIN_GO}+"), required=False)


def _tools() -> list[Check]:
    from portico.toolchain.catalog import TOOLS
    from portico.toolchain.install import reported_version, renderer_ready, same_version
    from portico.toolchain.locate import override_var
    from portico.toolchain.pins import load_versions

    versions = load_versions()
    checks = []
    for tool in TOOLS:
        pinned = tool.version(versions)
        binary = os.environ.get(override_var(tool.name)) or str(bin_dir() / tool.name)
        got = reported_version(binary, tool) if shutil.which(binary) or os.path.exists(binary) else None
        ok = same_version(got, pinned)
        hint = f"portico setup {tool.name}" if tool.optional else "portico setup"
        detail = f"{pinned} at {binary}" if ok else f"{got or 'missing'} (pinned {pinned}): run `{hint}`"
        required = not tool.optional and tool.name not in ("kind", "actionlint", "helm-docs", "registry")
        checks.append(Check(tool.name, ok, detail, required=required))
    ready = renderer_ready()
    checks.append(Check("portico-render", ready, "built" if ready else "not built: run `portico setup` (needs Go)",
                        required=False))
    return checks


def _schemas() -> Check:
    from portico.schemas import kubernetes_versions, schema_root

    root = schema_root()
    missing = [v for v in kubernetes_versions() if not (root / f"v{v}.0-standalone-strict" / ".complete").exists()]
    return Check("schemas", not missing, f"{root}" if not missing else f"missing {', '.join(missing)}: run "
                 "`portico setup`")


def _docker() -> Check:
    from portico.clients.docker import Docker
    from portico.errors import ToolError

    if shutil.which("docker") is None:
        return Check("docker", False, "not installed: needed only for `portico cluster` and cluster tests",
                     required=False)
    try:
        Docker().require_daemon()
    except ToolError as exc:
        return Check("docker", False, str(exc), required=False)
    return Check("docker", True, "daemon reachable", required=False)


def _cache() -> Check:
    path = cache_dir()
    try:
        path.mkdir(parents=True, exist_ok=True)
        ok = os.access(path, os.W_OK)
    except OSError:
        ok = False
    return Check("cache", ok, f"{path} (PORTICO_CACHE or XDG_CACHE_HOME to move it)" + ("" if ok else ": not writable"))


def run() -> list[Check]:
    return [_python(), _cache(), _go(), *_tools(), _schemas(), _docker()]
