"""Chart references: a directory, a packaged .tgz, `oci://registry/path/chart` or `repo/chart`.

Every harness command that takes a chart goes through `resolve`, which turns the
reference into a chart directory on disk: a directory as it is, a .tgz unpacked,
a remote reference pulled by helm (so helm's own registry logins, repositories,
`--plain-http` and provenance `--verify` apply) and then unpacked. Unpacked
charts live in a temporary directory removed when the process exits.

Where a reference is one string (the matrix file's `chart`, `upgrade.from`,
`--upgrade-from`), a version is written `REF@VERSION`, e.g.
`oci://ghcr.io/acme/charts/portico@1.4.0`.
"""

from __future__ import annotations

import atexit
import io
import re
import shutil
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

from portico.errors import InputError

_REPO_REF = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*/[A-Za-z0-9][A-Za-z0-9._-]*$")
_VERSION_SUFFIX = re.compile(r"^(?P<ref>.+?)@(?P<version>v?\d[\w.+-]*)$")


@dataclass(frozen=True)
class Fetch:
    """How remote references are pulled: helm pull's --version, --plain-http, --verify and --keyring."""

    version: str | None = None
    plain_http: bool = False
    verify: bool = False
    keyring: Path | None = None


def kind_of(ref: str) -> str:
    """'dir', 'tgz', 'oci', 'repo', or 'missing' (a local path that is not there)."""
    if ref.startswith("oci://"):
        return "oci"
    path = Path(ref)
    if path.is_dir():
        return "dir"
    if path.is_file():
        return "tgz"
    if _REPO_REF.match(ref) and not ref.endswith((".tgz", ".tar.gz")):
        return "repo"
    return "missing"


def split_version(ref: str) -> tuple[str, str | None]:
    """`oci://host/chart@1.2.3` -> ('oci://host/chart', '1.2.3'); local paths are left alone."""
    match = _VERSION_SUFFIX.match(ref)
    if match and (ref.startswith("oci://") or _REPO_REF.match(match["ref"])) and not Path(ref).exists():
        return match["ref"], match["version"]
    return ref, None


def is_remote(ref: str) -> bool:
    return kind_of(split_version(ref)[0]) in ("oci", "repo")


_workdirs: list[str] = []


def _workdir() -> Path:
    if not _workdirs:
        _workdirs.append(tempfile.mkdtemp(prefix="portico-charts-"))
        atexit.register(shutil.rmtree, _workdirs[0], True)
    return Path(tempfile.mkdtemp(dir=_workdirs[0]))


def unpack(tgz: Path, source: str) -> Path:
    """The chart directory inside a packaged chart."""
    dest = _workdir()
    try:
        with tarfile.open(tgz, mode="r:gz") as tar:
            tar.extractall(dest, filter="data")
    except (OSError, tarfile.TarError) as exc:
        raise InputError(f"is not a packaged chart (.tgz): {exc}", source=source) from None
    charts = [p.parent for p in dest.glob("*/Chart.yaml")]
    if len(charts) != 1:
        raise InputError("is not a packaged chart: expected one top-level directory with a Chart.yaml",
                         source=source)
    return charts[0]


def require_chart_dir(path: Path, *, source: str, key_path: str | None = None, shown: str | None = None) -> Path:
    """The one "is this directory a chart" check, with one message, for every command and file that names a chart."""
    if path.is_dir() and not (path / "Chart.yaml").is_file():
        raise InputError(f"{shown or str(path)!r} is not a chart (no Chart.yaml): expected a chart directory, "
                         f"a packaged .tgz, oci://REGISTRY/PATH/CHART or REPO/CHART", source=source,
                         key_path=key_path)
    return path


def local(path: Path, *, source: str, key_path: str | None = None, shown: str | None = None) -> Path:
    """A chart on disk as a directory: a chart directory as it is, a packaged .tgz unpacked."""
    if not path.exists():
        raise InputError(f"{shown or str(path)!r} does not exist (resolved to {path})", source=source,
                         key_path=key_path)
    if path.is_file() and path.name.endswith((".tgz", ".tar.gz")):
        return unpack(path, f"{source}: {key_path}" if key_path else source)
    return require_chart_dir(path, source=source, key_path=key_path, shown=shown)


def at_git_ref(chart: Path, ref: str, *, source: str, key_path: str | None = None) -> Path:
    """The same chart directory as it was at a git ref (`git:REF` references): `git archive` into a work dir."""
    from portico.clients.git import Git
    from portico.process import CommandError

    git = Git()
    root = git.toplevel(chart)
    if root is None:
        raise InputError(f"{chart} is not in a git repository", source=source, key_path=key_path)
    rel = chart.resolve().relative_to(root)
    try:
        archive = git.archive(root, ref, rel)
    except CommandError as exc:
        raise InputError(str(exc), source=source, key_path=key_path) from exc
    dest = _workdir()
    with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
        tar.extractall(dest, filter="data")
    return require_chart_dir(dest / rel, source=source, key_path=key_path, shown=f"{ref}:{rel}")


def resolve(ref: str | Path, fetch: Fetch = Fetch(), *, source: str = "chart", helm=None) -> Path:
    """A chart directory for the reference; InputError naming `source` when it is not a chart."""
    raw, version = split_version(str(ref))
    version = version or fetch.version
    kind = kind_of(raw)
    if kind == "dir":
        return require_chart_dir(Path(raw), source=source, shown=raw)
    if kind == "tgz":
        return unpack(Path(raw), raw)
    if kind == "missing":
        raise InputError(f"{raw!r} does not exist: expected a chart directory, a packaged .tgz, "
                         f"oci://REGISTRY/PATH/CHART or REPO/CHART", source=source)
    return _pull(raw, version, fetch, source, helm)


def _pull(ref: str, version: str | None, fetch: Fetch, source: str, helm) -> Path:
    from portico.clients.helm import Helm, HelmError

    helm = helm or Helm.pinned()
    dest = _workdir()
    try:
        helm.pull(ref, dest, version=version, plain_http=fetch.plain_http, verify=fetch.verify,
                  keyring=fetch.keyring)
    except HelmError as exc:
        what = "the OCI reference" if ref.startswith("oci://") else "the repo/chart reference (or a missing path)"
        at = f" at version {version}" if version else ""
        raise InputError(f"helm could not pull {what} {ref!r}{at}: {exc}", source=source) from None
    packages = sorted(dest.glob("*.tgz"))
    if len(packages) != 1:
        raise InputError(f"helm pull {ref} left {len(packages)} packages, expected one", source=source)
    return unpack(packages[0], ref)
