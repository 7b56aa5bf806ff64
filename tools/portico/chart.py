"""What a chart says about itself: its default values, its values schema, its CRDs (directory or .tgz).

Used to check a matrix against the chart before anything renders: an axis on a
key the chart does not have is a typo until the matrix says it adds the key.
"""

from __future__ import annotations

import difflib
import io
import json
import re
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator


from portico import values as values_mod
from portico.errors import InputError


_HAS = re.compile(r'APIVersions\.Has\s+"([^"]+)"')
# sprig and helm functions whose output differs between two renders of the same values
_RANDOM = re.compile(r"\b(rand\w*|uuidv4|gen(CA|PrivateKey|SelfSignedCert|SignedCert)\w*|now|date\w*|ago|"
                     r"unixEpoch|htpasswd|bcrypt|encryptAES|shuffle|derivePassword|lookup)\b")


@dataclass
class ChartInfo:
    path: Path
    name: str
    values: dict[str, Any]
    schema: dict[str, Any]
    subcharts: dict[str, "ChartInfo"] = field(default_factory=dict)
    crds: list[dict[str, Any]] = field(default_factory=list)  # the documents of crds/*.yaml, subcharts included
    capability_checks: frozenset[str] = frozenset()  # every `.Capabilities.APIVersions.Has "..."` argument
    # The values paths that switch subcharts on and off (conditions, `tags.<tag>`), subcharts' included, as
    # paths from this chart's values: renders that agree on them render the same set of subcharts.
    switches: tuple[str, ...] = ()
    # A template calls a function whose output changes from render to render (random, time, salted hashes):
    # only then are renders probed twice to find the places to mask.
    randomising: bool = True
    schema_refs: tuple[str, ...] = ()  # every `$ref` of values.schema.json as written (before inlining)


def _files_of_dir(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file()}


def _files_of_tgz(data: bytes) -> dict[str, bytes]:
    out = {}
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            if member.isfile():
                name = member.name.split("/", 1)[1] if "/" in member.name else member.name
                out[name] = tar.extractfile(member).read()  # type: ignore[union-attr]
    return out


def load(path: Path) -> ChartInfo:
    """The chart at a directory or a packaged .tgz."""
    try:
        files = _files_of_dir(path) if path.is_dir() else _files_of_tgz(path.read_bytes())
    except (OSError, tarfile.TarError) as exc:
        raise InputError(f"cannot read the chart: {exc}", source=str(path)) from exc
    if "Chart.yaml" not in files:
        raise InputError("is not a chart (no Chart.yaml)", source=str(path))
    return _from_files(path, files)


def _from_files(path: Path, files: dict[str, bytes]) -> ChartInfo:
    raw_values = files.get("values.yaml", b"")
    chart_values = values_mod.loads(raw_values.decode(errors="replace"), source=f"{path}/values.yaml") or {}
    schema: dict[str, Any] = {}
    if "values.schema.json" in files:
        try:
            schema = json.loads(files["values.schema.json"])
        except ValueError as exc:
            raise InputError(f"values.schema.json is not JSON: {exc}", source=str(path)) from exc
    crds = []
    for name, data in sorted(files.items()):
        if name.startswith("crds/") and name.endswith((".yaml", ".yml", ".json")):
            crds += [d for d in values_mod.loads_all(data.decode(errors="replace"), source=f"{path}/{name}")
                     if d.get("kind") == "CustomResourceDefinition"]
    subcharts: dict[str, ChartInfo] = {}
    for name, data in files.items():
        parts = name.split("/")
        if len(parts) == 2 and parts[0] == "charts" and parts[1].endswith(".tgz"):
            sub = _from_files(path / name, _files_of_tgz(data))
            subcharts[sub.name] = sub
    for sub_dir in {name.split("/")[1] for name in files if name.startswith("charts/") and name.count("/") >= 2}:
        prefix = f"charts/{sub_dir}/"
        sub_files = {n[len(prefix):]: d for n, d in files.items() if n.startswith(prefix)}
        if "Chart.yaml" in sub_files:
            sub = _from_files(path / "charts" / sub_dir, sub_files)
            subcharts[sub.name] = sub
    checks = set()
    randomising = False
    for name, data in files.items():
        if name.endswith((".yaml", ".yml", ".tpl", ".txt")):
            text = data.decode(errors="replace")
            checks.update(_HAS.findall(text))
            randomising = randomising or ("{{" in text and bool(_RANDOM.search(text)))
    for sub in subcharts.values():
        crds += sub.crds
        checks |= sub.capability_checks
        randomising = randomising or sub.randomising
    from portico.schemas import refs as schema_refs

    written_refs = tuple(schema_refs(schema))
    schema = _inline(schema, schema, files, subcharts, ())
    meta = values_mod.loads(files["Chart.yaml"].decode(errors="replace"), source=f"{path}/Chart.yaml") or {}
    name = str(meta.get("name", path.name)) if isinstance(meta, dict) else path.name
    dependencies = meta.get("dependencies") if isinstance(meta, dict) else None
    return ChartInfo(path, name, chart_values if isinstance(chart_values, dict) else {}, schema, subcharts, crds,
                     frozenset(checks), _switches(dependencies if isinstance(dependencies, list) else [], subcharts),
                     randomising, written_refs)


UNRESOLVED = "x-portico-unresolved-ref"  # a `$ref` not found offline: the keys under it cannot be judged


def _pointer(root: Any, fragment: str) -> Any:
    node = root
    for part in filter(None, fragment.lstrip("/").split("/")):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part) if isinstance(node, dict) else (
            node[int(part)] if isinstance(node, list) and part.isdigit() and int(part) < len(node) else None)
    return node


