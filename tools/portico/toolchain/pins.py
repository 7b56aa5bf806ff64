"""The pinned versions: one KEY=VALUE file shipped with the package (data/versions.env)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from portico.errors import ToolError
from portico.paths import data_path


class ToolchainError(ToolError):
    """A tool could not be installed or found; the message says what is missing."""


def versions_file() -> Path:
    return data_path("versions.env")


def load_versions(path: Path | None = None) -> dict[str, str]:
    return dict(_load(path or versions_file()))


@lru_cache(maxsize=4)
def _load(path: Path) -> tuple[tuple[str, str], ...]:
    versions: list[tuple[str, str]] = []
    for lineno, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Z0-9_]+", key) or not value or " " in value:
            raise ToolchainError(f"{path}:{lineno}: expected KEY=VALUE, got {raw!r}")
        versions.append((key, value))
    return tuple(versions)
