"""Matrix files: clear errors naming the key; exhaustive and t-wise plans."""

from __future__ import annotations

import itertools
import subprocess
import sys

import pytest
import yaml

from portico.errors import InputError
from portico.matrix import combos, spec
from portico import values
from portico.matrix import layers as layers_mod
from tests.conftest import FIXTURES

TINY = str(FIXTURES / "charts" / "tiny")


def load(tmp_path, doc) -> spec.Matrix:
    path = tmp_path / "m.yaml"
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False))
    return spec.load(path)


BAD = {
    "unknown top-level key": ({"chart": TINY, "axis": {}}, "(top level)", "'axis' was unexpected"),
    "no axes": ({"chart": TINY}, "(top level)", "'axes' is a required property"),
    "axis without values": ({"chart": TINY, "axes": {"a": {"path": "x"}}}, "axes.a", "matches no allowed form"),
    "reserved axis name": ({"chart": TINY, "axes": {"environment": {"path": "bug", "values": [1]}}}, "axes",
                           "should not be valid"),
    "bad strategy": ({"chart": TINY, "axes": {"a": {"path": "bug", "values": [1]}}, "strategy": {"type": "pairwise"}},
                     "strategy.type", "is not one of ['exhaustive', 't-wise']"),
    "missing chart": ({"chart": "nope", "axes": {"a": {"path": "bug", "values": [1]}}}, "chart", "'nope' does not exist"),
    "missing environment file": ({"chart": TINY, "environments": {"dev": ["dev.yaml"]},
                                  "axes": {"a": {"path": "bug", "values": [1]}}}, "environments.dev[0]",
                                 "'dev.yaml' does not exist"),
    "bad expression": ({"chart": TINY, "axes": {"a": {"path": "bug", "values": [1]}}, "constraints": ["a =="]},
                       "constraints[0]", "invalid expression"),
    "expression on an unknown axis": ({"chart": TINY, "axes": {"a": {"path": "bug", "values": [1]}},
                                       "expectations": [{"when": "b == 1", "error": "x"}]},
                                      "expectations[0].when", "reads b, which is not an axis"),
    "bad snippet template": ({"chart": TINY, "axes": {"a": {"snippets": {"one": "x: {{ a "}}}},
                             "axes.a.snippets.one", "invalid Jinja2 template"),
    "axis on a key the chart lacks": ({"chart": TINY, "axes": {"a": {"path": "replica", "values": [1]}}},
                                      "axes.a.path", "did you mean 'replicas'"),
    "snippet key the chart lacks": ({"chart": TINY, "axes": {"a": {"snippets": {"one": {"selectorLable": "x"}}}}},
                                    "axes.a.snippets.one", "did you mean 'selectorLabel'"),
    "unknown policy rule": ({"chart": TINY, "axes": {"a": {"path": "bug", "values": [1]}},
                             "policy": {"disable": [{"rule": "zero-downtime/readiness", "reason": "r"}]}},
                            "policy.disable[0].rule", "did you mean 'zero-downtime/readiness-probe'"),
    "no schemas for that version": ({"chart": TINY, "axes": {"a": {"path": "bug", "values": [1]}},
                                     "validate": {"kubernetesVersions": ["1.12"]}},
                                    "validate.kubernetesVersions[0]", "no offline schemas for Kubernetes 1.12"),
}


@pytest.mark.parametrize("doc,key_path,message", BAD.values(), ids=BAD.keys())
def test_bad_matrix_files_name_the_file_and_key(tmp_path, doc, key_path, message):
    with pytest.raises(InputError) as err:
        load(tmp_path, doc)
    text = str(err.value)
    assert text.startswith(str(tmp_path / "m.yaml")), text
    assert f": {key_path}: " in text and message in text, text


def test_invalid_yaml_names_the_line(tmp_path):
    with pytest.raises(InputError, match=r"m.yaml: line \d+: not valid YAML"):
        load(tmp_path, "axes:\n  a: [unclosed\n")


def test_a_packaged_chart_is_unpacked_and_a_directory_without_chart_yaml_named(tmp_path):
    """One resolver (chartref.local) for the matrix file's `chart:` and for `--chart`."""
    import tarfile

    package = tmp_path / "tiny-0.1.0.tgz"
    with tarfile.open(package, "w:gz") as tar:
        tar.add(TINY, arcname="tiny")
    matrix = load(tmp_path, {"chart": str(package), "axes": {"a": {"path": "bug", "values": [1]}}})
    assert matrix.chart.is_dir() and (matrix.chart / "Chart.yaml").is_file()
    assert (spec.with_chart(matrix, package).chart / "Chart.yaml").is_file()
    with pytest.raises(InputError, match=r"m.yaml: chart: 'empty' is not a chart \(no Chart.yaml\)"):
        (tmp_path / "empty").mkdir()
        load(tmp_path, {"chart": "empty", "axes": {"a": {"path": "bug", "values": [1]}}})
    with pytest.raises(InputError, match=r"--chart: .* is not a chart \(no Chart.yaml\)"):
        spec.with_chart(matrix, tmp_path / "empty")


