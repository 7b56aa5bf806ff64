"""Findings a person can read: one per (stage, rule, object, message), with where it happens.

Each group carries every combination that produces it, the Kubernetes versions
it was seen on, and the smallest set of axis levels that triggers it (when one
exists: every combination with those levels has the finding, and no level can
be dropped without losing that).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Iterable

from portico.results import Finding


def _key(f: Finding) -> tuple:
    return (f.stage, f.rule, f.kind, f.name, f.message, f.severity)


def group(findings: Iterable[Finding], order: dict[str, int]) -> list[Finding]:
    merged: dict[tuple, Finding] = {}
    versions: dict[tuple, set[str]] = {}
    combos: dict[tuple, set[str]] = {}
    for f in findings:
        key = _key(f)
        merged.setdefault(key, f)
        versions.setdefault(key, set()).update(v for v in f.kubernetes_version.split(", ") if v)
        combos.setdefault(key, set()).update(f.combinations)
    out = []
    for key, first in merged.items():
        ordered = tuple(sorted(combos[key], key=lambda c: order.get(c, len(order))))
        out.append(replace(first, combinations=ordered,
                           kubernetes_version=", ".join(sorted(versions[key], key=_version_key))))
    return sorted(out, key=lambda f: (f.stage, f.rule, f.kind, f.name, f.message))


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(p) for p in version.split(".") if p.isdigit())


def trigger(combination_ids: tuple[str, ...], levels: dict[str, dict[str, str]]) -> tuple[tuple[str, str], ...] | None:
    """The smallest axis=level set whose combinations (in this run) all have the finding; None if none exists."""
    chosen = set(combination_ids)
    if not chosen:
        return None
    common = set.intersection(*(set(levels[c].items()) for c in chosen if c in levels))
    if not _implies(common, chosen, levels):
        return None
    pairs = sorted(common)
    for pair in list(pairs):
        smaller = set(pairs) - {pair}
        if _implies(smaller, chosen, levels):
            pairs.remove(pair)
    return tuple(pairs)


def _implies(pairs: set[tuple[str, str]], chosen: set[str], levels: dict[str, dict[str, str]]) -> bool:
    return all(cid in chosen for cid, combo in levels.items() if pairs <= set(combo.items()))
