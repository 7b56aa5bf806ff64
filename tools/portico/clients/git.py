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
        done = self._in(path, "rev-parse", "--show-toplevel", check=False)
        return Path(str(done.stdout).strip()) if done.ok else None

    def archive(self, root: Path, ref: str, path: Path) -> bytes:
        """A tar of `path` (relative to root) at `ref`; CommandError when the ref or path does not exist."""
        return bytes(self.runner.run([self.binary, "-C", str(root), "archive", "--format=tar", ref, str(path)],
                                     text=False, timeout=300, summary=f"git archive {ref} {path}").stdout)

    def _in(self, path: Path, *args: str, check: bool = True):
        return self.runner.run([self.binary, "-C", str(path), *args], check=check, timeout=120,
                               summary=f"git {args[0]}")

    def merged_tags(self, path: Path, pattern: str) -> list[str]:
        """Tags matching the glob that are reachable from HEAD (none in a repository without tags)."""
        done = self._in(path, "tag", "--list", pattern, "--merged", "HEAD", check=False)
        return str(done.stdout).split() if done.ok else []

    def show(self, path: Path, ref: str, name: str) -> str | None:
        """The file `name` (relative to `path`) as it was at `ref`; None when it did not exist there."""
        done = self._in(path, "show", f"{ref}:./{name}", check=False)
        return str(done.stdout) if done.ok else None

    def changed_files(self, path: Path, base: str) -> list[str]:
        """Files under `path` that differ between `base` and the working tree (committed or not)."""
        done = self._in(path, "diff", "--name-only", "--relative", base, "--", ".")
        untracked = self._in(path, "ls-files", "--others", "--exclude-standard", "--", ".")
        return sorted(set(str(done.stdout).split()) | set(str(untracked.stdout).split()))

    def commits_touching(self, path: Path, name: str) -> list[str]:
        """Commits that changed `name` (relative to `path`), newest first; [] outside a repository."""
        done = self._in(path, "log", "--format=%H", "--", name, check=False)
        return str(done.stdout).split() if done.ok else []

    def resolves(self, path: Path, ref: str) -> bool:
        return self._in(path, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}", check=False).ok

    def merge_base(self, path: Path, ref: str, other: str = "HEAD") -> str | None:
        """The commit `ref` and `other` share last; None when they share none (or a ref is unknown)."""
        done = self._in(path, "merge-base", ref, other, check=False)
        return str(done.stdout).strip() if done.ok else None

    def current_branch(self, path: Path) -> str | None:
        done = self._in(path, "rev-parse", "--abbrev-ref", "HEAD", check=False)
        return str(done.stdout).strip() if done.ok else None

    def tag(self, path: Path, name: str, message: str) -> None:
        self._in(path, "tag", "-a", name, "-m", message)
