"""Go: module downloads from the module proxy and builds of pinned modules.

`go install module@version` refuses modules whose go.mod carries replace
directives, so such tools (and the offline cluster's components) are built
through a wrapper module that requires the module and repeats its replaces.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from portico.clients.go import Go
from portico.errors import ToolError
from portico.toolchain.pins import ToolchainError, load_versions

MIN_GO = "1.26"


def go() -> Go:
    binary = shutil.which("go")
    if binary is None:
        raise ToolchainError(
            f"no Go toolchain on PATH and the release download failed: install Go {MIN_GO}+ "
            "(https://go.dev/dl) or give this machine network access to the release hosts")
    return Go(binary)


def have_go() -> bool:
    return shutil.which("go") is not None


def build_env(cgo: bool = False) -> dict[str, str]:
    env = {"CGO_ENABLED": "1" if cgo else os.environ.get("CGO_ENABLED", "0")}
    env["GOFLAGS"] = os.environ.get("GOFLAGS", "-trimpath")
    return env


def module_dir(module: str, version: str, *, expected_sum: str | None = None) -> Path:
    """The unpacked source of module@version in the Go module cache (downloaded if needed)."""
    env = {}
    if expected_sum:
        # Pseudo-versions the checksum DB may not serve: compare against the pin instead.
        env["GONOSUMDB"] = ",".join(filter(None, [os.environ.get("GONOSUMDB"), module]))
    try:
        info = go().mod_download(module, version, env=env)
    except ToolError as exc:
        if "requires go >=" not in str(exc):
            raise
        # Only the source is read (CRDs, manifests), never built: let the go command fetch the pinned newer
        # toolchain from the module proxy to download it (Gateway API v1.7.0 declares go 1.27).
        env["GOTOOLCHAIN"] = load_versions()["GO_DOWNLOAD_TOOLCHAIN"]
        info = go().mod_download(module, version, env=env)
    if expected_sum and info.get("Sum") != expected_sum:
        raise ToolchainError(f"{module}@{version}: module hash {info.get('Sum')} does not match the pinned "
                             f"{expected_sum}")
    return Path(info["Dir"])


def writable_copy(module: str, version: str, dest: Path) -> Path:
    """module@version copied out of the module cache (read-only there) to dest, writable: a fork to patch."""
    shutil.copytree(module_dir(module, version), dest)
    for path in dest.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


def binary_name(package: str) -> str:
    """What `go install` names a package's binary: its last element, skipping a major-version suffix (/v12)."""
    parts = package.split("/")
    return parts[-2] if len(parts) > 1 and re.fullmatch(r"v[0-9]+", parts[-1]) else parts[-1]


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


def required_version(gomod: str, module: str) -> str | None:
    """The version a go.mod requires of `module`, or None."""
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)}\s+(v\S+)", gomod, re.MULTILINE)
    return match.group(1) if match else None


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


def write_wrapper_module(path: Path, module: str, version: str, packages: list[str],
                         local: dict[str, str] | None = None) -> None:
    """A module that requires `module@version` and repeats its replace lines.

    Local-path replaces (k8s.io/kubernetes' ./staging/src/..., etcd's ../api)
    point at the published module instead, or at a directory given in `local`
    (module path -> directory: nested modules that are never published, patched
    forks of published ones); remote replaces are copied verbatim.
    """
    info = go().mod_download(module, version)
    gomod = Path(info["GoMod"]).read_text()
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
    replaced = {old for old, _ in parse_replaces(gomod)}
    lines += [f"replace {old} => {new}" for old, new in sorted(local.items()) if old not in replaced]
    (path / "go.mod").write_text("\n".join(lines) + "\n")
    imports = "".join(f"\t_ \"{pkg}\"\n" for pkg in packages)
    (path / "tools.go").write_text(f"//go:build tools\n\npackage tools\n\nimport (\n{imports})\n")


def install(package: str, module: str, version: str, dest: Path, *, ldflags: str, wrapper: bool, log: Path) -> None:
    """`go install package@version` (through a wrapper module when needed) into dest."""
    toolchain = go()
    with tempfile.TemporaryDirectory(prefix="portico-go-install-") as tmp:
        gobin = Path(tmp) / "bin"
        env = {**build_env(), "GOBIN": str(gobin)}
        if wrapper:
            wrap = Path(tmp) / "wrapper"
            write_wrapper_module(wrap, module, version, packages=[package])
            toolchain.run(["mod", "tidy"], cwd=wrap, env=env, log=log)
            toolchain.run(["install", *(["-ldflags", ldflags] if ldflags else []), package], cwd=wrap, env=env,
                          log=log)
        else:
            toolchain.run(["install", *(["-ldflags", ldflags] if ldflags else []), f"{package}@{version}"],
                          env=env, log=log)
        built = gobin / binary_name(package)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp_dest = dest.with_name(f".{dest.name}.tmp")
        shutil.copyfile(built, tmp_dest)
        tmp_dest.chmod(0o755)
        tmp_dest.replace(dest)

