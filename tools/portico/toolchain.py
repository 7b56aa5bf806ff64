"""Install the pinned CLI tools into a tools dir outside the repo.

Stdlib only: `make setup` runs this before the virtualenv exists
(``python3 -m portico.toolchain install`` with ``PYTHONPATH=tools``).

For each tool, in order:
1. the tools dir already holds it at the pinned version -> nothing to do;
2. a binary on PATH reports the pinned version -> link it;
3. the official release download, verified against the release's checksum;
4. ``go install`` from the Go module proxy (through a wrapper module when the
   tool's own go.mod carries replace directives that `go install` refuses).
One line per tool says which of these happened.
"""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Callable

from portico.errors import ToolError
from portico.files import write_atomic

REPO_ROOT = Path(__file__).resolve().parents[2]
VERSIONS_FILE = REPO_ROOT / "tools" / "versions.env"
DOWNLOAD_TIMEOUT_S = 20


class ToolchainError(ToolError):
    """A tool could not be installed; the message says what is missing."""


def cache_dir() -> Path:
    return Path(os.environ.get("PORTICO_CACHE", Path.home() / ".cache" / "portico"))


def bin_dir() -> Path:
    return cache_dir() / "bin"


def load_versions(path: Path = VERSIONS_FILE) -> dict[str, str]:
    versions: dict[str, str] = {}
    for lineno, raw in enumerate(path.read_text().splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = line.partition("=")
        if not sep or not re.fullmatch(r"[A-Z0-9_]+", key) or not value or " " in value:
            raise ToolchainError(f"{path}:{lineno}: expected KEY=VALUE, got {raw!r}")
        versions[key] = value
    return versions


def _goarch() -> str:
    machine = platform.machine().lower()
    return {"x86_64": "amd64", "amd64": "amd64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)


@dataclasses.dataclass(frozen=True)
class Release:
    """Where a tool's official release lives and how its checksum is published."""

    url: str  # archive or binary, formatted with v (version), os, arch
    checksum_url: str  # sha256 file: either "<hash>" or "<hash>  <filename>" lines
    member: str | None  # path of the binary inside a tar.gz; None for a bare binary


@dataclasses.dataclass(frozen=True)
class Tool:
    name: str  # the file name in the tools dir
    version_key: str
    go_package: str  # package path passed to `go install`, without @version
    go_module: str  # module that carries the version
    version_args: tuple[str, ...]
    ldflags: Callable[[str], str] = lambda v: ""
    release: Release | None = None
    # `go install` refuses modules whose go.mod has replace directives; those are
    # built through a wrapper module (see _go_install_wrapped).
    needs_wrapper: bool = False

    def version(self, versions: dict[str, str]) -> str:
        return versions[self.version_key]


def _gh(repo: str, asset: str, checksums: str) -> Release:
    base = f"https://github.com/{repo}/releases/download/{{v}}"
    return Release(url=f"{base}/{asset}", checksum_url=f"{base}/{checksums}", member=None)


TOOLS: tuple[Tool, ...] = (
    Tool(
        name="helm",
        version_key="HELM_VERSION",
        go_package="helm.sh/helm/v4/cmd/helm",
        go_module="helm.sh/helm/v4",
        version_args=("version", "--template", "{{.Version}}"),
        ldflags=lambda v: f"-X helm.sh/helm/v4/internal/version.version={v}",
        release=Release(
            url="https://get.helm.sh/helm-{v}-{os}-{arch}.tar.gz",
            checksum_url="https://get.helm.sh/helm-{v}-{os}-{arch}.tar.gz.sha256sum",
            member="{os}-{arch}/helm",
        ),
    ),
    Tool(
        name="helm3",
        version_key="HELM3_VERSION",
        go_package="helm.sh/helm/v3/cmd/helm",
        go_module="helm.sh/helm/v3",
        version_args=("version", "--template", "{{.Version}}"),
        # Release builds stamp the default Capabilities.KubeVersion from the
        # client-go they build with (v0.37 -> 1.37); without it helm 3 says 1.20.
        ldflags=lambda v: (
            f"-X helm.sh/helm/v3/internal/version.version={v} "
            "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37 "
            "-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37"
        ),
        release=Release(
            url="https://get.helm.sh/helm-{v}-{os}-{arch}.tar.gz",
            checksum_url="https://get.helm.sh/helm-{v}-{os}-{arch}.tar.gz.sha256sum",
            member="{os}-{arch}/helm",
        ),
    ),
    Tool(
        name="kubeconform",
        version_key="KUBECONFORM_VERSION",
        go_package="github.com/yannh/kubeconform/cmd/kubeconform",
        go_module="github.com/yannh/kubeconform",
        version_args=("-v",),
        ldflags=lambda v: f"-X main.version={v}",
        release=dataclasses.replace(
            _gh("yannh/kubeconform", "kubeconform-{os}-{arch}.tar.gz", "CHECKSUMS"),
            member="kubeconform",
        ),
    ),
    Tool(
        name="ct",
        version_key="CT_VERSION",
        go_package="github.com/helm/chart-testing/v3/ct",
        go_module="github.com/helm/chart-testing/v3",
        version_args=("version",),
        ldflags=lambda v: f"-X github.com/helm/chart-testing/v3/ct/cmd.Version={v}",
        release=dataclasses.replace(
            _gh("helm/chart-testing", "chart-testing_{vnum}_{os}_{arch}.tar.gz",
                "chart-testing_{vnum}_checksums.txt"),
            member="ct",
        ),
        # `go install ct@version` asks the proxy for the module's version list to
        # check deprecation, which some proxies refuse; a wrapper avoids that.
        needs_wrapper=True,
    ),
    Tool(
        name="kind",
        version_key="KIND_VERSION",
        go_package="sigs.k8s.io/kind",
        go_module="sigs.k8s.io/kind",
        version_args=("version",),
        release=Release(
            url="https://kind.sigs.k8s.io/dl/{v}/kind-{os}-{arch}",
            checksum_url="https://kind.sigs.k8s.io/dl/{v}/kind-{os}-{arch}.sha256sum",
            member=None,
        ),
    ),
    Tool(
        name="kubectl",
        version_key="KUBERNETES_VERSION",
        go_package="k8s.io/kubernetes/cmd/kubectl",
        go_module="k8s.io/kubernetes",
        version_args=("version", "--client"),
        ldflags=lambda v: (
            f"-X k8s.io/client-go/pkg/version.gitVersion={v} "
            f"-X k8s.io/component-base/version.gitVersion={v}"
        ),
        release=Release(
            url="https://dl.k8s.io/release/{v}/bin/{os}/{arch}/kubectl",
            checksum_url="https://dl.k8s.io/release/{v}/bin/{os}/{arch}/kubectl.sha256",
            member=None,
        ),
        needs_wrapper=True,
    ),
    Tool(
        name="helm-docs",
        version_key="HELM_DOCS_VERSION",
        go_package="github.com/norwoodj/helm-docs/cmd/helm-docs",
        go_module="github.com/norwoodj/helm-docs",
        version_args=("--version",),
        ldflags=lambda v: f"-X main.version={v.lstrip('v')}",
        release=dataclasses.replace(
            _gh("norwoodj/helm-docs", "helm-docs_{vnum}_Linux_x86_64.tar.gz", "checksums.txt"),
            member="helm-docs",
        ),
    ),
)


def tool_by_name(name: str) -> Tool:
    for tool in TOOLS:
        if tool.name == name:
            return tool
    raise ToolchainError(f"unknown tool {name!r}; known: {', '.join(t.name for t in TOOLS)}")


# --- version probes -------------------------------------------------------

def reported_version(binary: Path | str, tool: Tool) -> str | None:
    """The version the binary itself reports, or None if it cannot run."""
    try:
        out = subprocess.run(
            [str(binary), *tool.version_args], capture_output=True, text=True, timeout=30
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = out.stdout + out.stderr
    match = re.search(r"v?\d+\.\d+\.\d+", text)
    return match.group(0) if match else None


def _same_version(a: str | None, b: str) -> bool:
    return a is not None and a.lstrip("v") == b.lstrip("v")


def _stamp_path() -> Path:
    return bin_dir() / ".portico-stamps.json"


def _read_stamps() -> dict[str, dict[str, str]]:
    try:
        return json.loads(_stamp_path().read_text())
    except (OSError, ValueError):
        return {}


def recipe(tool: Tool, version: str) -> str:
    """Fingerprint of how we build a tool; a change (new ldflags) forces a rebuild."""
    text = f"{tool.go_package}@{version} {tool.ldflags(version)} wrapper={tool.needs_wrapper}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _write_stamp(tool: Tool, version: str, how: str) -> None:
    stamps = _read_stamps()
    binary = bin_dir() / tool.name
    stamps[tool.name] = {"version": version, "how": how, "sha256": _sha256_file(binary),
                         "recipe": recipe(tool, version)}
    _save_stamps(stamps)


def _save_stamps(stamps: dict[str, dict[str, str]]) -> None:
    write_atomic(_stamp_path(), json.dumps(stamps, indent=2, sort_keys=True))


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def installed_ok(tool: Tool, version: str) -> bool:
    """True when the tools dir holds exactly what we installed for this pin."""
    binary = bin_dir() / tool.name
    stamp = _read_stamps().get(tool.name)
    if not binary.exists() or not stamp or stamp.get("version") != version:
        return False
    if stamp.get("how") == "go install" and stamp.get("recipe") != recipe(tool, version):
        return False
    return stamp.get("sha256") == _sha256_file(binary.resolve())


# --- strategies -------------------------------------------------------------

def _fmt(template: str, version: str) -> str:
    return template.format(v=version, vnum=version.lstrip("v"), os="linux", arch=_goarch())


def _fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp:  # noqa: S310 (https only)
        return resp.read()


def _expected_sha(checksum_text: str, filename: str) -> str:
    for line in checksum_text.splitlines():
        parts = line.split()
        if len(parts) == 1 and re.fullmatch(r"[0-9a-f]{64}", parts[0]):
            return parts[0]
        if len(parts) >= 2 and parts[-1].lstrip("*").endswith(filename):
            return parts[0]
    raise ToolchainError(f"no checksum for {filename} in the release's checksum file")


def _install_release(tool: Tool, version: str, dest: Path) -> None:
    assert tool.release is not None
    url = _fmt(tool.release.url, version)
    payload = _fetch(url)
    expected = _expected_sha(_fetch(_fmt(tool.release.checksum_url, version)).decode(), url.rsplit("/", 1)[1])
    actual = hashlib.sha256(payload).hexdigest()
    if actual != expected:
        raise ToolchainError(f"checksum mismatch for {url}: expected {expected}, got {actual}")
    if tool.release.member is None:
        binary = payload
    else:
        member = _fmt(tool.release.member, version)
        with tarfile.open(fileobj=io.BytesIO(payload), mode="r:gz") as tar:
            extracted = tar.extractfile(member)
            if extracted is None:
                raise ToolchainError(f"{url} has no member {member}")
            binary = extracted.read()
    _atomic_write_exec(dest, binary)


def _atomic_write_exec(dest: Path, data: bytes) -> None:
    write_atomic(dest, data, mode=0o755)


def _go_env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("CGO_ENABLED", "0")
    env.setdefault("GOFLAGS", "-trimpath")
    return env


def _require_go() -> str:
    go = shutil.which("go")
    if go is None:
        raise ToolchainError(
            "no Go toolchain on PATH and the release download failed: install Go 1.24+ "
            "(https://go.dev/dl) or give this machine network access to the release hosts"
        )
    return go


def _run_logged(cmd: list[str], cwd: Path | None, env: dict[str, str], log: Path) -> None:
    with log.open("ab") as fh:
        fh.write(f"$ {' '.join(cmd)}\n".encode())
        fh.flush()
        proc = subprocess.run(cmd, cwd=cwd, env=env, stdout=fh, stderr=subprocess.STDOUT)
    if proc.returncode != 0:
        raise ToolchainError(f"`{' '.join(cmd[:3])} ...` failed (exit {proc.returncode}); log: {log}")


def _install_go(tool: Tool, version: str, dest: Path, log: Path) -> None:
    go = _require_go()
    env = _go_env()
    with tempfile.TemporaryDirectory(prefix=f"portico-{tool.name}-") as tmp:
        gobin = Path(tmp) / "bin"
        env["GOBIN"] = str(gobin)
        ldflags = ["-ldflags", tool.ldflags(version)] if tool.ldflags(version) else []
        if tool.needs_wrapper:
            wrapper = Path(tmp) / "wrapper"
            write_wrapper_module(wrapper, tool.go_module, version, env, packages=[tool.go_package])
            _run_logged([go, "mod", "tidy"], wrapper, env, log)
            _run_logged([go, "install", *ldflags, tool.go_package], wrapper, env, log)
        else:
            _run_logged([go, "install", *ldflags, f"{tool.go_package}@{version}"], None, env, log)
        built = gobin / tool.go_package.rsplit("/", 1)[1]
        _atomic_write_exec(dest, built.read_bytes())


def staging_version(module_version: str) -> str:
    """k8s.io/kubernetes v1.X.Y publishes its staging modules as v0.X.Y."""
    major_minor_patch = module_version.lstrip("v").split(".", 1)[1]
    return f"v0.{major_minor_patch}"


def published_version(module: str, version: str) -> str:
    """The version at which a module's local-path replace targets are published.

    k8s.io/kubernetes' staging modules are v0.X.Y; multi-module repositories such
    as etcd tag every module with the main module's version.
    """
    return staging_version(version) if module == "k8s.io/kubernetes" else version


def write_wrapper_module(path: Path, module: str, version: str, env: dict[str, str],
                         packages: list[str], local: dict[str, str] | None = None) -> None:
    """A module that requires `module@version` and repeats its replace lines.

    Local-path replaces (k8s.io/kubernetes' ./staging/src/..., etcd's ../api)
    point at the published module instead, or at a directory given in `local`
    (module path -> directory) for nested modules that are never published;
    remote replaces are copied verbatim.
    """
    go = _require_go()
    info = subprocess.run(
        [go, "mod", "download", "-json", f"{module}@{version}"],
        capture_output=True, text=True, env=env, check=False,
    )
    if info.returncode != 0:
        raise ToolchainError(f"go mod download {module}@{version} failed: {info.stdout.strip()} {info.stderr.strip()}")
    gomod = Path(json.loads(info.stdout)["GoMod"]).read_text()
    path.mkdir(parents=True)
    lines = [f"module portico.local/wrap/{module.replace('/', '-')}", "", "go 1.24", "",
             f"require {module} {version}", ""]
    local = local or {}
    required = set(parse_requires(gomod))
    for old, new in parse_replaces(gomod):
        if old in local:
            new = local[old]
        elif new.startswith("./") or new.startswith("../"):
            if old not in required:
                continue  # a guard such as etcd's `=> ./FORBIDDEN_DEPENDENCY`: nothing needs it
            new = f"{old} {published_version(module, version)}"
        lines.append(f"replace {old} => {new}")
    (path / "go.mod").write_text("\n".join(lines) + "\n")
    imports = "".join(f"\t_ \"{pkg}\"\n" for pkg in packages)
    (path / "tools.go").write_text(f"//go:build tools\n\npackage tools\n\nimport (\n{imports})\n")


def parse_requires(gomod: str) -> list[str]:
    """Module paths a go.mod requires (direct and indirect)."""
    out, in_block = [], False
    for raw in gomod.splitlines():
        line = raw.split("//", 1)[0].strip()
        if in_block:
            if line == ")":
                in_block = False
            elif line:
                out.append(line.split()[0])
        elif line.startswith("require ("):
            in_block = True
        elif line.startswith("require "):
            out.append(line.split()[1])
    return out


def parse_replaces(gomod: str) -> list[tuple[str, str]]:
    """Replace directives of a go.mod, as (old, new) with versions kept on `new`."""
    replaces: list[tuple[str, str]] = []
    in_block = False
    for raw in gomod.splitlines():
        line = raw.split("//", 1)[0].strip()
        if in_block:
            if line == ")":
                in_block = False
                continue
            body = line
        elif line.startswith("replace ("):
            in_block = True
            continue
        elif line.startswith("replace "):
            body = line[len("replace "):]
        else:
            continue
        if "=>" not in body:
            continue
        old, new = (part.strip() for part in body.split("=>", 1))
        replaces.append((old.split()[0], new))
    return replaces


# --- driver -----------------------------------------------------------------

def ensure_tool(tool: Tool, versions: dict[str, str], *, allow_download: bool = True) -> str:
    """Make bin_dir()/tool.name the pinned version; return a one-line account."""
    version = tool.version(versions)
    dest = bin_dir() / tool.name
    if installed_ok(tool, version):
        return f"{tool.name:<12} {version:<9} present in {bin_dir()}"

    on_path = shutil.which(tool.name if tool.name != "helm3" else "helm3")
    if on_path and Path(on_path).resolve() != dest.resolve() and _same_version(reported_version(on_path, tool), version):
        dest.unlink(missing_ok=True)
        dest.symlink_to(Path(on_path).resolve())
        _write_stamp(tool, version, f"linked {on_path}")
        return f"{tool.name:<12} {version:<9} linked from {on_path}"

    log = cache_dir() / "logs" / f"install-{tool.name}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    download_error = "no release download for this tool"
    if allow_download and tool.release is not None:
        started = time.monotonic()
        try:
            _install_release(tool, version, dest)
            _write_stamp(tool, version, "release download")
            return f"{tool.name:<12} {version:<9} downloaded and checksum-verified ({time.monotonic() - started:.0f}s)"
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            download_error = f"download failed ({getattr(exc, 'reason', exc)})"
    started = time.monotonic()
    _install_go(tool, version, dest, log)
    got = reported_version(dest, tool)
    if not _same_version(got, version):
        raise ToolchainError(f"{tool.name}: built binary reports {got!r}, expected {version}; log: {log}")
    _write_stamp(tool, version, "go install")
    return (f"{tool.name:<12} {version:<9} built with go install ({time.monotonic() - started:.0f}s; "
            f"{download_error})")


RENDERER_SRC = REPO_ROOT / "tools" / "renderer"
RENDERER = "portico-render"


def source_digest(src: Path) -> str:
    """Digest of a Go package directory's sources (.go, go.mod, go.sum)."""
    digest = hashlib.sha256()
    for path in sorted(src.glob("*")):
        if path.suffix in (".go", ".mod", ".sum"):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:16]


def ensure_renderer() -> str:
    """Build the in-process renderer (tools/renderer, Helm's Go SDK) when its sources change."""
    dest = bin_dir() / RENDERER
    digest = source_digest(RENDERER_SRC)
    stamp = _read_stamps().get(RENDERER, {})
    if dest.exists() and stamp.get("recipe") == digest and stamp.get("sha256") == _sha256_file(dest):
        return f"{RENDERER:<12} {digest[:9]} present in {bin_dir()}"
    go = _require_go()
    log = cache_dir() / "logs" / f"install-{RENDERER}.log"
    log.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    tmp = dest.with_name(f".{RENDERER}.tmp")
    _run_logged([go, "build", "-o", str(tmp), "."], RENDERER_SRC, _go_env(), log)
    tmp.replace(dest)
    stamps = _read_stamps()
    stamps[RENDERER] = {"version": digest, "how": "go build tools/renderer", "recipe": digest,
                        "sha256": _sha256_file(dest)}
    _save_stamps(stamps)
    return f"{RENDERER:<12} {digest[:9]} built from tools/renderer ({time.monotonic() - started:.0f}s)"


def install(names: list[str] | None, *, allow_download: bool) -> int:
    versions = load_versions()
    bin_dir().mkdir(parents=True, exist_ok=True)
    tools = [tool_by_name(n) for n in names if n != RENDERER] if names else list(TOOLS)
    failures = 0
    for tool in tools:
        try:
            print(ensure_tool(tool, versions, allow_download=allow_download), flush=True)
        except ToolchainError as exc:
            failures += 1
            print(f"{tool.name:<12} {tool.version(versions):<9} FAILED: {exc}", file=sys.stderr, flush=True)
    if not names or RENDERER in names:
        try:
            print(ensure_renderer(), flush=True)
        except ToolchainError as exc:
            failures += 1
            print(f"{RENDERER:<12} FAILED: {exc}", file=sys.stderr, flush=True)
    return 1 if failures else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="portico-toolchain", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_install = sub.add_parser("install", help="install the pinned tools into the tools dir")
    p_install.add_argument("tools", nargs="*", help="only these tools (default: all)")
    p_install.add_argument("--no-download", action="store_true",
                           help="skip release downloads, build from the Go module proxy")
    sub.add_parser("bin-dir", help="print the tools dir")
    args = parser.parse_args(argv)
    try:
        if args.cmd == "bin-dir":
            print(bin_dir())
            return 0
        no_download = args.no_download or os.environ.get("PORTICO_NO_DOWNLOAD") == "1"
        return install(args.tools, allow_download=not no_download)
    except ToolchainError as exc:
        print(f"portico-toolchain: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
