"""Install the pinned CLI tools into the tools dir (`portico setup`).

For each tool, in order:
1. the tools dir already holds it at the pinned version -> nothing to do;
2. a binary on PATH reports the pinned version -> link it;
3. the official release download, verified against the release's checksum;
4. ``go install`` from the Go module proxy (through a wrapper module when the
   tool's own go.mod carries replace directives that `go install` refuses).
One line per tool says which of these happened. The in-process renderer
(portico-render, Helm's Go SDK) is built from the package's own Go source.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import tempfile
import time
import urllib.error
from pathlib import Path
from typing import Callable, Collection

from portico import locks
from portico.process import Runner, default_runner
from portico.paths import bin_dir, data_path, log_file
from portico.toolchain import download, gomod, stamps
from portico.toolchain.catalog import Tool, default_tools, tool_by_name
from portico.toolchain.pins import ToolchainError, load_versions

RENDERER = "portico-render"


def reported_version(binary: Path | str, tool: Tool, runner: Runner | None = None) -> str | None:
    """The version the binary itself reports, or None if it cannot run."""
    try:
        done = (runner or default_runner()).run([str(binary), *tool.version_args], check=False, timeout=30)
    except Exception:  # noqa: BLE001 - a binary that cannot run has no version
        return None
    match = re.search(r"v?\d+\.\d+\.\d+", f"{done.stdout}{done.stderr}")
    return match.group(0) if match else None


def same_version(a: str | None, b: str) -> bool:
    return a is not None and a.lstrip("v") == b.lstrip("v")


def recipe(tool: Tool, version: str) -> str:
    """Fingerprint of how we build a tool; a change (new ldflags) forces a rebuild."""
    text = f"{tool.go_package}@{version} {tool.ldflags(version)} wrapper={tool.needs_wrapper}"
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _installed(tool: Tool, version: str) -> bool:
    stamp = stamps.read().get(tool.name, {})
    built = stamp.get("how") == "go install"
    return stamps.matches(tool.name, version, recipe(tool, version) if built else None)


def ensure_tool(tool: Tool, versions: dict[str, str], *, allow_download: bool = True) -> str:
    """Make bin_dir()/tool.name the pinned version; return a one-line account."""
    version = tool.version(versions)
    dest = bin_dir() / tool.name
    if _installed(tool, version):
        return f"{tool.name:<12} {version:<9} present in {bin_dir()}"
    with locks.building(dest):
        if _installed(tool, version):  # another process installed it while this one waited
            return f"{tool.name:<12} {version:<9} present in {bin_dir()} (installed by another portico)"
        return _install_tool(tool, version, dest, allow_download)


def _install_tool(tool: Tool, version: str, dest: Path, allow_download: bool) -> str:

    on_path = shutil.which(tool.name)
    if on_path and Path(on_path).resolve() != dest.resolve() and same_version(reported_version(on_path, tool),
                                                                             version):
        dest.unlink(missing_ok=True)
        dest.symlink_to(Path(on_path).resolve())
        stamps.write(tool.name, version, f"linked {on_path}", recipe(tool, version))
        return f"{tool.name:<12} {version:<9} linked from {on_path}"

    download_error = "no release download for this tool"
    if allow_download and tool.release is not None:
        started = time.monotonic()
        try:
            download.install_release(tool, version, dest)
            stamps.write(tool.name, version, "release download", recipe(tool, version))
            return f"{tool.name:<12} {version:<9} downloaded and checksum-verified ({time.monotonic() - started:.0f}s)"
        except (urllib.error.URLError, OSError, TimeoutError) as exc:
            download_error = f"download failed ({getattr(exc, 'reason', exc)})"
    started = time.monotonic()
    log = log_file(f"install-{tool.name}")
    gomod.install(tool.go_package, tool.go_module, version, dest, ldflags=tool.ldflags(version),
                  wrapper=tool.needs_wrapper, log=log)
    got = reported_version(dest, tool)
    if not same_version(got, version):
        raise ToolchainError(f"{tool.name}: built binary reports {got!r}, expected {version}; log: {log}")
    stamps.write(tool.name, version, "go install", recipe(tool, version))
    return (f"{tool.name:<12} {version:<9} built with go install ({time.monotonic() - started:.0f}s; "
            f"{download_error})")


def renderer_source() -> Path:
    return data_path("renderer")


def renderer_ready() -> bool:
    digest = stamps.source_digest(renderer_source())
    return stamps.matches(RENDERER, digest, digest)


def patched_helm(src: Path, work: Path) -> Path:
    """A copy of the pinned helm module with portico's patched engine and manifest sorter (renderer/overlay),
    and a go.mod that builds the renderer against it; the go.mod's path.

    `go build -overlay` refuses files in the module cache, hence the copy. Each patched file names the sha256
    of the helm file it was derived from: a different helm fails here, loudly, instead of building a renderer
    whose output may drift from helm's.
    """
    gomod_text = (src / "go.mod").read_text()
    match = re.search(r"^\s*helm\.sh/helm/v4 (v\S+)", gomod_text, re.MULTILINE)
    if not match:
        raise ToolchainError(f"{src / 'go.mod'} does not require helm.sh/helm/v4")
    fork = gomod.writable_copy("helm.sh/helm/v4", match.group(1), work / "helm")
    for line in (src / "overlay" / "SOURCES").read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        target, patched, expected = line.split()
        original = fork / target
        if expected != "-":
            got = hashlib.sha256(original.read_bytes()).hexdigest() if original.exists() else "missing"
            if got != expected:
                raise ToolchainError(f"helm {match.group(1)} {target} is not the file renderer/overlay/{patched} "
                                     f"was derived from (sha256 {got}, expected {expected}): re-derive the patch")
        original.write_bytes((src / "overlay" / patched).read_bytes())
    (work / "go.mod").write_text(f"{gomod_text}\nreplace helm.sh/helm/v4 => {fork}\n")
    shutil.copy(src / "go.sum", work / "go.sum")
    return work / "go.mod"


def ensure_renderer() -> str:
    """Build the in-process renderer from the package's Go source when that source changes."""
    src = renderer_source()
    digest = stamps.source_digest(src)
    if renderer_ready():
        return f"{RENDERER:<12} {digest[:9]} present in {bin_dir()}"
    with locks.building(bin_dir() / RENDERER):
        if renderer_ready():
            return f"{RENDERER:<12} {digest[:9]} present in {bin_dir()} (built by another portico)"
        return _build_renderer(src, digest)


