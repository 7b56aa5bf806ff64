"""A values schema that is a `$ref` to a library chart's schema (the way the most used generic app chart is
built): matrix keys are checked against what the reference holds, found offline."""

from __future__ import annotations

import json

import pytest

from portico.errors import InputError
from portico.matrix import spec


def app_chart(tmp_path, ref: str):
    chart = tmp_path / "app"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text("apiVersion: v2\nname: app\nversion: 1.0.0\ndependencies:\n"
                                      "  - {name: common, version: 1.0.0}\n")
    (chart / "values.yaml").write_text("{}\n")
    (chart / "values.schema.json").write_text(json.dumps({"$ref": ref}))
    common = chart / "charts" / "common"
    (common / "templates").mkdir(parents=True)
    (common / "Chart.yaml").write_text("apiVersion: v2\nname: common\ntype: library\nversion: 1.0.0\n")
    (common / "values.schema.json").write_text(json.dumps({
        "type": "object", "additionalProperties": False,
        "properties": {"controllers": {"$ref": "#/$defs/controllers"}, "global": {"type": "object"}},
        "$defs": {"controllers": {"type": "object", "additionalProperties": {"type": "object", "properties": {
            "enabled": {"type": "boolean"}}}}}}))
    return chart


def matrix(tmp_path, chart, path):
    file = tmp_path / "m.yaml"
    file.write_text(json.dumps({"chart": str(chart), "axes": {"a": {"path": path, "values": [True, False]}}}))
    return spec.load(file)


@pytest.mark.parametrize("ref", ["charts/common/values.schema.json", "file://./charts/common/values.schema.json"])
def test_a_key_of_the_referenced_schema_is_known(tmp_path, ref):
    matrix(tmp_path, app_chart(tmp_path, ref), "controllers.main.enabled")


def test_a_typo_is_still_refused_through_the_reference(tmp_path):
    chart = app_chart(tmp_path, "charts/common/values.schema.json")
    with pytest.raises(InputError, match="did you mean 'controllers'"):
        matrix(tmp_path, chart, "controlers.main.enabled")


def test_a_remote_reference_is_named_before_anything_renders(tmp_path):
    """helm fetches a remote $ref on every render, and portico runs offline: the error names it."""
    chart = app_chart(tmp_path, "https://raw.example.invalid/charts/library/common/values.schema.json")
    with pytest.raises(InputError, match="refers to https://raw.example.invalid/charts/library/common"):
        matrix(tmp_path, chart, "controllers.main.enabled")


def test_a_reference_that_cannot_be_found_refuses_no_key(tmp_path):
    from portico import chart as chart_mod

    info = chart_mod.load(app_chart(tmp_path, "schemas/missing.json"))
    assert chart_mod.unknown_key(info, "anything.enabled") is None
