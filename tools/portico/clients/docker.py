"""docker: images assembled from files with `docker import` (no registry, no Dockerfile builder)."""

from __future__ import annotations

import io
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from portico.errors import ToolError
from portico.process import Completed, Runner, default_runner


@dataclass(frozen=True)
class FileEntry:
    path: str  # inside the image, absolute
    source: Path | None = None
    data: bytes | None = None
    mode: int = 0o755


@dataclass
class Docker:
    binary: str = "docker"
    runner: Runner = field(default_factory=default_runner)

    def run(self, *args: str, input: bytes | None = None, log: Path | None = None, check: bool = True,
            timeout: float = 1800) -> Completed:
        """Binary output (images, tarballs); with `log`, output goes to that file."""
        if log is not None and input is None:
            return self.runner.run([self.binary, *args], log_to=log, check=check, timeout=timeout,
                                   summary=f"docker {args[0]}")
        return self.runner.run([self.binary, *args], input=input, check=check, text=False, timeout=timeout,
                               summary=f"docker {args[0]}", )

    def require_daemon(self) -> None:
        done = self.run("info", "--format", "{{.ServerVersion}}", check=False, timeout=60)
        if not done.ok:
            raise ToolError("cannot reach the Docker daemon: start dockerd (on this project's sandbox: "
                            "ci/sandbox/ensure-dockerd.sh, as root) or check DOCKER_HOST")

    def image_exists(self, tag: str) -> bool:
        return self.run("image", "inspect", tag, check=False, timeout=60).ok

    def save(self, image: str) -> bytes:
        return bytes(self.run("save", image).stdout)

    def import_files(self, tag: str, entries: Sequence[FileEntry], *, entrypoint: Sequence[str] | None = None,
                     env: Iterable[str] = ("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",),
                     user: str | None = None) -> None:
        """A FROM-scratch image holding just these files (directories are created)."""
        changes: list[str] = [f"ENV {item}" for item in env]
        if entrypoint:
            changes.append("ENTRYPOINT [" + ", ".join(f'"{part}"' for part in entrypoint) + "]")
        if user:
            changes.append(f"USER {user}")
        args = [arg for change in changes for arg in ("--change", change)]
        self.run("import", *args, "-", tag, input=_tarball(entries))

    def import_tarball(self, tag: str, tarball: Path, changes: Sequence[str], log: Path | None = None) -> None:
        args = [arg for change in changes for arg in ("--change", change)]
        self.run("import", *args, str(tarball), tag, log=log)

    def build_from(self, tag: str, base: str, instructions: Sequence[str]) -> None:
        """An image of `base` with Dockerfile instructions and no build context (`docker import --change`
        takes only some of them: no STOPSIGNAL)."""
        dockerfile = "\n".join([f"FROM {base}", *instructions]) + "\n"
        self.run("build", "--quiet", "--tag", tag, "-", input=dockerfile.encode())


def _tarball(entries: Sequence[FileEntry]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        dirs: set[str] = set()
        for entry in entries:
            parts = Path(entry.path.lstrip("/")).parts
            for i in range(1, len(parts)):
                directory = "/".join(parts[:i])
                if directory not in dirs:
                    info = tarfile.TarInfo(directory)
                    info.type, info.mode = tarfile.DIRTYPE, 0o755
                    tar.addfile(info)
                    dirs.add(directory)
            data = entry.data if entry.data is not None else entry.source.read_bytes()
            info = tarfile.TarInfo(entry.path.lstrip("/"))
            info.size, info.mode = len(data), entry.mode
            tar.addfile(info, io.BytesIO(data))
        info = tarfile.TarInfo("tmp")
        info.type, info.mode = tarfile.DIRTYPE, 0o1777
        tar.addfile(info)
    return buf.getvalue()
