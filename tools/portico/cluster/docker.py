"""Docker helpers for building images without a registry or a Dockerfile builder.

Images are assembled from files with `docker import` (a FROM-scratch image is a
tarball plus a config), so no base image is ever pulled.
"""

from __future__ import annotations

import io
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from portico.errors import ToolError


def docker(*args: str, input: bytes | None = None, log: Path | None = None, check: bool = True,
           capture: bool = True) -> subprocess.CompletedProcess:
    try:
        proc = subprocess.run(["docker", *args], input=input, capture_output=capture)
    except FileNotFoundError as exc:
        raise ToolError("docker is not installed (on this sandbox: ci/sandbox/ensure-dockerd.sh)") from exc
    if log is not None and capture:
        with log.open("ab") as fh:
            fh.write(b"$ docker " + " ".join(args).encode() + b"\n" + (proc.stdout or b"")[-20000:]
                     + (proc.stderr or b"")[-20000:])
    if check and proc.returncode != 0:
        detail = (proc.stderr or b"").decode(errors="replace").strip()[-600:]
        where = f"; log: {log}" if log else ""
        raise ToolError(f"docker {args[0]} failed (exit {proc.returncode}): {detail}{where}")
    return proc


def require_daemon() -> None:
    proc = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True)
    if proc.returncode != 0:
        raise ToolError("cannot reach the Docker daemon: start dockerd (on this sandbox: "
                        "ci/sandbox/ensure-dockerd.sh, as root) or check DOCKER_HOST")


def image_exists(tag: str) -> bool:
    return docker("image", "inspect", tag, check=False).returncode == 0


@dataclass(frozen=True)
class FileEntry:
    path: str  # inside the image, absolute
    source: Path | None = None
    data: bytes | None = None
    mode: int = 0o755


def import_files(tag: str, entries: Sequence[FileEntry], *, entrypoint: Sequence[str] | None = None,
                 env: Iterable[str] = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",),
                 user: str | None = None, log: Path | None = None) -> None:
    """A FROM-scratch image holding just these files (directories are created)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        dirs = set()
        for entry in entries:
            parts = Path(entry.path.lstrip("/")).parts
            for i in range(1, len(parts)):
                d = "/".join(parts[:i])
                if d not in dirs:
                    info = tarfile.TarInfo(d)
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
                    dirs.add(d)
            data = entry.data if entry.data is not None else entry.source.read_bytes()
            info = tarfile.TarInfo(entry.path.lstrip("/"))
            info.size, info.mode = len(data), entry.mode
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("tmp")
        info.type, info.mode = tarfile.DIRTYPE, 0o1777
        tar.addfile(info)
    changes: list[str] = []
    for item in env:
        changes += ["--change", f"ENV {item}"]
    if entrypoint:
        quoted = ", ".join(f'"{part}"' for part in entrypoint)
        changes += ["--change", f"ENTRYPOINT [{quoted}]"]
    if user:
        changes += ["--change", f"USER {user}"]
    docker("import", *changes, "-", tag, input=buf.getvalue(), log=log)


def import_tarball(tag: str, tarball: Path, changes: Sequence[str], log: Path | None = None) -> None:
    args: list[str] = []
    for change in changes:
        args += ["--change", change]
    docker("import", *args, str(tarball), tag, log=log)
