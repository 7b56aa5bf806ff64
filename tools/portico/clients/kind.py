"""kind: create, delete and list clusters, load images, export logs."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from portico.errors import ToolError
from portico.process import Completed, Runner
from portico.toolchain.locate import tool_path, tools_path_prefix


@dataclass
class Kind:
    binary: str
    runner: Runner = field(default_factory=lambda: Runner(path_prefix=tools_path_prefix()))

    @classmethod
    def pinned(cls) -> "Kind":
        return cls(tool_path("kind"))

    def run(self, *args: str, check: bool = True, timeout: float = 900) -> Completed:
        return self.runner.run([self.binary, *args], check=check, timeout=timeout, summary=f"kind {args[0]}")

    def clusters(self) -> list[str]:
        return str(self.run("get", "clusters").stdout).split()

    def create(self, name: str, config: Path, kubeconfig: Path, *, logs: Path) -> None:
        """Create the cluster; when that fails, the nodes' logs go to `logs` and the error says where."""
        done = self.run("create", "cluster", "--name", name, "--config", str(config), "--kubeconfig",
                        str(kubeconfig), "--wait", "0s", check=False)
        if not done.ok:
            self.export_logs(name, logs)
            raise ToolError(f"kind create cluster {name} failed: {str(done.stderr).strip()[-1200:]} "
                            f"(node logs: {logs})")

    def delete(self, name: str) -> None:
        self.run("delete", "cluster", "--name", name)

    def export_kubeconfig(self, name: str, kubeconfig: Path) -> None:
        self.run("export", "kubeconfig", "--name", name, "--kubeconfig", str(kubeconfig))

    def export_logs(self, name: str, directory: Path) -> None:
        self.run("export", "logs", str(directory), "--name", name, check=False)

    def load_image(self, name: str, tag: str) -> None:
        self.run("load", "docker-image", tag, "--name", name)
