"""Files portico writes: whole-or-nothing files, and output directories it owns and nothing else.

Stdlib only: the toolchain uses it before anything else is installed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

from portico.errors import InputError

OWNER_MARKER = ".portico-output"


def write_atomic(path: Path, data: str | bytes, mode: int | None = None) -> None:
    """Write through a sibling temp file of a name of its own and rename, creating the directory: a reader sees
    the old file or the new one, never half of one, and two processes writing the same path at once (a shared
    cache) each rename a whole file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(name)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data if isinstance(data, bytes) else data.encode())
        tmp.chmod(mode if mode is not None else 0o644)
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


class OutputDir:
    """A directory portico fills: new, empty, or one it marked as its own on an earlier run.

    Anything else is refused before any work starts, so a typo in `-o` never
    deletes a user's files. Content is built in a staging directory beside it
    and moved in only when complete.
    """

    def __init__(self, path: Path, *, flag: str = "-o"):
        self.path = Path(os.path.abspath(path))
        self.flag = flag
        self._check()

    def _check(self) -> None:
        if self.path.exists() and not self.path.is_dir():
            raise InputError(f"{self.path} exists and is not a directory", source=self.flag)
        if self.path.is_dir() and any(self.path.iterdir()) and not (self.path / OWNER_MARKER).exists():
            raise InputError(f"{self.path} is not empty and was not written by portico; refusing to replace what is "
                             f"there: give a new or empty directory", source=self.flag)

    def staging(self) -> Path:
        """A fresh directory to build the content in (same file system, so moves are renames)."""
        parent = self.path.parent
        missing = [p for p in (parent, *parent.parents) if not p.exists()]
        parent.mkdir(parents=True, exist_ok=True)
        self._created = missing  # removed again by discard(), when they stay empty
        return Path(tempfile.mkdtemp(prefix=f".{self.path.name or 'out'}.portico-partial-", dir=parent))

    def commit(self, staging: Path) -> Path:
        """Replace what portico wrote earlier with the staged content."""
        (staging / OWNER_MARKER).write_text("written by portico; its next run may replace this directory\n")
        self._check()
        self.path.mkdir(parents=True, exist_ok=True)
        for entry in list(self.path.iterdir()):
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry)
            else:
                entry.unlink()
        for entry in list(staging.iterdir()):
            entry.rename(self.path / entry.name)
        staging.rmdir()
        return self.path

    def discard(self, staging: Path) -> None:
        shutil.rmtree(staging, ignore_errors=True)
        for directory in getattr(self, "_created", []):
            try:
                directory.rmdir()
            except OSError:
                break
