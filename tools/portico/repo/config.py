"""What `portico ci` reads of chart-testing's `ct.yaml`, checked once into a typed config.

Keys ct has and Portico does not use (lint-conf, chart-yaml-schema, ...) are named in `ignored`, so a
user sees what their ct.yaml says that this run does not do; a key neither knows is an input error.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from portico.errors import InputError
from portico.values import read_yaml

USED = {
    "chart-dirs": "directories whose subdirectories are charts (default: every Chart.yaml in the repository)",
    "excluded-charts": "chart names to leave out",
    "target-branch": "the branch --since compares with on a branch (default main)",
    "remote": "the git remote of the target branch (default origin)",
    "chart-repos": "NAME=URL: a dependency whose repository is one of these may also come from --dependency-dir",
    "helm-extra-args": "extra arguments for helm install and upgrade (--install)",
    "helm-extra-set-args": "extra --set arguments for helm install and upgrade (--install), after helm-extra-args",
    "validate-maintainers": "maintainers must be GitHub accounts (needs the GitHub API: reported, not checked, "
                            "offline)",
    "check-version-increment": "a changed chart needs a higher version (default true)",
    "exclude-deprecated": "leave out charts marked deprecated in Chart.yaml",
}
IGNORED = {"lint-conf", "chart-yaml-schema", "helm-repo-extra-args", "helm-dependency-extra-args",
           "additional-commands", "debug", "print-logs", "upgrade", "skip-missing-values", "namespace",
           "release-label", "since", "all", "charts", "build-id", "kubectl-timeout", "use-helmignore",
           "github-groups", "skip-clean-up", "target-branch-remote", "helm-lint-extra-args", "exclude-charts"}


@dataclass(frozen=True)
class CiConfig:
    source: str | None = None  # the ct.yaml read, if any
    chart_dirs: tuple[str, ...] = ()
    excluded: frozenset[str] = frozenset()
    target_branch: str = "main"
    remote: str = "origin"
    chart_repos: dict[str, str] = field(default_factory=dict)
    helm_extra_args: tuple[str, ...] = ()
    validate_maintainers: bool = False
    check_version_increment: bool = True
    exclude_deprecated: bool = False
    ignored: tuple[str, ...] = ()


def _strings(raw: Any, source: str, key: str) -> tuple[str, ...]:
    if isinstance(raw, str):
        raw = [part for part in raw.split(",") if part.strip()]
    if not isinstance(raw, list) or not all(isinstance(x, str) for x in raw):
        raise InputError(f"expected a list of strings, got {raw!r}", source=source, key_path=key)
    return tuple(x.strip() for x in raw)


def _bool(raw: Any, source: str, key: str) -> bool:
    if not isinstance(raw, bool):
        raise InputError(f"expected true or false, got {raw!r}", source=source, key_path=key)
    return raw


def _repos(items: tuple[str, ...], source: str) -> dict[str, str]:
    out = {}
    for i, item in enumerate(items):
        name, sep, url = item.partition("=")
        if not sep or not name or not url:
            raise InputError(f"expected NAME=URL, got {item!r}", source=source, key_path=f"chart-repos[{i}]")
        out[name] = url
    return out


def load(path: Path | None) -> CiConfig:
    """The config of ct.yaml at path, or the defaults (path None)."""
    if path is None:
        return CiConfig()
    source = str(path)
    raw = read_yaml(path, "a chart-testing config", unique_keys=True) or {}
    if not isinstance(raw, dict):
        raise InputError("expected a mapping of ct settings", source=source)
    unknown = sorted(k for k in raw if k not in USED and k not in IGNORED)
    if unknown:
        raise InputError(f"unknown key(s) {', '.join(map(repr, unknown))}: chart-testing's keys are "
                         f"{', '.join(sorted(USED))} (used) and {', '.join(sorted(IGNORED))} (read, not used)",
                         source=source)
    return CiConfig(
        source=source,
        chart_dirs=_strings(raw.get("chart-dirs", []), source, "chart-dirs"),
        excluded=frozenset(_strings(raw.get("excluded-charts", []), source, "excluded-charts")),
        target_branch=str(raw.get("target-branch", "main")),
        remote=str(raw.get("remote", "origin")),
        chart_repos=_repos(_strings(raw.get("chart-repos", []), source, "chart-repos"), source),
        helm_extra_args=tuple(shlex.split(str(raw.get("helm-extra-args") or ""))
                              + shlex.split(str(raw.get("helm-extra-set-args") or ""))),
        validate_maintainers=_bool(raw.get("validate-maintainers", False), source, "validate-maintainers"),
        check_version_increment=_bool(raw.get("check-version-increment", True), source, "check-version-increment"),
        exclude_deprecated=_bool(raw.get("exclude-deprecated", False), source, "exclude-deprecated"),
        ignored=tuple(sorted(k for k in raw if k in IGNORED)),
    )


def find(root: Path, explicit: Path | None) -> Path | None:
    """--config, else ct.yaml or ci/ct.yaml (ct's usual places) at the repository root."""
    if explicit is not None:
        return explicit
    for candidate in (root / "ct.yaml", root / "ci" / "ct.yaml", root / ".github" / "ct.yaml"):
        if candidate.is_file():
            return candidate
    return None
