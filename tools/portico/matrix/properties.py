"""Property expectations: an `assert` expression over the rendered objects, for every combination where `when` holds.

    expectations:
      - when: "tls"
        assert: "all_have('Ingress', 'spec.tls')"
        message: every Ingress serves TLS
      - when: "autoscaling"
        assert: "none_have('Deployment', 'spec.replicas')"

Helpers: objects(kind), count(kind), all_have(kind, path), none_have(kind, path), all_equal(kind, path, value),
get(obj, path, default).
A path is dotted (`spec.tls`, `metadata.labels.app`); a list element is a number (`spec.ports.0.name`).
"""

from __future__ import annotations

from typing import Any, Callable

from portico.errors import InputError
from portico.matrix.spec import Rule

_MISSING = object()


def get(obj: Any, path: str, default: Any = None) -> Any:
    node = obj
    for part in str(path).split("."):
        if isinstance(node, dict) and part in node:
            node = node[part]
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            return default
    return node


def helpers(docs: list[dict]) -> dict[str, Callable]:
    def objects(kind: str) -> list[dict]:
        return [d for d in docs if d.get("kind") == kind]

    return {
        "objects": objects,
        "named": lambda kind, name: next((d for d in objects(kind) if get(d, "metadata.name") == name), None),
        "count": lambda kind: len(objects(kind)),
        "get": get,
        "all_have": lambda kind, path: all(get(d, path, _MISSING) not in (_MISSING, None, [], {}, "")
                                           for d in objects(kind)),
        "none_have": lambda kind, path: all(get(d, path, _MISSING) is _MISSING for d in objects(kind)),
        "all_equal": lambda kind, path, value: all(get(d, path, _MISSING) == value for d in objects(kind)),
    }


def holds(rule: Rule, docs: list[dict], variables: dict[str, Any], source: str) -> bool:
    try:
        return bool(rule.assertion(**helpers(docs), **{n: variables[n] for n in rule.assertion_variables}))
    except Exception as exc:  # jinja2 and the helpers raise many kinds; all mean a bad expression
        raise InputError(f"cannot evaluate {rule.assertion_text!r}: {exc}", source=source,
                         key_path=f"{rule.source}.assert") from exc
