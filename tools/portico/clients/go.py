"""The Go toolchain: module downloads and builds."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping, Sequence

from portico.errors import ToolError
from portico.process import Runner, default_runner


@dataclass
class Go:
    binary: str = "go"
    runner: Runner = field(default_factory=default_runner)

    def run(self, args: Sequence[str | Path], *, cwd: Path | None = None, env: Mapping[str, str] | None = None,
            log: Path | None = None, timeout: float = 3600) -> None:
        """A build step; its output goes to `log` (the error message points there)."""
        self.runner.run([self.binary, *args], cwd=cwd, env=env, log_to=log, timeout=timeout)

    def build(self, package_dir: Path, output: Path, *, ldflags: str = "", env: Mapping[str, str] | None = None,
              log: Path | None = None, extra: Sequence[str] = ()) -> None:
        args: list[str | Path] = ["build", *extra, "-o", output]
        if ldflags:
            args += ["-ldflags", ldflags]
        self.run([*args, "."], cwd=package_dir, env=env, log=log)

    def mod_download(self, module: str, version: str, env: Mapping[str, str] | None = None) -> dict:
        """`go mod download -json`: the module's Dir, GoMod and Sum."""
        done = self.runner.run([self.binary, "mod", "download", "-json", f"{module}@{version}"], cwd="/", env=env,
                               check=False, timeout=1800)
        try:
            info = json.loads(done.stdout)
        except ValueError:
            info = {"Error": str(done.stderr).strip()}
        if not done.ok or "Dir" not in info:
            raise ToolError(f"go mod download {module}@{version} failed: {info.get('Error', '')}".strip())
        return info

    def version(self) -> str:
        return str(self.runner.run([self.binary, "env", "GOVERSION"], timeout=60).stdout).strip()
