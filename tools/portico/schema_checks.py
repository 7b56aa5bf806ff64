"""Split a strict values schema into what helm checks and what a chart's templates explain.

helm validates values.schema.json before any template runs, and its validator's
messages cannot say what to do ("maxItems: got 1, want 0", a raw regex, "additional
properties 'typ' not allowed"). So a chart keeps one strict source and this module
derives two files from it:

- the schema helm reads: types, choices (enum) and required keys, whose messages are
  plain ("got string, want integer", "value must be one of ...", "missing property");
- a rules document, embedded in a template, that the chart's checker walks at render
  time: unknown keys (with a did-you-mean), patterns, bounds, lengths and item counts,
  each said in the words of the rule's `description`.

Cross-field rules (if/then) do not survive the split: they belong in the chart's own
`fail`s, where the message can name both keys. `split` refuses a source that still
has them, and a pattern without a description (its message would be a regex).
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

import yaml

from portico.errors import InputError
from portico.values import read_yaml

# Keywords whose failures the templates explain; helm's schema does not get them.
EXPLAINED = ("pattern", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "minLength", "maxLength",
             "minItems", "maxItems", "propertyNames")
CROSS_FIELD = ("if", "then", "else", "dependencies", "dependentRequired", "dependentSchemas")
KINDS = {"integer": "number", "number": "number", "string": "string", "boolean": "boolean", "object": "object",
         "array": "array", "null": "null"}


def split(source: dict[str, Any], *, where: str = "values.schema.yaml") -> tuple[dict[str, Any], dict[str, Any]]:
    """(schema for helm, rules for the templates) from a strict source schema."""
    definitions = source.get("definitions", {})
    _refuse_unexplained(source, where, "")
    return _for_helm(copy.deepcopy(source), definitions), _rules(source, definitions, set())


def _refuse_unexplained(node: Any, where: str, path: str) -> None:
    if isinstance(node, list):
        for i, item in enumerate(node):
            _refuse_unexplained(item, where, f"{path}/{i}")
        return
    if not isinstance(node, dict):
        return
    for key in CROSS_FIELD:
        if key in node:
            raise InputError(f"{path or '/'}: {key!r} is a cross-field rule; write it as a template `fail` that "
                             "names both keys", source=where)
    if "pattern" in node and not node.get("description"):
        raise InputError(f"{path or '/'}: a pattern needs a description (the message says what is expected in "
                         "its words, not as a regex)", source=where)
    for key, value in node.items():
        if key not in ("enum", "const", "default", "examples", "required"):
            _refuse_unexplained(value, where, f"{path}/{key}")


def _resolve(node: dict[str, Any], definitions: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = definitions[node["$ref"].removeprefix("#/definitions/")]
    if set(node) <= {"allOf", "description"} and len(node.get("allOf", [])) == 1:
        return _resolve(node["allOf"][0], definitions)
    return node


def _types(node: dict[str, Any], definitions: dict[str, Any]) -> list[str]:
    node = _resolve(node, definitions)
    if "oneOf" in node or "anyOf" in node:
        return sorted({t for branch in node.get("oneOf", node.get("anyOf")) for t in _types(branch, definitions)})
    declared = node.get("type", [])
    return [declared] if isinstance(declared, str) else list(declared)


def _for_helm(node: Any, definitions: dict[str, Any]) -> Any:
    if isinstance(node, list):
        return [_for_helm(item, definitions) for item in node]
    if not isinstance(node, dict):
        return node
    for key in EXPLAINED:
        node.pop(key, None)
    if node.get("additionalProperties") is False:
        del node["additionalProperties"]
    for union in ("oneOf", "anyOf"):
        if union in node:
            # A union's branches differ by type; helm checks the type, the templates the branch.
            node["type"] = _types({union: node.pop(union)}, definitions)
    return {key: (value if key in ("enum", "const", "default", "examples", "required") else _for_helm(value, definitions))
            for key, value in node.items()}


def _rules(node: dict[str, Any], definitions: dict[str, Any], seen: set[str]) -> dict[str, Any]:
    """The checks of one node, compact: k keys, c closed, a other values, n key names, i items, u union by kind,
    p pattern, e expectation, min/max, minL/maxL, minI/maxI, req required keys."""
    if "$ref" in node:
        name = node["$ref"]
        if name in seen:
            raise InputError(f"{name} refers to itself; the template checker walks a finite tree")
        return _rules(definitions[name.removeprefix("#/definitions/")], definitions, seen | {name})
    if set(node) <= {"allOf", "description"} and len(node.get("allOf", [])) == 1:
        return _rules(node["allOf"][0], definitions, seen)
    rules: dict[str, Any] = {}
    union = node.get("oneOf", node.get("anyOf"))
    if union:
        branches: dict[str, Any] = {}
        for branch in union:
            rules = _rules(branch, definitions, seen)
            for kind in {KINDS[t] for t in _types(branch, definitions)}:
                # A branch that is itself a union contributes its own branch for the kind.
                branches[kind] = rules["u"].get(kind, {}) if "u" in rules else rules
        return {"u": branches}
    if "properties" in node:
        rules["k"] = {key: _rules(value, definitions, seen) for key, value in node["properties"].items()}
    if node.get("additionalProperties") is False:
        rules["c"] = 1
    elif isinstance(node.get("additionalProperties"), dict):
        rules["a"] = _rules(node["additionalProperties"], definitions, seen)
    if "propertyNames" in node:
        rules["n"] = _rules(node["propertyNames"], definitions, seen)
    if "items" in node:
        rules["i"] = _rules(node["items"], definitions, seen)
    for key, short in (("pattern", "p"), ("minimum", "min"), ("maximum", "max"), ("minLength", "minL"),
                       ("maxLength", "maxL"), ("minItems", "minI"), ("maxItems", "maxI"), ("required", "req")):
        if key in node:
            rules[short] = node[key]
    if "p" in rules or "maxL" in rules:
        rules["e"] = node.get("description", "")
    return _prune(rules)


def _prune(rules: dict[str, Any]) -> dict[str, Any]:
    """Drop subtrees with nothing to check (the walk skips them), keeping closed objects' key lists."""
    if "k" in rules and "c" not in rules:
        rules["k"] = {key: value for key, value in rules["k"].items() if value}
        if not rules["k"]:
            del rules["k"]
    for key in ("a", "n", "i"):
        if key in rules and not rules[key]:
            del rules[key]
    return rules


