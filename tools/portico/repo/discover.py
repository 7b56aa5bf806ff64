"""The charts of a repository: ct's `chart-dirs` (each subdirectory with a Chart.yaml), or every Chart.yaml
that is not a vendored subchart of another chart."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from portico.errors import InputError
from portico.repo.config import CiConfig
from portico.values import read_mapping

SKIPPED_DIRS = {".git", "node_modules", ".venv", "out", "dist"}


@dataclass(frozen=True)
class Dependency:
    name: str
    version: str  # a constraint ("2.x.x", "^1.2"), "" for any
    repository: str
    alias: str = ""


@dataclass(frozen=True)
class RepoChart:
    name: str
    path: Path  # absolute
    rel: str  # relative to the repository root: what reports show
    version: str
    type: str  # application | library
    dependencies: tuple[Dependency, ...]
    deprecated: bool = False

    @property
    def library(self) -> bool:
        return self.type == "library"


def _meta(chart_yaml: Path) -> dict[str, Any]:
    meta = read_mapping(chart_yaml, "a Chart.yaml")
    if not meta.get("name"):
        raise InputError("expected a mapping with a name", source=str(chart_yaml))
    return meta


def read_chart(path: Path, root: Path) -> RepoChart:
    meta = _meta(path / "Chart.yaml")
    deps = []
    for i, dep in enumerate(meta.get("dependencies") or []):
        if not isinstance(dep, dict) or not dep.get("name"):
            raise InputError("expected a mapping with a name", source=str(path / "Chart.yaml"),
                             key_path=f"dependencies[{i}]")
        deps.append(Dependency(str(dep["name"]), str(dep.get("version") or ""), str(dep.get("repository") or ""),
                               str(dep.get("alias") or "")))
    return RepoChart(str(meta["name"]), path, str(path.relative_to(root)), str(meta.get("version", "")),
                     str(meta.get("type") or "application"), tuple(deps), bool(meta.get("deprecated", False)))


def _walk(root: Path) -> list[Path]:
    """Directories holding a Chart.yaml, not descending into a chart's charts/ (vendored subcharts)."""
    found, stack = [], [root]
    while stack:
        here = stack.pop()
        if (here / "Chart.yaml").is_file():
            found.append(here)
        for child in sorted(here.iterdir(), reverse=True):
            if not child.is_dir() or child.name in SKIPPED_DIRS or child.name.startswith("."):
                continue
            if (here / "Chart.yaml").is_file() and child.name == "charts":
                continue
            stack.append(child)
    return found


def discover(root: Path, config: CiConfig) -> list[RepoChart]:
    """Every chart of the repository that the config keeps, sorted by path."""
    if config.chart_dirs:
        dirs = []
        for i, chart_dir in enumerate(config.chart_dirs):
            base = root / chart_dir
            if not base.is_dir():
                raise InputError(f"{chart_dir!r} is not a directory under {root}", source=config.source,
                                 key_path=f"chart-dirs[{i}]")
            dirs += [d for d in sorted(base.iterdir()) if (d / "Chart.yaml").is_file()]
    else:
        dirs = _walk(root)
    charts = [read_chart(d, root) for d in dirs]
    return sorted((c for c in charts if c.name not in config.excluded
                   and not (config.exclude_deprecated and c.deprecated)), key=lambda c: c.rel)
