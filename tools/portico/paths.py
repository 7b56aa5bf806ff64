"""Where Portico keeps what it builds and downloads: one cache dir per user, outside any repo.

`$PORTICO_CACHE` wins; else `$XDG_CACHE_HOME/portico`; else `~/.cache/portico`.
Stdlib only: `portico setup` runs before anything else is installed.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path


def cache_dir() -> Path:
    explicit = os.environ.get("PORTICO_CACHE")
    if explicit:
        return Path(explicit)
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg) if xdg else Path.home() / ".cache") / "portico"


def bin_dir() -> Path:
    """The pinned CLI tools (helm, kubeconform, ...)."""
    return cache_dir() / "bin"


def logs_dir() -> Path:
    path = cache_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def log_file(name: str) -> Path:
    return logs_dir() / f"{name}.log"


def data_path(*parts: str) -> Path:
    """A file shipped inside the package (pins, the renderer's Go source, the test app)."""
    return Path(str(resources.files("portico").joinpath("data", *parts)))
