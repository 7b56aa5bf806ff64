"""Locate the pinned CLI tools that `make setup` installed."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from portico.errors import ToolError
from portico.toolchain import bin_dir


def tool_path(name: str) -> str:
    """Path of a pinned tool: the tools dir first, then PATH (PORTICO_<NAME> overrides)."""
    override = os.environ.get(f"PORTICO_{name.upper().replace('-', '_')}")
    if override:
        return override
    pinned = bin_dir() / name
    if pinned.exists():
        return str(pinned)
    found = shutil.which(name)
    if found:
        return found
    raise ToolError(f"{name} not found in {bin_dir()} or on PATH: run `make setup`")


def tools_env() -> dict[str, str]:
    """PATH with the tools dir and this venv's bin first (ct calls helm, yamllint, yamale by name)."""
    env = dict(os.environ)
    venv_bin = Path(sys.executable).parent
    env["PATH"] = os.pathsep.join([str(bin_dir()), str(venv_bin), env.get("PATH", "")])
    return env


def ensure_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
