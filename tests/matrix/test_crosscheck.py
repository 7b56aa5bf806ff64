"""The renderer cross-check of every matrix run: one combination per subchart setting rendered again by
`helm template`; a renderer that drops what a subchart makes (the class of bug it is there for) stops the run."""

from __future__ import annotations

import json

import pytest

from portico.matrix import crosscheck, spec
from portico.matrix.run import Options, build_jobs, run
from portico.matrix import combos
from portico.renderer import InProcessRenderer, RenderJob, RenderResult
from portico.values import merge
from tests.conftest import FIXTURES

SUBCHARTS = FIXTURES / "charts" / "subcharts"
TINY = FIXTURES / "charts" / "tiny"


def subchart_matrix(tmp_path, axes=None):
    path = tmp_path / "matrix.yaml"
    path.write_text(json.dumps({"chart": str(SUBCHARTS), "axes": axes or {
        "a": {"path": "a.enabled", "values": [False, True]},
        "b": {"path": "b.enabled", "values": [False, True]},
        "tier": {"path": "global.tier", "values": ["web", "batch"]}}}))
    return spec.load(path)


def test_the_chart_names_every_switch_of_its_subcharts():
    matrix = spec.load(SUBCHARTS / "ci" / "matrix.yaml")
    assert set(matrix.subchart_switches) == {"a.enabled", "b.enabled", "b2.enabled", "tags.extras",
                                             "crdsub.enabled", "a.nested.enabled"}


def test_one_combination_per_subchart_setting(tmp_path):
    matrix = subchart_matrix(tmp_path)
    _, jobs = build_jobs(matrix, combos.plan(matrix).combinations)
    chosen = crosscheck.choose(jobs, matrix.subchart_switches)
    # global.tier switches no subchart: 8 combinations, 4 settings of a and b
    assert len(jobs) == 8 and len(chosen) == 4
    merged = [merge(j.layers) for j in chosen]
    assert len({(m["a"]["enabled"], m["b"]["enabled"]) for m in merged}) == 4
    assert len(crosscheck.choose(jobs, ())) == 1


def test_a_non_bool_switch_counts_as_unset():
    jobs = [RenderJob("x", [{"a": {"enabled": "yes"}}]), RenderJob("y", [{}]), RenderJob("z", [{"a": {"enabled": 1}}])]
    assert [j.id for j in crosscheck.choose(jobs, ("a.enabled",))] == ["x"]


def test_compare_names_the_first_difference():
    cm = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {}\ndata:\n  k: {}\n"
    one, two = cm.format("one", "v"), cm.format("two", "v")
    assert crosscheck.compare(RenderResult("x", one, None), RenderResult("x", one, None), set()) is None
    assert crosscheck.compare(RenderResult("x", one, None), RenderResult("x", one + "---\n" + two, None),
                              set()) == "ConfigMap two is in helm template's render and missing from portico-render's"
    assert crosscheck.compare(RenderResult("x", cm.format("one", "w"), None), RenderResult("x", one, None),
                              set()) == "ConfigMap one differs at data.k"
    # a place the chart randomises is no difference
    assert crosscheck.compare(RenderResult("x", cm.format("one", "w"), None), RenderResult("x", one, None),
                              {(0, "ConfigMap", ("data", "k"))}) is None
    assert "helm template rendered it, portico-render failed: boom" == crosscheck.compare(
        RenderResult("x", "", "boom"), RenderResult("x", one, None), set())


def test_a_run_reports_how_many_combinations_it_cross_checked(tmp_path):
    result = run(subchart_matrix(tmp_path), tmp_path / "out")
    assert result.cross_checked == 4
    assert json.loads((tmp_path / "out" / "index.json").read_text())["combinations"]


class StaleSubcharts:
    """A renderer with the bug this check is for: after a render that disables subchart a, a is gone for good."""

    def __init__(self, chart):
        self.inner = InProcessRenderer(chart, workers=1)
        self.dropped = False

    def render_many(self, jobs):
        for job in jobs:
            result = next(iter(self.inner.render_many([job])))
            if self.dropped:
                kept = [p for p in result.manifest.split("---\n") if "charts/a/templates" not in p]
                result = RenderResult(result.id, "---\n".join(kept), result.error)
            if merge(job.layers).get("a", {}).get("enabled") is False:
                self.dropped = True
            yield result


def test_negative_control_a_renderer_that_drops_a_subchart_stops_the_run(tmp_path):
    with pytest.raises(crosscheck.RendererDivergence) as caught:
        run(subchart_matrix(tmp_path), tmp_path / "out", renderer=StaleSubcharts(SUBCHARTS))
    message = str(caught.value)
    assert "renderer divergence on the combination a=true, b=false, tier=web: ConfigMap release-a is in helm " \
           "template's render and missing from portico-render's" in message
    assert "--renderer helm" in message
    assert caught.value.exit_code == 1
    assert not (tmp_path / "out").exists(), "nothing is written from a run whose renders cannot be trusted"


def test_the_cross_check_can_be_turned_off(tmp_path):
    result = run(subchart_matrix(tmp_path), tmp_path / "out", renderer=StaleSubcharts(SUBCHARTS),
                 options=Options(cross_check=False))
    assert result.cross_checked == 0
