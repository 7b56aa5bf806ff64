"""vegeta: open-loop HTTP load at a constant rate, every request recorded.

Why vegeta (github.com/tsenart/vegeta, pinned as VEGETA_VERSION and built from
its Go module like the other tools): its pacer sends on schedule whatever the
responses do, adding workers as requests stall, so a stall shows up as failed or
slow requests instead of requests never sent (no coordinated omission); each
result keeps its timestamp, latency, status, error and response headers.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator

from portico.errors import ToolError
from portico.process import Process, Runner, default_runner
from portico.toolchain.locate import tool_path


@dataclass(frozen=True)
class Attack:
    url: str  # only 127.0.0.1 or addresses of pods and containers the caller created
    rate: float  # requests per second
    duration: float  # seconds: the attack's own bound
    keepalive: bool = True
    host: str | None = None  # Host header (Ingress / HTTPRoute routing)
    timeout: float = 5.0
    # Bounds the connections a stall piles up (each worker holds one): a proxy in front of the app has a
    # file-descriptor limit too, and Docker's port proxy stops for good when it runs out.
    max_workers: int = 1000
    # POST is never replayed: Go's transport silently resends an idempotent GET whose reused connection broke,
    # which would hide exactly the broken kept-alive connections a zero-downtime check looks for.
    method: str = "GET"
    # Idle kept-alive connections vegeta keeps per host (-connections; its default is 10,000). Go's pool hands
    # out the newest idle connection first, so in a deep pool the oldest sit idle for minutes; a draining server
    # closes those at the end of its drain, and a request sent in the same instant fails (HTTP/1.1's keep-alive
    # race, RFC 9112 9.3.1: a client may not resend a POST). With one, the pooled connection carries every
    # request and gets the draining server's "Connection: close"; connections a burst opens close after use.
    max_idle: int = 1
    # The source address vegeta binds before each connect (vegeta's -laddr): a fresh connection per request
    # leaves one TIME_WAIT socket per request for 60 s, and a bind takes a port free on that address.
    source: str = "0.0.0.0"


@dataclass(frozen=True)
class Result:
    timestamp: float  # epoch seconds the request was sent
    latency: float  # seconds
    code: int  # 0 when no response came
    error: str  # vegeta's error text; "" on success
    headers: dict[str, list[str]]


def attack_args(attack: Attack) -> list[str]:
    """`vegeta attack` and its flags for one attack (the target comes on stdin: target_line)."""
    return ["attack", f"-rate={round(attack.rate * 1000)}/1000s", f"-duration={attack.duration:g}s",
            f"-keepalive={str(attack.keepalive).lower()}", f"-timeout={attack.timeout:g}s", "-http2=false",
            "-max-body=0", f"-max-workers={attack.max_workers}", f"-connections={attack.max_idle}"]


def target_line(attack: Attack) -> str:
    return f"{attack.method} {attack.url}\n" + (f"Host: {attack.host}\n" if attack.host else "")


def epoch(stamp: str) -> float:
    # RFC 3339 with nanoseconds; datetime takes microseconds.
    head, _, frac = stamp.partition(".")
    if frac:
        digits = "".join(c for c in frac if c.isdigit())
        zone = frac[len(digits):]
        stamp = f"{head}.{digits[:6]}{zone}"
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()


@dataclass
class Vegeta:
    binary: str
    runner: Runner = field(default_factory=default_runner)

    @classmethod
    def pinned(cls) -> "Vegeta":
        return cls(tool_path("vegeta"))

    def start(self, attack: Attack, output: Path) -> Process:
        """Start the attack in the background; `stop(process)` ends it early, its results stay in `output`."""
        process = self.runner.start([self.binary, *attack_args(attack), f"-laddr={attack.source}", f"-output={output}"],
                                    stdin=True, stderr_to=output.with_suffix(".log"))
        process.feed(target_line(attack))
        return process

    @staticmethod
    def interrupt(process: Process) -> None:
        """SIGINT, vegeta's graceful stop: no more sending; requests in flight finish and are written."""
        process.interrupt()

    @staticmethod
    def stop(process: Process, timeout: float = 15.0) -> None:
        """Interrupt the attack and wait until its results are written."""
        process.finish_interrupted(timeout, (0,), "vegeta attack")

    def results(self, output: Path) -> Iterator[Result]:
        """Every request of a finished attack, in the order vegeta recorded them."""
        done = self.runner.run([self.binary, "encode", "--to=json", output], timeout=300, summary="vegeta encode")
        for line in str(done.stdout).splitlines():
            if not line.strip():
                continue
            raw = json.loads(line)
            yield Result(timestamp=epoch(raw["timestamp"]), latency=raw["latency"] / 1e9, code=raw["code"],
                         error=raw.get("error") or "", headers=raw.get("headers") or {})


