"""The in-process renderer is byte-identical to `helm template --include-crds` on every corpus chart and this
chart, for a seeded sample of each matrix's combinations (errors included, with helm's exact text), apart from
the lines helm itself randomises (generated passwords, keys and certificates, and checksums of them): those
are the lines where two helm runs of the same combination differ.

Helm 3 renders what Helm 4 renders on the same sample (the same documents, each line the same but for
whitespace: Helm 4 prints a blank line after each document and keeps trailing spaces Helm 3 trims; and Helm 4
orders ValidatingWebhookConfiguration before unknown kinds), except where its output is known not to match
(listed in HELM3_DIFFERS with the reason)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from portico.matrix import combos, spec
from portico.matrix.run import build_jobs
from portico.renderer import HelmLoopRenderer, InProcessRenderer
from tests.conftest import CHART, REPO

MATRICES = {"portico": CHART / "ci" / "matrix.yaml",
            **{p.stem: p for p in sorted((REPO / "tests" / "corpus").glob("*.yaml"))}}
SAMPLE = 6
HELM3_DIFFERS: dict[str, str] = {}  # chart -> why helm 3's documents differ from helm 4's (none so far)


def sample_jobs(path: Path):
    matrix = spec.load(path)
    _, jobs = build_jobs(matrix, combos.plan(matrix).combinations)
    ours = {r.id: r for r in InProcessRenderer(matrix.chart).render_many(jobs)}
    rng = random.Random(20261201)
    errors = [j for j in jobs if ours[j.id].error]
    chosen = rng.sample(jobs, min(SAMPLE, len(jobs))) + rng.sample(errors, min(2, len(errors)))
    return matrix.chart, list({j.id: j for j in chosen}.values()), ours


def differing_lines(a: str, b: str) -> set[int] | None:
    """Indexes of lines that differ between two renders of the same input; None when the line counts differ."""
    la, lb = a.splitlines(), b.splitlines()
    if len(la) != len(lb):
        return None
    return {i for i, (x, y) in enumerate(zip(la, lb)) if x != y}


def assert_same(ours, helm_a, helm_b, label: str) -> None:
    if helm_a.error or helm_b.error:
        assert (ours.error or "").strip() == (helm_a.error or "").strip(), label
        return
    assert not ours.error, f"{label}: portico-render failed where helm did not: {ours.error}"
    if helm_a.manifest == helm_b.manifest:
        assert ours.manifest == helm_a.manifest, f"{label}: not byte-identical"
        return
    random_lines = differing_lines(helm_a.manifest, helm_b.manifest)
    assert random_lines is not None, f"{label}: helm's own renders differ in length; cannot compare"
    mine, theirs = ours.manifest.splitlines(), helm_a.manifest.splitlines()
    assert len(mine) == len(theirs), f"{label}: {len(mine)} lines, helm {len(theirs)}"
    wrong = [i for i, (x, y) in enumerate(zip(mine, theirs)) if i not in random_lines and x != y]
    assert not wrong, f"{label}: line {wrong[0] + 1}: {mine[wrong[0]]!r} != {theirs[wrong[0]]!r}"
    assert len(random_lines) < len(theirs) / 2, f"{label}: most lines random: nothing compared"


@pytest.mark.parametrize("name", MATRICES)
def test_byte_identical_to_helm_template(name):
    chart, jobs, ours = sample_jobs(MATRICES[name])
    helm = HelmLoopRenderer(chart, parallel=2)
    first = {r.id: r for r in helm.render_many(jobs)}
    second = {r.id: r for r in helm.render_many(jobs)}
    for job in jobs:
        assert_same(ours[job.id], first[job.id], second[job.id], f"{name} {job.id}")


@pytest.mark.parametrize("name", [n for n in MATRICES if n not in HELM3_DIFFERS])
def test_helm3_renders_what_helm4_renders(name):
    chart, jobs, ours = sample_jobs(MATRICES[name])
    helm3 = {r.id: r for r in HelmLoopRenderer(chart, parallel=2, helm="helm3").render_many(jobs)}
    helm4 = {r.id: r for r in HelmLoopRenderer(chart, parallel=2).render_many(jobs)}
    for job in jobs:
        # Helm 4's `helm template` separates documents with a blank line that Helm 3's does not print, keeps
        # trailing spaces that Helm 3 trims, and orders some kinds differently: compared without those.
        a, b = trimmed(helm3[job.id]), trimmed(helm4[job.id])
        if a.error or b.error:
            assert bool(a.error) == bool(b.error), f"{name} {job.id}: helm3 {a.error!r}, helm4 {b.error!r}"
            continue
        assert differing_lines(a.manifest, b.manifest) is not None, f"{name} {job.id}: line counts differ"
        assert_same(a, b, trimmed(HelmLoopRenderer(chart)._one(job)), f"{name} {job.id} (helm 3)")


def trimmed(result):
    """Whitespace-free lines, documents in a fixed order (helm 4 added ValidatingWebhookConfiguration to its
    install order; helm 3 sorts it among unknown kinds, so ServiceMonitors move): the same documents compare
    equal."""
    from portico.renderer import RenderResult

    docs, current = [], []
    for line in result.manifest.splitlines():
        if line.startswith("---") and current:
            docs.append(current)
            current = []
        if line.strip():
            current.append(line.rstrip())
    docs.append(current)

    def key(doc: list[str]) -> tuple:
        return tuple(ln for ln in doc if ln.startswith(("# Source:", "kind:", "  name:")))[:3]

    return RenderResult(result.id, "\n".join(ln for doc in sorted(docs, key=key) for ln in doc), result.error)


def test_the_comparison_catches_a_difference():
    """Negative control: one changed byte outside the random lines fails, one inside passes."""
    from portico.renderer import RenderResult

    a = RenderResult("x", "kind: Secret\npassword: abc\nname: web\n", None)
    b = RenderResult("x", "kind: Secret\npassword: xyz\nname: web\n", None)
    assert_same(RenderResult("x", "kind: Secret\npassword: 123\nname: web\n", None), a, b, "random line")
    with pytest.raises(AssertionError, match="line 3"):
        assert_same(RenderResult("x", "kind: Secret\npassword: 123\nname: wab\n", None), a, b, "fixed line")
    with pytest.raises(AssertionError, match="byte-identical"):
        assert_same(RenderResult("x", a.manifest + " ", None), a, a, "trailing space")
    with pytest.raises(AssertionError):
        assert_same(RenderResult("x", "", "other error"), RenderResult("x", "", "an error"),
                    RenderResult("x", "", "an error"), "error text")