def _build_renderer(src: Path, digest: str) -> str:
    started = time.monotonic()
    dest = bin_dir() / RENDERER
    tmp = dest.with_name(f".{RENDERER}.tmp")
    with tempfile.TemporaryDirectory(prefix="portico-render-build-") as work:
        modfile = patched_helm(src, Path(work))
        gomod.go().build(src, tmp, env=gomod.build_env(), log=log_file(f"install-{RENDERER}"),
                         extra=["-modfile", str(modfile)])
    tmp.replace(dest)
    stamps.write(RENDERER, digest, "go build (package data renderer/)", digest)
    return f"{RENDERER:<12} {digest[:9]} built from the package's renderer source ({time.monotonic() - started:.0f}s)"


def install(names: list[str] | None = None, *, skip: Collection[str] = (), allow_download: bool = True,
            out: Callable[[str], None] = print, err: Callable[[str], None] = print) -> int:
    """Install every tool (or the named ones) but those in `skip`; one line each. 0 when all are in place."""
    versions = load_versions()
    skipped = {tool_by_name(n).name for n in skip}  # an unknown name is an error, not a silent no-op
    bin_dir().mkdir(parents=True, exist_ok=True)
    tools = [tool_by_name(n) for n in names if n != RENDERER] if names else list(default_tools())
    tools = [t for t in tools if t.name not in skipped]
    failures = 0
    for tool in tools:
        try:
            out(ensure_tool(tool, versions, allow_download=allow_download))
        except ToolchainError as exc:
            failures += 1
            err(f"{tool.name:<12} {tool.version(versions):<9} FAILED: {exc}")
    if not names or RENDERER in names:
        if not gomod.have_go():
            err(f"{RENDERER:<12} skipped: no Go toolchain; `portico matrix` falls back to one `helm template` per "
                f"combination (much slower). Install Go {gomod.MIN_GO}+ and run `portico setup` again.")
        else:
            try:
                out(ensure_renderer())
            except ToolchainError as exc:
                failures += 1
                err(f"{RENDERER:<12} FAILED: {exc}")
    return 1 if failures else 0