POD_IMAGE_REPOSITORY = "portico.local/vegeta"


def restricted(container: str) -> dict:
    """A pod spec patch that meets the Pod Security "restricted" level, so a namespace enforcing it admits
    the load pod (kubectl run names the container after the pod)."""
    return {"spec": {"securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
                     "containers": [{"name": container, "securityContext": {
                         "allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}}}]}}


def pod_image(version: str) -> str:
    """The in-cluster load image `portico cluster up` builds and loads (the pinned vegeta, FROM scratch)."""
    return f"{POD_IMAGE_REPOSITORY}:{version}"


@dataclass
class PodVegeta:
    """The same attack from a pod inside the cluster: what a ClusterIP Service's clients see (nothing outside
    reaches it). The pod runs the pinned vegeta (an image FROM scratch holding the same binary, `image`);
    `kubectl run -i` hands it the target on stdin, so it starts only once attached, and streams its binary
    results back on stdout (attach, not logs: nothing lost or mangled). Deleting the pod sends SIGTERM, which
    vegeta takes as its graceful stop (requests in flight finish and are written). The local vegeta decodes."""

    kubectl: str  # the kubectl binary
    kubeconfig: Path | None
    namespace: str
    image: str
    local: Vegeta
    runner: Runner = field(default_factory=default_runner)
    _pods: dict[int, tuple[str, Path]] = field(default_factory=dict)  # pid of kubectl run -> (pod, output)

    def _kubectl(self, *args: str) -> list[str]:
        return [self.kubectl, *(["--kubeconfig", str(self.kubeconfig)] if self.kubeconfig else []),
                "--namespace", self.namespace, *args]

    def start(self, attack: Attack, output: Path) -> Process:
        pod = f"portico-load-{uuid.uuid4().hex[:10]}"
        process = self.runner.start(
            self._kubectl("run", pod, f"--image={self.image}", "--image-pull-policy=IfNotPresent",
                          "--restart=Never", "--stdin", "--quiet", "--labels=app.kubernetes.io/name=portico-load",
                          "--override-type=strategic", f"--overrides={json.dumps(restricted(pod))}",
                          "--", *attack_args(attack)),
            stdin=True, text=False, stdout_to=output, stderr_to=output.with_suffix(".log"))
        process.feed(target_line(attack).encode())
        self._pods[process.pid] = (pod, output)
        return process

    def interrupt(self, process: Process) -> None:
        pod, _ = self._pods[process.pid]
        if process.poll() is None:
            self.runner.run(self._kubectl("delete", "pod", pod, "--wait=false", "--ignore-not-found"),
                            check=False, timeout=60, summary="kubectl delete pod")

    def stop(self, process: Process, timeout: float = 15.0) -> None:
        """Delete the pod and wait until its results have come back (the attach ends when vegeta exits)."""
        pod, output = self._pods[process.pid]
        self.interrupt(process)
        code = process.wait(timeout + 30)  # the kubelet's SIGTERM takes a moment more than a local signal
        # kubectl run may exit 1 after a complete stream: it waits for the pod to complete, and we deleted it.
        # The stream itself tells: empty means vegeta never ran; a cut one fails `vegeta encode`.
        if code != 0 and not (output.exists() and output.stat().st_size):
            raise ToolError(f"vegeta attack in pod {pod} (namespace {self.namespace}) "
                            f"exited {code} with no results: {process.stderr_text()}")

    def results(self, output: Path) -> Iterator[Result]:
        return self.local.results(output)
