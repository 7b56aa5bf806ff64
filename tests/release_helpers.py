"""Real signing keys, real packages and a real OCI registry for the release tests.

A throw-away GnuPG key (no passphrase) in a temporary GNUPGHOME, exported in the
legacy keyring format helm reads; the CNCF distribution registry on 127.0.0.1.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tarfile
from dataclasses import dataclass
from pathlib import Path

import yaml

from portico.clients.helm import Helm
from tests.conftest import CHART


@dataclass(frozen=True)
class Key:
    name: str
    secring: Path
    pubring: Path


def make_key(home: Path, name: str) -> Key:
    home.mkdir(parents=True, exist_ok=True, mode=0o700)
    env = {**os.environ, "GNUPGHOME": str(home)}

    def gpg(*args: str, out: Path | None = None) -> None:
        done = subprocess.run(["gpg", "--batch", *args], env=env, capture_output=True, check=True)
        if out is not None:
            out.write_bytes(done.stdout)

    gpg("--pinentry-mode", "loopback", "--passphrase", "", "--quick-gen-key", f"{name} <{name}@portico.invalid>",
        "ed25519", "sign", "1d")
    key = Key(name, home / "secring.gpg", home / "pubring.gpg")
    gpg("--export-secret-keys", out=key.secring)
    gpg("--export", out=key.pubring)
    # gpg started an agent for this GNUPGHOME; without this it outlives the test run, one per key.
    subprocess.run(["gpgconf", "--kill", "gpg-agent"], env=env, capture_output=True, check=False)
    return key


def chart_copy(dest: Path, version: str, chart: Path = CHART) -> Path:
    """The chart with another version (its CHANGELOG and Artifact Hub changes in step)."""
    copy = dest / f"portico-{version}" / "portico"
    shutil.copytree(chart, copy)
    meta = yaml.safe_load((copy / "Chart.yaml").read_text())
    meta["version"] = version
    (copy / "Chart.yaml").write_text(yaml.safe_dump(meta, sort_keys=False))
    log = copy / "CHANGELOG.md"
    log.write_text(log.read_text().replace("## [", f"## [{version}] - 2026-12-01\n\n### Changed\n- Test.\n\n## [", 1))
    return copy


def tamper(package: Path, dest: Path) -> Path:
    """The same package, one template changed after signing, its original .prov beside it."""
    work = dest / "unpacked"
    with tarfile.open(package) as tar:
        tar.extractall(work, filter="data")
    notes = work / "portico" / "templates" / "NOTES.txt"
    notes.write_text(notes.read_text() + "\n{{/* changed after signing */}}\n")
    out = dest / package.name
    with tarfile.open(out, "w:gz") as tar:
        tar.add(work / "portico", arcname="portico")
    shutil.copy(f"{package}.prov", f"{out}.prov")
    return out


def pull(helm: Helm, ref: str, version: str, keyring: Path, dest: Path):
    """helm pull --verify, the completed process (not raising)."""
    dest.mkdir(parents=True, exist_ok=True)
    return helm.runner.run([helm.binary, "pull", ref, "--version", version, "--plain-http", "--verify",
                            "--keyring", str(keyring), "--destination", str(dest)], check=False, timeout=120)
