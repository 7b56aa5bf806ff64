"""The in-process renderer is byte-identical to `helm template --include-crds` on every corpus chart and this
chart, for a seeded sample of each matrix's combinations (errors included, with helm's exact text), apart from
the lines helm itself randomises (generated passwords, keys and certificates, and checksums of them): those
are the lines where two helm runs of the same combination differ.

Helm 3 renders what Helm 4 renders on the same sample (the same documents, each line the same but for
whitespace: Helm 4 prints a blank line after each document and keeps trailing spaces Helm 3 trims; and Helm 4
orders ValidatingWebhookConfiguration before unknown kinds), except where its output is known not to match
(listed in HELM3_DIFFERS with the reason)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest

from portico.matrix import combos, spec
from portico.matrix.run import build_jobs
from portico.renderer import HelmLoopRenderer, InProcessRenderer, RenderJob
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
        assert_same(a, b, trimmed(HelmLoopRenderer(chart).render_one(job)), f"{name} {job.id} (helm 3)")


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


# --- Subcharts switched by conditions and tags: the renderer keeps state across renders (a loaded chart,
# parsed templates); these render every combination of matrices built to stress that state, in several
# orders within one renderer process, and compare each with `helm template`.

SUBCHARTS = REPO / "tests" / "fixtures" / "charts" / "subcharts"
MONOREPOS = REPO.parent / "shared" / "monorepos"


def _sources(manifest: str) -> list[str]:
    return sorted({ln.split("/templates/")[0].split("/crds/")[0].removeprefix("# Source: ")
                   for ln in manifest.splitlines() if ln.startswith("# Source: ")})


def test_a_subchart_enabled_after_one_disabled_still_renders():
    """The issue's minimal reproduction: axes a.enabled and b.enabled, in the order the matrix plans them. A
    chart state left by an earlier render (a dropped from the chart) lost a's objects."""
    jobs = [RenderJob(f"a={a},b={b}", [{"a": {"enabled": a}, "b": {"enabled": b}, "crdsub": {"enabled": False},
                                         "tags": {"extras": False}}]) for a in (False, True) for b in (False, True)]
    ours = {r.id: r for r in InProcessRenderer(SUBCHARTS, workers=1).render_many(jobs)}
    assert {k: _sources(r.manifest) for k, r in ours.items()} == {
        "a=False,b=False": ["parent"], "a=False,b=True": ["parent", "parent/charts/b"],
        "a=True,b=False": ["parent", "parent/charts/a"],
        "a=True,b=True": ["parent", "parent/charts/a", "parent/charts/b"]}


def every_combination_in_orders(matrix_path: Path, orders: int = 3, seed: int = 20261207, workers: int = 2):
    """Each combination rendered `orders` times in one renderer process, in the planned order and shuffled."""
    matrix = spec.load(matrix_path)
    _, jobs = build_jobs(matrix, combos.plan(matrix).combinations)
    rng = random.Random(seed)
    sequence = []
    for n in range(orders):
        batch = list(jobs) if n == 0 else rng.sample(jobs, len(jobs))
        sequence += [RenderJob(f"{n}:{j.id}", j.layers, j.kube_version, j.release, j.namespace, j.api_versions)
                     for j in batch]
    ours = {r.id: r for r in InProcessRenderer(matrix.chart, workers=workers).render_many(sequence)}
    return matrix.chart, jobs, ours, orders


def assert_every_order_matches_helm(matrix_path: Path, randomised: bool = False, **kwargs) -> None:
    chart, jobs, ours, orders = every_combination_in_orders(matrix_path, **kwargs)
    helm = HelmLoopRenderer(chart, parallel=2)
    first = {r.id: r for r in helm.render_many(jobs)}
    # rendered twice only where the chart randomises: the lines where helm's own renders differ
    second = {j.id: helm.render_one(j) if randomised else first[j.id] for j in jobs}
    for job in jobs:
        for n in range(orders):
            assert_same(ours[f"{n}:{job.id}"], first[job.id], second[job.id], f"{matrix_path.name} order {n} {job.id}")


def test_subchart_stress_matrix_every_combination_every_order():
    """Conditions, tags, an alias, a nested subchart, import-values, a library chart, a subchart's crds/, global
    values and a Capabilities check: 256 combinations, three orders, against helm."""
    assert_every_order_matches_helm(SUBCHARTS / "ci" / "matrix.yaml")


def _vendored(chart: Path, siblings: Path, dest: Path) -> Path:
    """A copy of a monorepo chart with its dependencies of the same repository in charts/ (recursively)."""
    import shutil

    import yaml as _yaml

    shutil.copytree(chart, dest, ignore=shutil.ignore_patterns("ci"))
    for dep in (_yaml.safe_load((chart / "Chart.yaml").read_text()).get("dependencies") or []):
        if not (dest / "charts" / dep["name"]).exists() and (siblings / dep["name"] / "Chart.yaml").exists():
            _vendored(siblings / dep["name"], siblings, dest / "charts" / dep["name"])
    return dest


MONOREPO_MATRICES = {
    # bitnami: conditions (mariadb, memcached) and a tag (common), dependencies of the same repository
    "bitnami-wordpress": ("bitnami-charts/bitnami", "wordpress", True, {
        "mariadb": ("mariadb.enabled", [True, False]), "memcached": ("memcached.enabled", [False, True]),
        "common": ("tags.bitnami-common", [True, False])}),
    # grafana: a vendored crds subchart behind a condition (kube-prometheus-stack's layout)
    "grafana-rollout-operator": ("grafana-helm-charts/charts", "rollout-operator", False, {
        "crds": ("crds.enabled", [False, True]), "monitor": ("serviceMonitor.enabled", [False, True])}),
}


@pytest.mark.parametrize("name", MONOREPO_MATRICES)
def test_monorepo_charts_with_their_dependencies_every_order(name, tmp_path):
    root, chart_name, randomised, axes = MONOREPO_MATRICES[name]
    siblings = MONOREPOS / root
    chart = _vendored(siblings / chart_name, siblings, tmp_path / chart_name)
    matrix = tmp_path / "matrix.yaml"
    matrix.write_text(json.dumps({"chart": str(chart), "axes": {
        axis: {"path": path, "values": levels, "newKey": True} for axis, (path, levels) in axes.items()}}))
    assert_every_order_matches_helm(matrix, randomised=randomised)
