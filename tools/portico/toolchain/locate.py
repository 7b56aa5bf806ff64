"""Find a pinned tool: `PORTICO_<TOOL>` override, the tools dir, then PATH at the pinned version."""

from __future__ import annotations

import os
import shutil
import sys
from functools import lru_cache
from pathlib import Path

from portico.errors import ToolError
from portico.paths import bin_dir


def override_var(name: str) -> str:
    return f"PORTICO_{name.upper().replace('-', '_')}"


@lru_cache(maxsize=None)
def tool_path(name: str) -> str:
    """Path of a pinned tool. A binary found only on PATH must report the pinned version."""
    override = os.environ.get(override_var(name))
    if override:
        return override
    pinned = bin_dir() / name
    if pinned.exists():
        return str(pinned)
    found = shutil.which(name)
    if found is None:
        raise ToolError(f"{name} not found in {bin_dir()} or on PATH: run `portico setup`")
    _check_path_version(name, found)
    return found


def _check_path_version(name: str, found: str) -> None:
    from portico.toolchain.catalog import TOOLS
    from portico.toolchain.install import reported_version, same_version
    from portico.toolchain.pins import load_versions

    tool = next((t for t in TOOLS if t.name == name), None)
    if tool is None:
        return
    pinned = tool.version(load_versions())
    got = reported_version(found, tool)
    if not same_version(got, pinned):
        raise ToolError(f"{name} on PATH ({found}) is {got or 'of unknown version'}, Portico pins {pinned}: run "
                        f"`portico setup`, or point {override_var(name)} at a binary to use it anyway")


def tools_path_prefix() -> list[str]:
    """The tools dir and this interpreter's bin dir (ct calls helm, yamllint, yamale by name)."""
    return [str(bin_dir()), str(Path(sys.executable).parent)]


def tools_env() -> dict[str, str]:
    """This process's environment with the tools dir first on PATH, for tools that call others by name."""
    return {**os.environ, "PATH": os.pathsep.join([*tools_path_prefix(), os.environ.get("PATH", "")])}