def _ref_target(ref: str, root: Any, files: dict[str, bytes], subcharts: dict[str, "ChartInfo"]) -> Any:
    """What a values schema's `$ref` points at, found offline: a pointer into the same document, a file of the
    chart, or (a URL or path ending in NAME/values.schema.json) the schema of the vendored subchart NAME, as a
    chart built on a library chart refers to the library's schema. None when it cannot be found here."""
    where, _, fragment = ref.partition("#")
    if not where:
        return _pointer(root, fragment)
    parts = [p for p in where.removeprefix("file://").split("/") if p not in ("", ".")]
    if len(parts) >= 2 and parts[-1] == "values.schema.json" and parts[-2] in subcharts:
        return _pointer(subcharts[parts[-2]].schema, fragment)
    local = "/".join(parts)
    if "://" not in where and local in files:
        try:
            return _pointer(json.loads(files[local]), fragment)
        except ValueError:
            return None
    return None


def _inline(node: Any, root: Any, files: dict[str, bytes], subcharts: dict[str, "ChartInfo"],
            seen: tuple[str, ...]) -> Any:
    """The schema with every `$ref` the chart can resolve offline put in place (merged with its siblings); one it
    cannot resolve becomes an open schema, so no key is refused for want of it. Used to check matrix keys."""
    if isinstance(node, list):
        return [_inline(v, root, files, subcharts, seen) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: _inline(v, root, files, subcharts, seen) for k, v in node.items() if k != "$ref"}
    ref = node.get("$ref")
    if isinstance(ref, str) and ref not in seen and len(seen) < 32:
        target = _ref_target(ref, root, files, subcharts)
        target = _inline(target, root if ref.startswith("#") else target, files, subcharts, (*seen, ref)) \
            if isinstance(target, dict) else {UNRESOLVED: ref}
        merged = {**target, **out}
        merged["properties"] = {**(target.get("properties") or {}), **(out.get("properties") or {})}
        return merged
    return out


def _switches(dependencies: list[Any], subcharts: dict[str, ChartInfo]) -> tuple[str, ...]:
    """Where helm looks to enable each dependency: its `condition` paths and `tags.<tag>`; a subchart's own
    conditions sit under its name (its alias, when it has one), and a `global.` one is also read at the top,
    where globals come from (helm's processDependencyEnabled)."""
    out: list[str] = []
    for dep in dependencies:
        if not isinstance(dep, dict):
            continue
        out += [c.strip() for c in str(dep.get("condition") or "").split(",") if c.strip()]
        out += [f"tags.{tag}" for tag in dep.get("tags") or [] if isinstance(tag, str)]
        sub = subcharts.get(str(dep.get("name")))
        prefix = f"{dep.get('alias') or dep.get('name')}."
        for path in sub.switches if sub else ():
            out += [path] if path.startswith("tags.") else [prefix + path]
            if path.startswith("global."):
                out.append(path)
    return tuple(dict.fromkeys(out))


def remote_refs(info: ChartInfo) -> Iterator[str]:
    """`$ref`s the values schema makes to other hosts: helm fetches them on every render, and portico runs
    offline (a key check follows one that names a vendored subchart's schema; the render cannot)."""
    return (ref for ref in info.schema_refs if ref.startswith(("http://", "https://")))


def _schema_properties(schema: Any) -> dict[str, Any]:
    if not isinstance(schema, dict):
        return {}
    props = dict(schema.get("properties") or {})
    for part in schema.get("allOf") or []:  # composed schemas: every part's keys are the chart's
        props.update(_schema_properties(part))
    return props


def _closed(schema: Any) -> bool:
    """The schema allows no keys but the ones it lists."""
    return isinstance(schema, dict) and schema.get("additionalProperties") is False and not schema.get(
        "patternProperties")


def unknown_key(info: ChartInfo, path: str) -> str | None:
    """None when the chart knows `path` (or may well take it), else why not, with a did-you-mean.

    A key is known when the chart's values or its schema have it. An unknown key
    is refused where the schema is closed (additionalProperties: false), at the top
    level (the chart's own API), or where it is close to a known key (a typo);
    under a free-form map (annotations: {}) anything goes.
    """
    parts = path.split(".")
    node: Any = info.values
    schema: Any = info.schema
    for depth, key in enumerate(parts):
        where = ".".join(parts[:depth])
        if depth == 0 and key == "global":
            return None
        if depth == 0 and key in info.subcharts and key not in (node or {}):
            rest = ".".join(parts[1:])
            return unknown_key(info.subcharts[key], rest) if rest else None
        if node is not None and not isinstance(node, dict):
            return (f"{where!r} is a {type(node).__name__} in the chart's values, not a map, so it cannot have "
                    f"the key {key!r}")
        if isinstance(schema, dict) and UNRESOLVED in schema and key not in _schema_properties(schema):
            return None  # the schema refers elsewhere for its keys, somewhere not found offline
        props = _schema_properties(schema)
        if isinstance(node, dict) and key in node:
            node, schema = node[key], props.get(key, {})
            continue
        if key in props:
            node, schema = None, props[key]
            continue
        known = sorted(set(node or {}) | set(props))
        close = difflib.get_close_matches(key, known, n=3, cutoff=0.75)
        if not (_closed(schema) or depth == 0 or close) or (depth > 0 and node in ({}, None) and not props):
            return None
        full = ".".join(parts[:depth + 1])
        hint = f"; did you mean {' or '.join(repr('.'.join([*parts[:depth], c])) for c in close)}?" if close else ""
        under = f"under {where!r}" if where else "at the top level"
        return f"the chart has no key {full!r} ({under} of its values and values.schema.json){hint}"
    return None
