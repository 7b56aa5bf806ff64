"""A throw-away Kubernetes API server on loopback: etcd and kube-apiserver only, no nodes.

Built from the pinned Kubernetes and etcd modules (the same builds the offline
cluster uses), started with a fresh data dir, a service-account key and a static
admin token, and stopped (processes and files) when the `with` block ends, also
on Ctrl-C and on failure. Ready in a few seconds.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from portico import wait
from portico.cluster import gobuild
from portico.errors import ToolError
from portico.net import LocalServer, free_port
from portico.paths import log_file
from portico.process import Process, Runner
from portico.toolchain.pins import load_versions

TOKEN = "portico-admission"  # only ever valid on this process's own loopback server


@dataclass(frozen=True)
class Binaries:
    apiserver: Path
    etcd: Path


def minor_of(version: str) -> str:
    return ".".join(version.lstrip("v").split(".")[:2])


def default_minor() -> str:
    return minor_of(load_versions()["KUBERNETES_VERSION"])


def available_minors() -> dict[str, str]:
    """Kubernetes minor -> the pinned patch version the admission stage can build a kube-apiserver of."""
    versions = load_versions()
    pinned = {minor_of(v): v for v in versions["ADMISSION_KUBERNETES_VERSIONS"].split(",") if v}
    pinned[minor_of(versions["KUBERNETES_VERSION"])] = versions["KUBERNETES_VERSION"]
    return pinned


def binaries(minor: str | None = None, log: Callable[[str], None] = lambda _m: None) -> Binaries:
    """kube-apiserver of that Kubernetes minor (default: the pinned one) and etcd, built when missing."""
    versions = load_versions()
    etcd = gobuild.build(gobuild.ETCD, versions, log)
    minor = minor or default_minor()
    if minor == default_minor():
        return Binaries(gobuild.build(gobuild.KUBERNETES, versions, log) / "kube-apiserver", etcd / "etcd")
    pinned = available_minors()
    if minor not in pinned:
        raise ToolError(f"no kube-apiserver pinned for Kubernetes {minor}; available: {', '.join(sorted(pinned))} "
                        f"(ADMISSION_KUBERNETES_VERSIONS)")
    key = f"ADMISSION_KUBERNETES_{minor.replace('.', '_')}"
    component = gobuild.kube_apiserver_component(key)
    return Binaries(gobuild.build(component, {**versions, key: pinned[minor]}, log) / "kube-apiserver", etcd / "etcd")


class LocalAPIServer(LocalServer):
    """`with LocalAPIServer() as server:` then server.url and server.token."""

    def __init__(self, bins: Binaries | None = None, startup_timeout: float = 60, minor: str | None = None):
        self.bins = bins
        self.minor = minor
        self.startup_timeout = startup_timeout
        self.runner = Runner()
        self.processes: list[Process] = []
        self.tmp: Path | None = None
        self.url = ""
        self.token = TOKEN

    def _start(self) -> None:
        bins = self.bins or binaries(self.minor)
        self.tmp = Path(tempfile.mkdtemp(prefix="portico-apiserver-"))
        key, pub = self.tmp / "sa.key", self.tmp / "sa.pub"
        self.runner.run(["openssl", "genrsa", "-out", key, "2048"], timeout=60, summary="openssl genrsa")
        self.runner.run(["openssl", "rsa", "-in", key, "-pubout", "-out", pub], timeout=60, summary="openssl rsa")
        (self.tmp / "tokens.csv").write_text(f"{TOKEN},portico,portico,system:masters\n")
        etcd_port, peer_port, api_port = free_port(), free_port(), free_port()
        etcd_url = f"http://127.0.0.1:{etcd_port}"
        self.processes.append(self.runner.start(
            [bins.etcd, "--data-dir", self.tmp / "etcd", "--listen-client-urls", etcd_url,
             "--advertise-client-urls", etcd_url, "--listen-peer-urls", f"http://127.0.0.1:{peer_port}",
             "--unsafe-no-fsync"], stderr_to=log_file("admission-etcd")))
        self.processes.append(self.runner.start(
            [bins.apiserver, "--etcd-servers", etcd_url, "--bind-address", "127.0.0.1", "--secure-port",
             str(api_port), "--cert-dir", self.tmp / "certs", "--token-auth-file", self.tmp / "tokens.csv",
             "--authorization-mode", "AlwaysAllow", "--service-account-key-file", pub,
             "--service-account-signing-key-file", key, "--service-account-issuer", "https://portico.local",
             "--service-cluster-ip-range", "10.96.0.0/16", "--enable-priority-and-fairness=false",
             # As kubeadm (and kind) clusters run: privileged pods are a Pod Security question, not a server one.
             "--allow-privileged=true"],
            stderr_to=log_file("admission-apiserver")))
        self.url = f"https://127.0.0.1:{api_port}"
        from portico.admission.client import Client

        client = Client(self.url, self.token)

        def ready() -> bool:
            for proc in self.processes:
                if proc.poll() is not None:
                    raise ToolError(f"{Path(proc.args[0]).name} exited: {proc.stderr_text()}")
            return client.ready()

        wait.until(ready, timeout=self.startup_timeout, interval=0.2, what="the local API server did not get ready",
                   detail=lambda: f"logs: {log_file('admission-apiserver')}, {log_file('admission-etcd')}")

    def stop(self) -> None:
        for proc in reversed(self.processes):
            proc.stop(grace=5)
        self.processes.clear()
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