def rules_template(rules: dict[str, Any], define: str) -> str:
    text = json.dumps(rules, separators=(",", ":"), sort_keys=True)
    if "{{" in text:
        raise InputError("the rules contain '{{', which a template cannot embed as text")
    return ("{{/* Generated from values.schema.yaml by `make schema` (portico.schema_checks); do not edit.\n"
            "The checks helm's schema messages cannot explain, walked by _check.tpl. */}}\n"
            f'{{{{- define "{define}" -}}}}\n{text}\n{{{{- end }}}}\n')


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m portico.schema_checks", description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path, help="the strict schema (YAML or JSON)")
    parser.add_argument("--schema", type=Path, required=True, help="values.schema.json to write (what helm checks)")
    parser.add_argument("--rules", type=Path, required=True, help="template file to write the rules into")
    parser.add_argument("--define", default="portico.schemaRules", help="the named template holding the rules")
    args = parser.parse_args(argv)
    try:
        source = read_yaml(args.source, "a strict values schema")
        schema, rules = split(source, where=str(args.source))
        template = rules_template(rules, args.define)
    except (OSError, yaml.YAMLError, InputError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    args.schema.write_text(json.dumps(schema, indent=2) + "\n")
    args.rules.write_text(template)
    return 0


if __name__ == "__main__":
    sys.exit(main())
