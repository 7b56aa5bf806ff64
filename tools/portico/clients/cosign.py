"""cosign (optional, `portico setup cosign`): a key-pair signature on a pushed OCI artifact.

Offline by design here: no transparency log upload and no Fulcio certificate,
so it works against a private or loopback registry; keyless signing is left to
the user's own CI (cosign's defaults there).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from portico.errors import EXIT_FINDINGS
from portico.process import CommandError, Runner, default_runner, tail
from portico.toolchain.locate import tool_path


class CosignError(CommandError):
    """cosign refused to sign or verify: a failed check, in cosign's words."""

    exit_code = EXIT_FINDINGS

    def describe(self, stderr: str, stdout: str, log: Path | None) -> str:
        return f"{self.summary} failed: {tail(stderr) or f'exit {self.returncode}'}"


def image_ref(oci_repo: str, chart: str, digest: str) -> str:
    """oci://host/path + chart + sha256:... -> host/path/chart@sha256:..., what cosign addresses."""
    return f"{oci_repo.removeprefix('oci://').rstrip('/')}/{chart}@{digest}"


@dataclass
class Cosign:
    binary: str
    runner: Runner = field(default_factory=default_runner)

    @classmethod
    def pinned(cls) -> "Cosign":
        return cls(tool_path("cosign"))

    def _run(self, *args: str | Path, http: bool) -> str:
        argv = [self.binary, *args, *(["--allow-http-registry"] if http else [])]
        done = self.runner.run(argv, timeout=180, summary=f"cosign {args[0]}", failure=CosignError)
        return f"{done.stdout}{done.stderr}"

    def sign(self, ref: str, key: Path, *, http: bool = False) -> str:
        # COSIGN_PASSWORD comes from the environment, as cosign expects.
        return self._run("sign", "--key", key, "--tlog-upload=false", "--use-signing-config=false", "--yes", ref,
                         http=http)

    def verify(self, ref: str, public_key: Path, *, http: bool = False) -> str:
        return self._run("verify", "--key", public_key, "--insecure-ignore-tlog", ref, http=http)
