"""Every rejection: the schema's and the templates' `fail`s, each with the message a user sees."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from portico.schema_checks import rules_template, split

from tests.chart.rejections import REJECTIONS, markdown
from tests.chart.render import render, render_error
from tests.conftest import CHART

HTTP = {"name": "http", "port": 80, "targetPort": "http"}

def user_message(stderr: str) -> str:
    """What helm shows the user, without its framing (the template location, the --debug hint)."""
    text = stderr.strip().removeprefix("Error: ")
    if text.startswith("values don't meet the specifications"):
        return "\n".join(line.removeprefix("- ") for line in text.splitlines()[2:])
    _, _, message = text.partition("): ")
    return message.split("\n\nUse --debug flag")[0].strip()


def test_the_table_covers_at_least_forty_rejections():
    assert len(REJECTIONS) >= 40


@pytest.mark.parametrize("helm", ["helm", "helm3"])
@pytest.mark.parametrize("values,message,extra", [(v, m, *(rest or [[]])) for v, m, *rest in REJECTIONS.values()],
                         ids=REJECTIONS.keys())
def test_rejection_says_what_is_wrong_in_plain_words(values, message, extra, helm):
    assert user_message(render_error(values, helm=helm, extra=extra)) == message


def test_rejection_messages_read_as_words_not_validator_internals():
    internals = ("maxItems:", "minItems:", "maxLength:", "does not match pattern", "allOf failed", "<nil>",
                 "additional properties", "value must be '")
    for name, (_, message, *_) in REJECTIONS.items():
        assert not any(token in message for token in internals), name


def test_every_fail_in_the_templates_is_in_the_table():
    """Each `fail` message the templates can print (its printf format) matches a message in the table."""
    fail = re.compile(r'fail (?:\(printf )?"((?:[^"\\]|\\.)*)"')
    messages = [message for _, message, *_ in REJECTIONS.values()]
    untested = []
    for template in sorted((CHART / "templates").rglob("*")):
        for fmt in fail.findall(template.read_text()) if template.is_file() else ():
            pattern = re.escape(fmt.encode().decode("unicode_escape"))
            pattern = re.sub(r"%[sdvq]", ".+", pattern.replace("%%", "%"))
            if not any(re.search(pattern, message) for message in messages):
                untested.append(f"{template.name}: {fmt}")
    assert not untested, "add a case to tests/chart/rejections.py for:\n" + "\n".join(untested)


def test_every_rejection_is_documented_in_the_chart_readme():
    assert markdown() in (CHART / "README.md.gotmpl").read_text(), "run `make docs`"
    assert markdown() in (CHART / "README.md").read_text(), "run `make docs`"


def test_node_port_range_is_overridable():
    values = {"nodePortRange": {"min": 20000, "max": 22767},
              "service": {"type": "NodePort", "ports": [dict(HTTP, nodePort=20080)]}}
    assert render(values).one("Service")["spec"]["ports"][0]["nodePort"] == 20080
    values["service"]["ports"] = [dict(HTTP, nodePort=30080)]
    assert "30080 is outside nodePortRange 20000-22767" in render_error(values)


def test_null_unsets_a_default():
    container = render({"resources": None, "probes": {"readiness": {"spec": {"periodSeconds": None}}}}).container()
    assert "resources" not in container
    assert "periodSeconds" not in container["readinessProbe"]


def test_schema_source_is_self_contained_and_strict_everywhere():
    schema = yaml.safe_load((CHART / "values.schema.yaml").read_text())
    refs = []

    def walk(node, path):
        if isinstance(node, dict):
            if "$ref" in node:
                refs.append(node["$ref"])
            is_object = node.get("type") == "object" or node.get("type") == ["object", "null"]
            passthrough = "Kubernetes object passed through" in node.get("description", "")
            open_map = "additionalProperties" in node and node["additionalProperties"] is not False
            if is_object and "properties" in node:
                assert node.get("additionalProperties") is False, f"{path} lacks additionalProperties: false"
            elif is_object and not (passthrough or open_map or "allOf" in node or path == "/properties/global"):
                raise AssertionError(f"{path} is an object with neither properties nor a declared shape")
            for key, value in node.items():
                walk(value, f"{path}/{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{path}/{i}")

    walk(schema, "")
    assert schema["additionalProperties"] is False
    assert refs and all(ref.startswith("#/") for ref in refs), "every $ref must be local (air-gapped)"


def test_generated_schema_and_rules_match_their_source():
    schema, rules = split(yaml.safe_load((CHART / "values.schema.yaml").read_text()))
    assert json.loads((CHART / "values.schema.json").read_text()) == schema, "run `make schema`"
    assert (CHART / "templates" / "_schema_rules.tpl").read_text() == rules_template(rules, "portico.schemaRules"), \
        "run `make schema`"
