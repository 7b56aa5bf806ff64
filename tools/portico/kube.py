"""One cluster, as Portico talks to it: helm and kubectl for what users run, lightkube for watches and waits."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Sequence

from portico.clients.helm import Helm
from portico.clients.kubectl import Kubectl


@dataclass
class Cluster:
    kubeconfig: Path | None = None  # None: $KUBECONFIG / ~/.kube/config
    helm_binary: str = "helm"  # helm (4) or helm3
    _api: object | None = field(default=None, repr=False)

    @cached_property
    def helm(self) -> Helm:
        return Helm.pinned(self.helm_binary, self.kubeconfig)

    @cached_property
    def kubectl(self) -> Kubectl:
        return Kubectl.pinned(self.kubeconfig)

    @property
    def api(self):
        """A lightkube Client (typed, with watch and wait) on the same kubeconfig."""
        if self._api is None:
            from lightkube import Client, KubeConfig

            config = KubeConfig.from_file(self.kubeconfig) if self.kubeconfig else KubeConfig.from_env()
            self._api = Client(config, field_manager="portico")
        return self._api

    def install(self, release: str, chart: Path | str, namespace: str, layers: Sequence[dict] = (),
                timeout: str = "300s") -> None:
        self.helm.install_or_upgrade(release, chart, namespace, layers, install=True, timeout=timeout)

    def upgrade(self, release: str, chart: Path | str, namespace: str, layers: Sequence[dict] = (),
                timeout: str = "300s", extra: Sequence[str] = ()) -> None:
        self.helm.install_or_upgrade(release, chart, namespace, layers, install=False, timeout=timeout, extra=extra)

    def wait_nodes_ready(self, timeout: float = 180) -> None:
        from portico import wait

        def ready() -> bool:
            nodes = self.kubectl.get("nodes")["items"]
            return bool(nodes) and all(
                any(c["type"] == "Ready" and c["status"] == "True" for c in n["status"].get("conditions", []))
                for n in nodes)

        wait.until(ready, timeout=timeout, interval=2, what="nodes not Ready",
                   detail=lambda: str(self.kubectl.run("describe", "nodes", check=False).stdout)[-1500:])
