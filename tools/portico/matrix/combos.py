"""Combinations of axis levels: exhaustive, or a t-wise covering array.

A combination is a dict axis name -> level label. Constraints drop
combinations; the t-wise generator only covers t-tuples that some allowed
combination contains, and reports the coverage it reached.
"""

from __future__ import annotations

import itertools
import random
from dataclasses import dataclass
from typing import Any, Iterator

from portico.errors import InputError
from portico.matrix.spec import Axis, Matrix, Rule

Combination = dict[str, str]

# Past this many raw combinations the t-wise generator samples candidates
# instead of scanning every allowed combination.
ENUMERATION_LIMIT = 200_000
CANDIDATES_PER_ROW = 400


@dataclass(frozen=True)
class Coverage:
    t: int
    covered: int
    coverable: int

    @property
    def ratio(self) -> float:
        return self.covered / self.coverable if self.coverable else 1.0


@dataclass(frozen=True)
class Plan:
    combinations: list[Combination]
    total_space: int  # product of the axis sizes
    allowed: int | None  # combinations left by the constraints (None: too many to count)
    coverage: Coverage | None  # t-wise only


def context(matrix: Matrix, combo: Combination) -> dict[str, Any]:
    """Variables for expressions and snippet templates: each axis' value."""
    return {axis.name: axis.raw_value(combo[axis.name]) for axis in matrix.axes}


def evaluate(rule: Rule, variables: dict[str, Any], matrix: Matrix) -> bool:
    key = tuple(repr(variables[name]) for name in rule.variables)
    if key in rule.cache:
        return rule.cache[key]
    try:
        result = bool(rule.compiled(**{name: variables[name] for name in rule.variables}))
    except Exception as exc:  # jinja2 raises many kinds; all mean a bad expression
        raise InputError(f"cannot evaluate {rule.expression!r}: {exc} (axes: {', '.join(matrix.axis_names)})",
                         source=str(matrix.path), key_path=rule.source) from exc
    rule.cache[key] = result
    return result


def allowed(matrix: Matrix, combo: Combination) -> bool:
    variables = context(matrix, combo)
    return not any(evaluate(rule, variables, matrix) for rule in matrix.constraints)


def _all(axes: tuple[Axis, ...]) -> Iterator[Combination]:
    names = [a.name for a in axes]
    for levels in itertools.product(*(a.levels for a in axes)):
        yield dict(zip(names, levels))


def exhaustive(matrix: Matrix) -> Plan:
    total = _space(matrix)
    combos = [c for c in _all(matrix.axes) if allowed(matrix, c)]
    return Plan(combos, total, len(combos), None)


def _space(matrix: Matrix) -> int:
    total = 1
    for axis in matrix.axes:
        total *= len(axis.levels)
    return total


def _tuples(combo: Combination, groups: list[tuple[str, ...]]) -> Iterator[tuple]:
    for group in groups:
        yield tuple((name, combo[name]) for name in group)


def tuples_covered(matrix: Matrix, rows: list[Combination], t: int) -> int:
    """How many distinct t-tuples of axis levels these combinations hold."""
    groups = list(itertools.combinations(matrix.axis_names, min(t, len(matrix.axes))))
    return len({tup for combo in rows for tup in _tuples(combo, groups)})


