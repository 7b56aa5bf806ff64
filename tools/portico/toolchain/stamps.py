"""What the tools dir holds and how it got there: a small JSON file beside the binaries."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from portico.files import write_atomic
from portico.paths import bin_dir


def _path() -> Path:
    return bin_dir() / ".portico-stamps.json"


def read() -> dict[str, dict[str, str]]:
    try:
        return json.loads(_path().read_text())
    except (OSError, ValueError):
        return {}


def write(name: str, version: str, how: str, recipe: str) -> None:
    stamps = read()
    stamps[name] = {"version": version, "how": how, "sha256": sha256_file(bin_dir() / name), "recipe": recipe}
    write_atomic(_path(), json.dumps(stamps, indent=2, sort_keys=True))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.resolve().open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def matches(name: str, version: str, recipe: str | None = None) -> bool:
    """True when the tools dir holds exactly what was installed for this pin (and build recipe)."""
    binary = bin_dir() / name
    stamp = read().get(name)
    if not binary.exists() or not stamp or stamp.get("version") != version:
        return False
    if recipe is not None and stamp.get("recipe") != recipe:
        return False
    return stamp.get("sha256") == sha256_file(binary)


def source_digest(src: Path) -> str:
    """Digest of a Go package directory's sources (.go, go.mod, go.sum, and patched helm files below it)."""
    digest = hashlib.sha256()
    for path in sorted(src.rglob("*")):
        if path.suffix in (".go", ".mod", ".sum", ".overlay") or path.name == "SOURCES":
            digest.update(str(path.relative_to(src)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]
