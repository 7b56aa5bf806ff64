"""Whole-or-nothing file writes (stdlib only: the toolchain uses it before the venv exists)."""

from __future__ import annotations

from pathlib import Path


def write_atomic(path: Path, data: str | bytes, mode: int | None = None) -> None:
    """Write through a sibling temp file and rename, creating the directory."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    if isinstance(data, bytes):
        tmp.write_bytes(data)
    else:
        tmp.write_text(data)
    if mode is not None:
        tmp.chmod(mode)
    tmp.replace(path)
