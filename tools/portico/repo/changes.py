"""Which charts a run takes: all, named ones, or those a change touched since a ref and their dependents."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from portico.clients.git import Git
from portico.errors import InputError
from portico.repo.config import CiConfig
from portico.repo.discover import RepoChart


@dataclass(frozen=True)
class Selected:
    chart: RepoChart
    reason: str  # why it runs: "changed: templates/a.yaml", "depends on changed chart common", "--all"


def _shown(files: list[str]) -> str:
    return ", ".join(files[:3]) + (f" (+{len(files) - 3} more)" if len(files) > 3 else "")


def default_base(root: Path, config: CiConfig, git: Git) -> str:
    """ct's default: the target branch on the remote, else the local one."""
    for ref in (f"{config.remote}/{config.target_branch}", config.target_branch):
        if git.resolves(root, ref):
            return ref
    raise InputError(f"neither {config.remote}/{config.target_branch} nor {config.target_branch} exists here, so "
                     f"there is nothing to compare with: give --since REF, --charts or --all", source="--since")


def changed_charts(root: Path, charts: list[RepoChart], base: str, git: Git) -> dict[str, list[str]]:
    """Chart path -> its files that differ from `base` (committed or not); a file belongs to its deepest chart."""
    out: dict[str, list[str]] = {}
    by_depth = sorted(charts, key=lambda c: -len(c.path.parts))
    for name in git.changed_files(root, base):
        for chart in by_depth:
            if (root / name).is_relative_to(chart.path):
                out.setdefault(chart.rel, []).append(str((root / name).relative_to(chart.path)))
                break
    return out


def dependents(charts: list[RepoChart], changed: dict[str, str]) -> dict[str, str]:
    """changed (rel -> reason) plus every chart that depends, at any depth, on one of them by name."""
    out = dict(changed)
    by_rel = {c.rel: c for c in charts}
    grew = True
    while grew:
        grew = False
        names = {by_rel[rel].name: by_rel[rel] for rel in out}
        for chart in charts:
            if chart.rel in out:
                continue
            hit = next((d.name for d in chart.dependencies if d.name in names), None)
            if hit:
                out[chart.rel] = f"depends on changed chart {hit} ({names[hit].rel})"
                grew = True
    return out


def dependency_order(selected: list[Selected]) -> list[Selected]:
    """Charts after the charts of this run they depend on (ties by path)."""
    by_name = {s.chart.name: s for s in selected}
    done: dict[str, Selected] = {}

    def visit(item: Selected, stack: tuple[str, ...]) -> None:
        if item.chart.rel in done or item.chart.name in stack:
            return
        for dep in item.chart.dependencies:
            if dep.name in by_name:
                visit(by_name[dep.name], (*stack, item.chart.name))
        done[item.chart.rel] = item

    for item in sorted(selected, key=lambda s: s.chart.rel):
        visit(item, ())
    return list(done.values())


def select(root: Path, charts: list[RepoChart], config: CiConfig, *, all_charts: bool = False,
           names: tuple[str, ...] = (), since: str | None = None, git: Git | None = None) -> tuple[list[Selected], str]:
    """The charts to run, in dependency order, and a line saying how they were chosen."""
    if all_charts:
        return dependency_order([Selected(c, "--all") for c in charts]), f"all {len(charts)} charts"
    if names:
        known = {c.name: c for c in charts}
        unknown = [n for n in names if n not in known]
        if unknown:
            raise InputError(f"no chart named {', '.join(map(repr, unknown))} here; the charts are "
                             f"{', '.join(sorted(known))}", source="--charts")
        return dependency_order([Selected(known[n], "--charts") for n in dict.fromkeys(names)]), \
            f"{len(names)} named chart(s)"
    git = git or Git()
    if git.toplevel(root) is None:
        raise InputError(f"{root} is not in a git repository, so nothing can be compared: give --all or --charts",
                         source="--since")
    ref = since or default_base(root, config, git)
    if not git.resolves(root, ref):
        raise InputError(f"{ref!r} is not a commit of this repository", source="--since")
    base = git.merge_base(root, ref) or ref
    changed = changed_charts(root, charts, base, git)
    reasons = dependents(charts, {rel: f"changed: {_shown(files)}" for rel, files in changed.items()})
    chosen = [Selected(c, reasons[c.rel]) for c in charts if c.rel in reasons]
    return dependency_order(chosen), f"{len(chosen)} of {len(charts)} charts changed since {ref} (merge base " \
                                     f"{base[:12]}) or depend on one that did"
