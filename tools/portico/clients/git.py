"""git: the repository a chart lives in, and a chart as it was at another ref."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from portico.process import Runner, default_runner


@dataclass
class Git:
    binary: str = "git"
    runner: Runner = field(default_factory=default_runner)

    def toplevel(self, path: Path) -> Path | None:
        done = self.runner.run([self.binary, "-C", str(path), "rev-parse", "--show-toplevel"], check=False,
                               timeout=60)
        return Path(str(done.stdout).strip()) if done.ok else None

    def archive(self, root: Path, ref: str, path: Path) -> bytes:
        """A tar of `path` (relative to root) at `ref`; CommandError when the ref or path does not exist."""
        return bytes(self.runner.run([self.binary, "-C", str(root), "archive", "--format=tar", ref, str(path)],
                                     text=False, timeout=300, summary=f"git archive {ref} {path}").stdout)
