"""The renderer cross-check: a few combinations of every run rendered again by `helm template` and compared.

portico-render keeps a chart loaded and caches parsed templates across renders for speed; a cache keyed too
coarsely would give wrong renders that every later stage trusts. So each run renders, with the real helm,
one combination per distinct setting of the values that switch subcharts on and off (their conditions and
tags: the input a stale chart state would miss), and stops with a "renderer divergence" error when the
objects differ. It runs beside the other stages and costs one `helm template` for a chart without subcharts.
"""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from collections import Counter
from dataclasses import dataclass
from typing import Any

from portico import values as values_mod
from portico.errors import EXIT_FINDINGS, PorticoError
from portico.matrix import randomness
from portico.renderer import HelmLoopRenderer, RenderJob, RenderResult

_ABSENT = "<absent>"


class RendererDivergence(PorticoError):
    """portico-render and `helm template` disagree on a combination: every finding of the run is suspect."""

    exit_code = EXIT_FINDINGS


def _at(values: dict[str, Any], path: str) -> Any:
    node: Any = values
    for key in path.split("."):
        if not isinstance(node, dict) or key not in node:
            return _ABSENT
        node = node[key]
    # helm reads a condition or a tag only when it is a bool: anything else is as good as absent
    return node if isinstance(node, bool) else _ABSENT


def choose(jobs: list[RenderJob], switches: tuple[str, ...]) -> list[RenderJob]:
    """The first job of each distinct setting of the subchart switches (one job when the chart has none)."""
    chosen: dict[tuple, RenderJob] = {}
    for job in jobs:
        merged = values_mod.merge(job.layers) if switches else {}
        chosen.setdefault(tuple(_at(merged, path) for path in switches), job)
    return list(chosen.values())


@dataclass(frozen=True)
class Divergence:
    combination: str  # its id: the directory under combinations/
    levels: str  # "a=true, b=false": what a reader recognises
    detail: str

    def error(self) -> RendererDivergence:
        return RendererDivergence(
            f"renderer divergence on the combination {self.levels or self.combination}: {self.detail}. "
            f"portico-render and `helm template` disagree, so this run's checks cannot be trusted: run it with "
            f"--renderer helm, and report the combination (id {self.combination})")


def _label(doc: dict) -> str:
    meta = doc.get("metadata") if isinstance(doc.get("metadata"), dict) else {}
    return f"{doc.get('kind')} {meta.get('name')}"


def _missing(docs: list[dict], others: list[dict]) -> str | None:
    """The first document of `docs` whose kind and name `others` lack (counting repeats)."""
    left = Counter(_label(d) for d in others)
    for doc in docs:
        if left[_label(doc)] == 0:
            return _label(doc)
        left[_label(doc)] -= 1
    return None


def compare(ours: RenderResult, helm: RenderResult, masks: set) -> str | None:
    """None when both renders hold the same objects (randomised places aside), else the first difference."""
    if ours.error or helm.error:
        if (ours.error or "").strip() == (helm.error or "").strip():
            return None
        return (f"helm template {'failed: ' + helm.error.strip() if helm.error else 'rendered it'}, portico-render "
                f"{'failed: ' + ours.error.strip() if ours.error else 'rendered it'}")
    if ours.manifest == helm.manifest:
        return None
    mine, theirs = randomness.masked_documents(ours.manifest, masks), randomness.masked_documents(helm.manifest, masks)
    if missing := _missing(theirs, mine):
        return f"{missing} is in helm template's render and missing from portico-render's"
    if extra := _missing(mine, theirs):
        return f"{extra} is in portico-render's render and not in helm template's"
    for a, b in zip(mine, theirs):
        if _label(a) != _label(b):
            return f"the same objects in another order ({_label(b)} where portico-render has {_label(a)})"
        if a != b:
            return f"{_label(b)} differs at {randomness.first_difference(a, b)}"
    return None


class CrossCheck:
    """Started once the renders are in; `result()` waits for helm and returns the first divergence, if any."""

    def __init__(self, chart, jobs: list[RenderJob]):
        self.jobs = jobs
        self._helm = HelmLoopRenderer(chart, parallel=min(2, max(1, len(jobs))))
        self._pool = ThreadPoolExecutor(1, thread_name_prefix="portico-crosscheck")
        self._future: Future = self._pool.submit(lambda: {r.id: r for r in self._helm.render_many(jobs)})

    def result(self, ours: dict[str, RenderResult], masks: set, levels: dict[str, str]) -> Divergence | None:
        try:
            theirs = self._future.result()
        finally:
            self._pool.shutdown(wait=False)
        for job in self.jobs:
            detail = compare(ours[job.id], theirs[job.id], masks)
            if detail is None:
                continue
            # A place the chart randomises that the probes did not see shows as a difference: helm's own
            # second render tells it apart from a real one.
            again = self._helm.render_one(job)
            extra = randomness.masks([(theirs[job.id].manifest, again.manifest)]) if not again.error else set()
            if extra and compare(ours[job.id], theirs[job.id], masks | extra) is None:
                continue
            return Divergence(job.id, levels.get(job.id, ""), detail)
        return None

    def cancel(self) -> None:
        self._future.cancel()
        self._pool.shutdown(wait=False)
