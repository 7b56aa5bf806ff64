"""portico.schema_checks: one strict schema split into what helm checks and what templates explain."""

from __future__ import annotations

import pytest

from portico.errors import InputError
from portico.schema_checks import main, rules_template, split

SOURCE = {
    "type": "object",
    "additionalProperties": False,
    "definitions": {
        "port": {"type": "integer", "minimum": 1, "maximum": 65535},
        "name": {"type": "string", "pattern": "^[a-z]+$", "description": "a lowercase word"},
        "portRef": {"oneOf": [{"$ref": "#/definitions/port"}, {"$ref": "#/definitions/name"}]},
    },
    "properties": {
        "port": {"$ref": "#/definitions/port"},
        "target": {"$ref": "#/definitions/portRef"},
        "kind": {"enum": ["a", "b"]},
        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
        "hosts": {"type": "array", "minItems": 1, "items": {"$ref": "#/definitions/name"}},
    },
}


def test_helm_keeps_types_choices_and_refs_and_loses_what_it_cannot_explain():
    schema, _ = split(SOURCE)
    assert "additionalProperties" not in schema
    assert schema["definitions"]["port"] == {"type": "integer"}
    assert schema["definitions"]["portRef"] == {"type": ["integer", "string"]}, "a union becomes its types"
    assert schema["properties"]["kind"] == {"enum": ["a", "b"]}
    assert schema["properties"]["hosts"] == {"type": "array", "items": {"$ref": "#/definitions/name"}}
    assert SOURCE["definitions"]["port"]["minimum"] == 1, "the source is not changed"


def test_rules_are_inlined_pruned_and_keep_closed_key_lists():
    _, rules = split(SOURCE)
    assert rules["c"] == 1 and set(rules["k"]) == {"port", "target", "kind", "labels", "hosts"}
    assert rules["k"]["port"] == {"min": 1, "max": 65535}
    assert rules["k"]["target"] == {"u": {"number": {"min": 1, "max": 65535},
                                          "string": {"p": "^[a-z]+$", "e": "a lowercase word"}}}
    assert rules["k"]["kind"] == {} and rules["k"]["labels"] == {}, "nothing to check beyond helm's schema"
    assert rules["k"]["hosts"] == {"minI": 1, "i": {"p": "^[a-z]+$", "e": "a lowercase word"}}


@pytest.mark.parametrize("bad,says", [
    ({"properties": {"a": {"type": "string", "pattern": "^x$"}}}, "a pattern needs a description"),
    ({"if": {"properties": {"a": {"const": 1}}}, "then": {"required": ["b"]}}, "'if' is a cross-field rule"),
])
def test_a_source_it_cannot_explain_is_refused(bad, says):
    with pytest.raises(InputError, match=says):
        split(bad)


def test_the_rules_template_defines_one_named_template():
    text = rules_template({"c": 1, "k": {"a": {}}}, "mychart.rules")
    assert '{{- define "mychart.rules" -}}\n{"c":1,"k":{"a":{}}}\n{{- end }}' in text


def test_cli_writes_nothing_on_bad_input(tmp_path, capsys):
    source = tmp_path / "values.schema.yaml"
    source.write_text("properties:\n  a: {type: string, pattern: '^x$'}\n")
    schema, rules = tmp_path / "values.schema.json", tmp_path / "_rules.tpl"
    assert main([str(source), "--schema", str(schema), "--rules", str(rules)]) == 2
    assert "a pattern needs a description" in capsys.readouterr().err
    assert not schema.exists() and not rules.exists()
