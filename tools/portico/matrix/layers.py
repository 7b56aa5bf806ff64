"""The values layers of one combination, in helm's -f order.

Base files, then the environment's overlays, then each axis' contribution in
axis order: a path axis sets one key, a snippet axis adds its mapping (YAML
text snippets are Jinja2 templates fed with every axis value).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
import jinja2.meta

from portico import values as values_mod
from portico.errors import InputError
from portico.matrix.combos import Combination, context
from portico.matrix.spec import ENVIRONMENT, Matrix

_JINJA = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False, keep_trailing_newline=True)


@lru_cache(maxsize=256)
def _file_layer(path: Path) -> Any:
    return values_mod.load_file(path)


def nested(path: str, value: Any) -> dict[str, Any]:
    out: Any = value
    for key in reversed(path.split(".")):
        out = {key: out}
    return out


@lru_cache(maxsize=1024)
def _template(text: str) -> tuple[jinja2.Template, tuple[str, ...]]:
    """A snippet's compiled template and the variables it reads (its memo key)."""
    return _JINJA.from_string(text), tuple(sorted(jinja2.meta.find_undeclared_variables(_JINJA.parse(text))))


_RENDERED: dict[tuple, dict] = {}


def _snippet(matrix: Matrix, axis_name: str, label: str, snippet: Any, variables: dict[str, Any]) -> dict:
    key_path = f"axes.{axis_name}.snippets.{label}"
    if isinstance(snippet, dict):
        return snippet
    template, names = _template(snippet)
    memo = (snippet, tuple(repr(variables.get(n)) for n in names))
    if memo in _RENDERED:
        return _RENDERED[memo]
    try:
        text = template.render(**variables)
    except jinja2.TemplateError as exc:
        raise InputError(f"template failed: {exc}", source=str(matrix.path), key_path=key_path) from exc
    data = values_mod.loads(text, source=f"{matrix.path} ({key_path}, as rendered)")
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise InputError("template must render a mapping", source=str(matrix.path), key_path=key_path)
    _RENDERED[memo] = data
    return data


def layers(matrix: Matrix, combo: Combination) -> list[dict[str, Any]]:
    out = [_file_layer(p) for p in matrix.values_files]
    if ENVIRONMENT in combo:
        out += [_file_layer(p) for p in matrix.environments[combo[ENVIRONMENT]]]
    variables = context(matrix, combo)
    for axis in matrix.axes:
        level = combo[axis.name]
        if axis.path is not None:
            out.append(nested(axis.path, axis.raw_value(level)))
        elif axis.snippets:
            out.append(_snippet(matrix, axis.name, level, axis.snippets[level], variables))
    return out