def test_cli_bad_matrix_exits_2_and_writes_nothing(tmp_path):
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump({"chart": TINY, "axes": {"a": {"path": "x"}}}))
    proc = subprocess.run([sys.executable, "-m", "portico.cli", "matrix", str(path), "-o", str(tmp_path / "out"),
                           "--json", str(tmp_path / "r.json")], capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith(f"portico: {path}: axes.a:") and "Traceback" not in proc.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "r.json").exists()


def test_cli_bad_flag_exits_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "portico.cli", "matrix", "x.yaml", "--shard", "3/2"],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "--shard" in proc.stderr


def grid(tmp_path, sizes, **extra) -> spec.Matrix:
    axes = {f"a{i}": {"path": f"k{i}", "values": list(range(n)), "newKey": True} for i, n in enumerate(sizes)}
    return load(tmp_path, {"chart": TINY, "axes": axes, **extra})


def test_exhaustive_with_constraints(tmp_path):
    m = grid(tmp_path, [3, 2, 2], constraints=["a0 == 2 and a1 == 1", {"when": "a2 == 1 and a0 == 0", "reason": "x"}])
    p = combos.plan(m)
    # Each constraint drops two combinations; they never drop the same one.
    assert p.total_space == 12 and p.allowed == len(p.combinations) == 8


def _pairs(m, rows):
    return {((a, r[a]), (b, r[b])) for r in rows for a, b in itertools.combinations(m.axis_names, 2)}


def test_t_wise_covers_every_allowed_pair_with_few_rows(tmp_path):
    m = grid(tmp_path, [4, 4, 3, 3, 2, 2], strategy={"type": "t-wise", "seed": 3},
             constraints=["a0 == 3 and a1 == 3"])
    p = combos.plan(m)
    allowed = [c for c in combos.exhaustive(m).combinations]
    assert _pairs(m, p.combinations) == _pairs(m, allowed)
    assert p.coverage.ratio == 1.0 and p.coverage.t == 2
    assert len(p.combinations) < len(allowed) / 10
    assert all(combos.allowed(m, c) for c in p.combinations)


def test_t_wise_is_deterministic_and_t_is_configurable(tmp_path):
    m = grid(tmp_path, [3, 3, 3, 3], strategy={"type": "t-wise", "t": 3, "seed": 9})
    first, second = combos.plan(m), combos.plan(m)
    assert first.combinations == second.combinations
    assert first.coverage.t == 3 and first.coverage.ratio == 1.0
    assert first.coverage.coverable == 4 * 27


def test_the_t_wise_codec_keeps_every_tuple_and_its_order(tmp_path):
    """The greedy cover counts t-tuples as ints; each int is one tuple of (axis, level) pairs, every tuple has
    one, and ints ordered by their tuples order as the tuples do (the fallback row takes the first)."""
    m = grid(tmp_path, [3, 2, 4], strategy={"type": "t-wise", "t": 2, "seed": 1})
    groups = list(itertools.combinations(m.axis_names, 2))
    codec = combos._TupleCodec(m.axes, groups)
    keys = list(codec.every())
    as_tuples = {tuple(combos._tuples(c, groups)) for c in combos.exhaustive(m).combinations}
    assert {codec.decode(k) for k in keys} == {tup for row in as_tuples for tup in row}
    assert len(set(keys)) == len(keys) == 3 * 2 + 3 * 4 + 2 * 4
    for combo in combos.exhaustive(m).combinations:
        assert [codec.decode(k) for k in codec.encode(combo)] == list(combos._tuples(combo, groups))


def test_jinja_snippets_see_every_axis(tmp_path):
    m = load(tmp_path, {"chart": TINY, "axes": {
        "size": {"path": "replicas", "values": [1, 3]},
        "label": {"snippets": {"plain": {"selectorLabel": "x"},
                               "sized": "selectorLabel: tiny-{{ size }}\nextra: {{ 'big' if size > 1 else 'small' }}"}}}})
    layers = layers_mod.layers(m, {"size": "3", "label": "sized"})
    assert values.merge(layers) == {"replicas": 3, "selectorLabel": "tiny-3", "extra": "big"}


def test_the_spec_knows_every_assert_helper():
    from portico.matrix import properties, spec

    assert spec.ASSERT_HELPERS == set(properties.helpers([]))


def test_named_finds_one_object_by_kind_and_name():
    from portico.matrix import properties

    docs = [{"kind": "Service", "metadata": {"name": "a"}, "spec": {"type": "ClusterIP"}},
            {"kind": "Service", "metadata": {"name": "b"}, "spec": {"type": "NodePort"}}]
    named = properties.helpers(docs)["named"]
    assert named("Service", "b")["spec"]["type"] == "NodePort" and named("Service", "c") is None
