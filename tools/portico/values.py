"""Values, one way everywhere: loaded as helm loads them, merged as helm merges -f layers, written for helm.

helm reads values with sigs.k8s.io/yaml, which keeps `2024-01-01` a string;
PyYAML's default resolver would make it a date (and then fail to serialise).
"""

from __future__ import annotations

import contextlib
import json
import re
import tempfile
from pathlib import Path
from typing import Any, Iterator, Sequence

import yaml

from portico.errors import InputError

_BASE = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class HelmLoader(_BASE):  # type: ignore[misc, valid-type]
    """libyaml where present, timestamps left as strings (as helm does)."""


HelmLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in _BASE.yaml_implicit_resolvers.items()
}
# `1e-05` is a float to Go's YAML (and JSON); PyYAML's YAML 1.1 floats need a dot, so it would stay a string and a
# CRD's `minimum: 1e-05` would be no number.
HelmLoader.add_implicit_resolver("tag:yaml.org,2002:float", re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
                                 list("-+0123456789"))
# A bare `=` is the string "=" to Go's YAML (CRD enums list operators); PyYAML has no constructor for it.
HelmLoader.add_constructor("tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node))


class UniqueKeyLoader(HelmLoader):  # type: ignore[misc, valid-type]
    """HelmLoader that refuses a key given twice in one mapping (YAML allows it; the last would win silently)."""

    def construct_mapping(self, node, deep=False):  # noqa: ANN001 - PyYAML's signature
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":
                    continue
                key = self.construct_object(key_node, deep=True)
                if isinstance(key, (str, int, float, bool)) and key in seen:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"the key {key!r} is given twice (first on line {seen[key] + 1}); the second "
                        f"would silently replace the first", key_node.start_mark)
                seen.setdefault(key, key_node.start_mark.line)
        return super().construct_mapping(node, deep)


UniqueKeyLoader.add_constructor("tag:yaml.org,2002:map", UniqueKeyLoader.construct_yaml_map)


def _string_keys(node: Any) -> Any:
    """Mapping keys as helm has them: sigs.k8s.io/yaml goes through JSON, so `on:` is "true" and `1:` is "1"."""
    if isinstance(node, dict):
        return {_key(k): _string_keys(v) for k, v in node.items()}
    if isinstance(node, list):
        return [_string_keys(v) for v in node]
    return node


def _key(key: Any) -> str:
    if isinstance(key, bool):
        return "true" if key else "false"
    if key is None:
        return "null"
    return key if isinstance(key, str) else str(key)


def _yaml_error(exc: yaml.YAMLError, source: str) -> InputError:
    mark = getattr(exc, "problem_mark", None)
    where = f"line {mark.line + 1}" if mark else None
    return InputError(f"not valid YAML: {getattr(exc, 'problem', None) or exc}", source=source, key_path=where)


def loads(text: str, *, source: str) -> Any:
    try:
        return _string_keys(yaml.load(text, Loader=HelmLoader))  # noqa: S506 - a safe loader
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, source) from exc


def loads_all(text: str, *, source: str) -> list[dict]:
    """The mapping documents of a multi-document YAML stream (manifests, CRD files), read as helm reads them."""
    try:
        return [d for d in yaml.load_all(text, Loader=HelmLoader) if isinstance(d, dict)]  # noqa: S506 - safe
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, source) from exc


def read_mapping(path: Path, what: str) -> dict[str, Any]:
    """A YAML file that must hold a mapping (a Chart.yaml, a values file); InputError naming the file otherwise."""
    data = read_yaml(path, what)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InputError(f"{what} must hold a mapping, got {type(data).__name__}", source=str(path))
    return data


def read_yaml(path: Path, what: str, *, string_keys: bool = True, unique_keys: bool = False) -> Any:
    """Any YAML input file of the user's, read as helm reads YAML; InputError naming the file otherwise."""
    if path.is_dir():
        raise InputError(f"is a directory, expected {what}", source=str(path))
    try:
        text = path.read_text()
    except OSError as exc:
        raise InputError(f"cannot read {what}: {exc.strerror}", source=str(path)) from exc
    if string_keys and not unique_keys:
        return loads(text, source=str(path))
    try:
        data = yaml.load(text, Loader=UniqueKeyLoader if unique_keys else HelmLoader)  # noqa: S506 - a safe loader
        return _string_keys(data) if string_keys else data
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, str(path)) from exc


def load_file(path: Path) -> dict[str, Any]:
    """A values file: a mapping (an empty file is {}), or an InputError naming the file."""
    return read_mapping(path, "a values file")


def merge(layers: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """helm's -f merge: maps merge recursively, everything else is replaced by the later layer."""
    out: dict[str, Any] = {}
    for layer in layers:
        out = _merge_two(out, layer)
    return out


def _merge_two(a: dict[str, Any], b: dict[str, Any]) -> dict[str, Any]:
    out = dict(a)
    for key, value in b.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge_two(out[key], value)
        else:
            out[key] = value
    return out


def dump(layer: dict[str, Any]) -> str:
    """A layer as helm reads it: JSON is YAML, and keeps every string a string."""
    return json.dumps(layer, default=str)


@contextlib.contextmanager
def as_files(layers: Sequence[dict[str, Any]]) -> Iterator[list[Path]]:
    """The layers as temporary values files, in order, for `helm -f`; removed afterwards."""
    with tempfile.TemporaryDirectory(prefix="portico-values-") as tmp:
        paths = []
        for i, layer in enumerate(layers):
            path = Path(tmp) / f"{i:03d}.json"
            path.write_text(dump(layer))
            paths.append(path)
        yield paths
