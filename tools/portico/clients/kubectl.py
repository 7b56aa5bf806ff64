"""kubectl against one kubeconfig: get, apply, rollout status, delete, run."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portico.process import Completed, Runner, default_runner
from portico.toolchain.locate import tool_path


@dataclass
class Kubectl:
    binary: str
    kubeconfig: Path | None = None
    runner: Runner = field(default_factory=default_runner)

    @classmethod
    def pinned(cls, kubeconfig: Path | None = None) -> "Kubectl":
        return cls(tool_path("kubectl"), kubeconfig)

    def run(self, *args: str, input: str | None = None, check: bool = True, timeout: float = 120) -> Completed:
        cfg = ["--kubeconfig", str(self.kubeconfig)] if self.kubeconfig else []
        return self.runner.run([self.binary, *cfg, *args], input=input, check=check, timeout=timeout,
                               summary=f"kubectl {' '.join(args[:3])}")

    def get(self, *args: str, namespace: str | None = None, check: bool = True) -> dict[str, Any]:
        """`kubectl get ... -o json`, parsed; {"items": []} when it fails and check is off."""
        ns = ["-n", namespace] if namespace else []
        done = self.run(*ns, "get", *args, "-o", "json", check=check)
        return json.loads(done.stdout) if done.ok and done.stdout else {"items": []}

    def names(self, *args: str, namespace: str | None = None) -> list[str]:
        ns = ["-n", namespace] if namespace else []
        return str(self.run(*ns, "get", *args, "-o", "name").stdout).split()

    def apply(self, manifest: str | Path, *, server_side: bool = False, check: bool = True) -> Completed:
        args = ["apply", *(["--server-side", "--force-conflicts"] if server_side else [])]
        if isinstance(manifest, Path):
            return self.run(*args, "-f", str(manifest), check=check)
        return self.run(*args, "-f", "-", input=manifest, check=check)

    def rollout_status(self, namespace: str, target: str, timeout: int = 180) -> Completed:
        return self.run("-n", namespace, "rollout", "status", target, f"--timeout={timeout}s", check=False,
                        timeout=timeout + 30)

    def delete_namespace(self, namespace: str, wait: bool = False) -> None:
        self.run("delete", "namespace", namespace, f"--wait={str(wait).lower()}", "--timeout=120s",
                 "--ignore-not-found", check=False, timeout=150)
