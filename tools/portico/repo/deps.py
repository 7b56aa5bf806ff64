"""Dependencies offline: what `helm dependency build` would fetch, found without the network.

A dependency is ready when charts/ already holds it (vendored). Otherwise it comes, in this order, from a
`file://` path, from a chart of the same repository with that name whose version meets the constraint,
or from a dependency directory (`--dependency-dir`: `NAME-VERSION.tgz` files or `NAME/` chart
directories, such as a cache `helm dependency build` filled while online). The chart is then copied with
its charts/ filled (a found chart's own dependencies resolved the same way); the working tree is never
written to. What none of them has is `Unresolved`, named with its repository.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass, field
from pathlib import Path

import nodesemver

from portico.repo.discover import Dependency, RepoChart, read_chart
from portico.values import read_mapping


@dataclass(frozen=True)
class Unresolved:
    chart: str
    dependency: Dependency
    why: str = ""
    aliases: tuple[str, ...] = ()  # the aliases it is used under (one chart, several aliases: one package)

    def message(self) -> str:
        dep = self.dependency
        where = dep.repository or "no repository"
        extra = f" ({self.why})" if self.why else ""
        used = f" (as {', '.join(self.aliases)})" if self.aliases else ""
        return (f"{self.chart}: dependency {dep.name} {dep.version or '(any version)'}{used} from {where} is not in "
                f"charts/, not a chart of this repository and not in a --dependency-dir{extra}: vendor it, or "
                f"run `helm dependency build` online and pass its charts/ directory with --dependency-dir")


@dataclass
class Resolution:
    path: Path  # the chart to render: the working tree's, or a copy with charts/ filled
    found: list[str] = field(default_factory=list)  # "common 2.31.4 from bitnami/common"
    unresolved: list[Unresolved] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.unresolved


def satisfies(version: str, constraint: str) -> bool:
    """helm's (Masterminds) constraint: "2.x.x", "^1.2", ">=1.0.0, <2.0.0", "1 - 2 || 3"."""
    if not constraint.strip():
        return True
    try:
        return bool(nodesemver.satisfies(version, constraint.replace(",", " "), loose=True))
    except (ValueError, TypeError):
        return False


def _vendored(chart_dir: Path, dep: Dependency) -> bool:
    charts = chart_dir / "charts"
    if not charts.is_dir():
        return False
    for entry in charts.iterdir():
        if entry.is_dir() and (entry / "Chart.yaml").is_file():
            meta = read_mapping(entry / "Chart.yaml", "a Chart.yaml")
            if meta.get("name") == dep.name:
                return True
        elif entry.name.startswith(f"{dep.name}-") and entry.name.endswith(".tgz"):
            return True
    return False


def _from_dependency_dir(directory: Path, dep: Dependency) -> Path | None:
    for candidate in sorted(directory.glob(f"{dep.name}-*.tgz"), reverse=True):
        if satisfies(candidate.name[len(dep.name) + 1:-len(".tgz")], dep.version):
            return candidate
    sub = directory / dep.name
    if (sub / "Chart.yaml").is_file():
        meta = read_mapping(sub / "Chart.yaml", "a Chart.yaml")
        if satisfies(str(meta.get("version", "")), dep.version):
            return sub
    return None


class Resolver:
    def __init__(self, repo_charts: list[RepoChart], root: Path, dependency_dirs: tuple[Path, ...] = ()):
        self.by_name: dict[str, list[RepoChart]] = {}
        for chart in repo_charts:
            self.by_name.setdefault(chart.name, []).append(chart)
        self.root = root
        self.dependency_dirs = dependency_dirs

    def _source(self, chart: RepoChart, dep: Dependency) -> tuple[Path | None, str]:
        if dep.repository.startswith("file://"):
            path = (chart.path / dep.repository.removeprefix("file://")).resolve()
            return (path, f"{dep.name} from {dep.repository}") if (path / "Chart.yaml").is_file() else (None, "")
        for sibling in self.by_name.get(dep.name, []):
            if sibling.path != chart.path and satisfies(sibling.version, dep.version):
                return sibling.path, f"{dep.name} {sibling.version} from {sibling.rel}"
        for directory in self.dependency_dirs:
            if found := _from_dependency_dir(directory, dep):
                return found, f"{dep.name} from {found}"
        return None, ""

    def resolve(self, chart: RepoChart, workdir: Path) -> Resolution:
        """The chart ready to render; a copy under workdir when something had to be added."""
        missing = [d for d in chart.dependencies if not _vendored(chart.path, d)]
        if not missing:
            return Resolution(chart.path)
        copy = workdir / chart.name
        shutil.copytree(chart.path, copy, symlinks=True, ignore=shutil.ignore_patterns(".git"))
        result = Resolution(copy)
        self._fill(chart, copy, missing, result, (chart.path,))
        return result

    def _fill(self, chart: RepoChart, copy: Path, missing: list[Dependency], result: Resolution,
              stack: tuple[Path, ...]) -> None:
        # One chart under several aliases is one package in charts/, as `helm dependency build` leaves it.
        aliases: dict[tuple[str, str, str], list[str]] = {}
        for dep in missing:
            aliases.setdefault((dep.name, dep.version, dep.repository), []).extend([dep.alias] if dep.alias else [])
        for key, used_as in aliases.items():
            dep = next(d for d in missing if (d.name, d.version, d.repository) == key)
            source, found = self._source(chart, dep)
            if source is None:
                near = [c.version for c in self.by_name.get(dep.name, [])]
                why = f"this repository's {dep.name} is {', '.join(near)}" if near else ""
                result.unresolved.append(Unresolved(chart.name, dep, why, tuple(used_as)))
                continue
            if source in stack:
                result.unresolved.append(Unresolved(chart.name, dep, "a dependency cycle"))
                continue
            (copy / "charts").mkdir(exist_ok=True)
            target = copy / "charts" / (source.name if source.is_file() else dep.name)
            if target.exists():
                continue  # the same chart under another alias and constraint, resolved to the same package
            result.found.append(found)
            if source.is_file():  # a packaged chart: helm loads it as it is
                shutil.copy(source, target)
                continue
            shutil.copytree(source, target, symlinks=True, ignore=shutil.ignore_patterns(".git"))
            sub = read_chart(source, source.parent)
            self._fill(sub, target, [d for d in sub.dependencies if not _vendored(source, d)], result,
                       (*stack, source))
