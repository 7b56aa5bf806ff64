"""A throw-away OCI registry on loopback: the CNCF distribution registry (pinned, built by setup).

For release tests and for trying `portico release` before pushing anywhere real:
filesystem storage in a temporary directory, plain HTTP on 127.0.0.1, removed
when the `with` block ends.
"""

from __future__ import annotations

import shutil
import tempfile
import urllib.request
from pathlib import Path

import yaml

from portico import wait
from portico.errors import ToolError
from portico.net import LOOPBACK, LocalServer, free_port
from portico.paths import log_file
from portico.process import Process, Runner
from portico.toolchain.locate import tool_path


class LocalRegistry(LocalServer):
    """`with LocalRegistry() as reg:` then reg.host ("127.0.0.1:PORT") and reg.oci("charts")."""

    def __init__(self, port: int | None = None, startup_timeout: float = 30):
        self.port = port
        self.startup_timeout = startup_timeout
        self.tmp: Path | None = None
        self.process: Process | None = None

    @property
    def host(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    def oci(self, path: str = "charts") -> str:
        return f"oci://{self.host}/{path.strip('/')}"

    def _start(self) -> None:
        self.port = self.port or free_port()
        self.tmp = Path(tempfile.mkdtemp(prefix="portico-registry-"))
        config = self.tmp / "config.yml"
        config.write_text(yaml.safe_dump({
            "version": 0.1, "log": {"level": "warn"},
            "storage": {"filesystem": {"rootdirectory": str(self.tmp / "data")}, "delete": {"enabled": True}},
            "http": {"addr": self.host},
        }))
        self.process = Runner().start([tool_path("registry"), "serve", config], stderr_to=log_file("registry"))

        def ready() -> bool:
            if self.process is not None and self.process.poll() is not None:
                raise ToolError(f"registry exited: {self.process.stderr_text()}")
            with urllib.request.urlopen(f"http://{self.host}/v2/", timeout=2) as resp:
                return resp.status == 200

        wait.until(ready, timeout=self.startup_timeout, interval=0.2, what="the local registry did not get ready",
                   detail=lambda: f"log: {log_file('registry')}")

    def stop(self) -> None:
        if self.process is not None:
            self.process.stop(grace=5)
            self.process = None
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None
