"""Official release downloads, verified against the checksum file each release publishes."""

from __future__ import annotations

import hashlib
import io
import platform
import re
import tarfile
import urllib.request
from pathlib import Path

from portico.files import write_atomic
from portico.toolchain.catalog import Tool
from portico.toolchain.pins import ToolchainError

DOWNLOAD_TIMEOUT_S = 20


def goarch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)


def fmt(template: str, version: str) -> str:
    """{v} version, {vnum} without the v, {os}, {arch} as Go names it, {machine} as uname does (x86_64)."""
    arch = goarch()
    return template.format(v=version, vnum=version.lstrip("v"), os="linux", arch=arch,
                           machine={"amd64": "x86_64"}.get(arch, arch))


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp:  # noqa: S310 (https only)
        return resp.read()


def expected_sha(checksum_text: str, filename: str) -> str:
    for line in checksum_text.splitlines():
        parts = line.split()
        if len(parts) == 1 and re.fullmatch(r"[0-9a-f]{64}", parts[0]):
            return parts[0]
        if len(parts) >= 2 and parts[-1].lstrip("*").endswith(filename):
            return parts[0]
    raise ToolchainError(f"no checksum for {filename} in the release's checksum file")


def install_release(tool: Tool, version: str, dest: Path) -> None:
    """Download, verify and install one tool; raises URLError/OSError when unreachable."""
    assert tool.release is not None
    url = fmt(tool.release.url, version)
    payload = fetch(url)
    expected = expected_sha(fetch(fmt(tool.release.checksum_url, version)).decode(), url.rsplit("/", 1)[1])
    actual = hashlib.sha256(payload).hexdigest()
    if actual != expected:
        raise ToolchainError(f"checksum mismatch for {url}: expected {expected}, got {actual}")
    if tool.release.member is None:
        binary = payload
    else:
        member = fmt(tool.release.member, version)
        with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
            extracted = tar.extractfile(member)
            if extracted is None:
                raise ToolchainError(f"{url} has no member {member}")
            binary = extracted.read()
    write_atomic(dest, binary, mode=0o755)