class _TupleCodec:
    """A t-tuple of axis levels (one level of each axis of a group) as one int: the greedy cover builds and looks
    up hundreds of thousands of them, and ints are several times cheaper than nested tuples of names and levels."""

    def __init__(self, axes: tuple[Axis, ...], groups: list[tuple[str, ...]]):
        position = {a.name: i for i, a in enumerate(axes)}
        self.levels = [list(a.levels) for a in axes]
        self.index = [{level: j for j, level in enumerate(a.levels)} for a in axes]
        self.names = [a.name for a in axes]
        self.groups: list[tuple[int, list[tuple[int, int]]]] = []  # (offset, [(axis position, stride)])
        offset = 0
        for group in groups:
            stride, parts = 1, []
            for name in reversed(group):
                parts.append((position[name], stride))
                stride *= len(axes[position[name]].levels)
            self.groups.append((offset, parts[::-1]))
            offset += stride

    def encode(self, combo: Combination) -> tuple[int, ...]:
        ix = [self.index[i][combo[name]] for i, name in enumerate(self.names)]
        return tuple(offset + sum(ix[pos] * stride for pos, stride in parts) for offset, parts in self.groups)

    def every(self) -> Iterator[int]:
        for offset, parts in self.groups:
            yield from range(offset, offset + parts[0][1] * len(self.levels[parts[0][0]]))

    def decode(self, key: int) -> tuple:
        """The tuple of (axis name, level) pairs, for ordering."""
        offset, parts = max((g for g in self.groups if g[0] <= key), key=lambda g: g[0])
        rest, out = key - offset, []
        for pos, stride in parts:
            out.append((self.names[pos], self.levels[pos][rest // stride]))
            rest %= stride
        return tuple(out)


def t_wise(matrix: Matrix) -> Plan:
    """Greedy covering array: each row is the candidate covering most uncovered t-tuples."""
    t = min(matrix.t, len(matrix.axes))
    rng = random.Random(matrix.seed)
    groups = list(itertools.combinations(matrix.axis_names, t))
    total = _space(matrix)
    if total <= ENUMERATION_LIMIT:
        pool = [c for c in _all(matrix.axes) if allowed(matrix, c)]
        allowed_count: int | None = len(pool)
    else:
        pool = _sample_allowed(matrix, rng, ENUMERATION_LIMIT // 4)
        allowed_count = None
    codec = _TupleCodec(matrix.axes, groups)
    # Each candidate's t-tuples as ints, built once and only for the candidates drawn: scoring is set lookups.
    cache: dict[int, tuple[int, ...]] = {}

    def held(i: int) -> tuple[int, ...]:
        if i not in cache:
            cache[i] = codec.encode(pool[i])
        return cache[i]

    if allowed_count == total:  # every combination allowed: every t-tuple of levels is coverable
        uncovered = set(codec.every())
    else:
        uncovered = {tup for i in range(len(pool)) for tup in held(i)}
    coverable = len(uncovered)
    rows: list[Combination] = []
    everyone = range(len(pool))
    while uncovered and pool:
        # rng.sample over the indices picks what it would pick over the pool itself (same seed, same plan).
        sample = everyone if len(pool) <= CANDIDATES_PER_ROW else rng.sample(everyone, CANDIDATES_PER_ROW)
        best = max(sample, key=lambda i: sum(1 for tup in held(i) if tup in uncovered))
        gain = [tup for tup in held(best) if tup in uncovered]
        if not gain:
            # The sample missed every remaining tuple: take a combination that has the first one (ordered by
            # axis names and levels, as always).
            target = min(uncovered, key=codec.decode)
            best = next(i for i in everyone if target in held(i))
            gain = [tup for tup in held(best) if tup in uncovered]
        rows.append(pool[best])
        uncovered.difference_update(gain)
    coverage = Coverage(t=t, covered=coverable - len(uncovered), coverable=coverable)
    return Plan(rows, total, allowed_count, coverage)


def _sample_allowed(matrix: Matrix, rng: random.Random, count: int) -> list[Combination]:
    seen: dict[tuple, Combination] = {}
    attempts = 0
    while len(seen) < count and attempts < count * 20:
        attempts += 1
        combo = {a.name: rng.choice(a.levels) for a in matrix.axes}
        key = tuple(combo.values())
        if key not in seen and allowed(matrix, combo):
            seen[key] = combo
    return list(seen.values())


def plan(matrix: Matrix) -> Plan:
    return t_wise(matrix) if matrix.strategy == "t-wise" else exhaustive(matrix)


def shard(combos: list[Combination], index: int, count: int) -> list[Combination]:
    """The index-th of count shards (1-based), by position: stable and balanced."""
    return [c for i, c in enumerate(combos) if i % count == index - 1]


def expectation_for(matrix: Matrix, combo: Combination) -> Rule | None:
    variables = context(matrix, combo)
    for rule in matrix.expectations:
        if evaluate(rule, variables, matrix):
            return rule
    return None


def combo_id(matrix: Matrix, combo: Combination) -> str:
    """A readable, filesystem-safe id: the level labels in axis order."""
    import re

    parts = [re.sub(r"[^A-Za-z0-9.]+", "-", combo[name]).strip("-") or "x" for name in matrix.axis_names]
    return "_".join(parts)
