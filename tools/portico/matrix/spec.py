"""Load and check a matrix file into typed settings.

Every error names the file, the key path and what was expected; nothing is
rendered or written before the whole file has passed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from importlib import resources
from pathlib import Path
from typing import Any

import difflib

import jinja2
import jinja2.meta
import jsonschema

from portico import policy
from portico import chartref
from portico.chart import ChartInfo, remote_refs, unknown_key
from portico.chartref import Fetch
from portico.chart import load as load_chart
from portico.clients.helm import DEFAULT_NAMESPACE, DEFAULT_RELEASE
from portico.errors import InputError
from portico.schemas import kubernetes_versions
from portico.values import read_yaml

# Functions a property expectation may call (portico.matrix.properties defines them).
# The names matrix/properties.helpers provides (a test keeps the two in step).
ASSERT_HELPERS = frozenset({"objects", "named", "all_have", "none_have", "all_equal", "count", "get"})

ENVIRONMENT = "environment"
KUBE_VERSION = "kubeVersion"


@dataclass(frozen=True)
class Axis:
    name: str
    levels: tuple[str, ...]  # level labels, as shown in reports
    path: str | None = None  # path axes set one key to the level's value
    values: tuple[Any, ...] = ()
    snippets: dict[str, Any] = field(default_factory=dict)  # snippet axes: label -> mapping or template text
    api_versions: dict[str, tuple[str, ...]] = field(default_factory=dict)  # apiVersions axes: label -> versions

    def raw_value(self, level: str) -> Any:
        """What the axis contributes to expressions: the value itself for path axes."""
        if self.path is not None:
            return self.values[self.levels.index(level)]
        return level


@dataclass(frozen=True)
class Rule:
    """A constraint or an expectation: a compiled Jinja2 expression over axis values."""

    source: str  # key path in the matrix file, for error messages
    expression: str
    compiled: Any
    error: str | None = None  # expectations: the error substring
    reason: str | None = None
    assertion: Any = None  # property expectations: the compiled `assert` expression
    assertion_text: str | None = None
    assertion_variables: tuple[str, ...] = ()
    variables: tuple[str, ...] = ()  # the axis names the expression reads
    # Results by the values of `variables`: a constraint over two axes is
    # evaluated a handful of times, not once per combination.
    cache: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Matrix:
    path: Path
    chart: Path
    release: str
    namespace: str
    values_files: tuple[Path, ...]
    environments: dict[str, tuple[Path, ...]]
    axes: tuple[Axis, ...]
    constraints: tuple[Rule, ...]
    expectations: tuple[Rule, ...]
    strategy: str
    t: int
    seed: int
    validate_versions: tuple[str, ...]
    skip_kinds: tuple[str, ...]
    disabled_rules: dict[str, str]
    upgrade_from: str | None
    properties: tuple[Rule, ...] = ()  # expectations with `assert`: must hold over the rendered objects
    api_versions: tuple[str, ...] = ()  # Capabilities.APIVersions for every render
    schema_locations: tuple[str, ...] = ()  # extra kubeconform -schema-location values
    baseline: Path | None = None
    # Kind-qualified `.Capabilities.APIVersions.Has` checks of the chart that a real API server would answer yes
    # to for built-in kinds (`helm template` knows only group/versions); passed to every render.
    builtin_checks: frozenset[str] = frozenset()
    use_builtin_checks: bool = True  # builtinAPIVersions (kept so --chart can read the other chart's checks)
    chart_crds: tuple[dict, ...] = ()  # the chart's crds/ (subcharts' too): schemas, and CRDs for admission
    admission_versions: tuple[str, ...] = ()  # `admission.kubernetesVersions`: minors of the local API servers
    subchart_switches: tuple[str, ...] = ()  # values paths that turn the chart's subcharts on and off
    profile: str = "default"  # policy.profile: restricted makes hardening rules errors
    randomising: bool = True  # the chart's templates call random or time functions: probe renders twice

    @property
    def axis_names(self) -> list[str]:
        return [a.name for a in self.axes]


def _schema() -> dict:
    return json.loads((resources.files("portico") / "data" / "matrix.schema.json").read_text())


def _key_path(error: jsonschema.ValidationError) -> str:
    parts = []
    for part in error.absolute_path:
        parts.append(f"[{part}]" if isinstance(part, int) else (f".{part}" if parts else str(part)))
    return "".join(parts) or "(top level)"


def _explain(error: jsonschema.ValidationError) -> str:
    if error.validator == "oneOf" and error.context:
        best = min(error.context, key=lambda e: len(list(e.absolute_path)))
        return f"{error.message.split(' is not valid')[0]} matches no allowed form ({best.message})"
    if error.validator == "additionalProperties":
        return f"{error.message}; check the spelling against docs/matrix.md"
    return error.message


def _load_yaml(path: Path) -> Any:
    # Keys as written: a level label written `off:` must be caught, not silently become "false".
    return read_yaml(path, "a matrix file", string_keys=False, unique_keys=True)


def _existing(base: Path, rel: str, source: str, key_path: str) -> Path:
    path = (base / rel).resolve()
    if not path.exists():
        raise InputError(f"{rel!r} does not exist (resolved to {path})", source=source, key_path=key_path)
    return path


_JINJA = jinja2.Environment(undefined=jinja2.StrictUndefined, autoescape=False)


def _compile(expr: str, source: str, key_path: str) -> tuple[Any, tuple[str, ...]]:
    try:
        compiled = _JINJA.compile_expression(expr, undefined_to_none=False)
        names = jinja2.meta.find_undeclared_variables(_JINJA.parse("{{ " + expr + " }}"))
    except jinja2.TemplateSyntaxError as exc:
        raise InputError(f"invalid expression {expr!r}: {exc.message}", source=source, key_path=key_path) from exc
    return compiled, tuple(sorted(names))


def _check_names(rule: Rule, axes: list[Axis], source: str) -> None:
    known = {a.name for a in axes}
    unknown = [n for n in rule.variables if n not in known]
    if unknown:
        raise InputError(f"{rule.expression!r} reads {', '.join(unknown)}, which is not an axis "
                         f"(axes: {', '.join(sorted(known))})", source=source, key_path=rule.source)


def _labels(mapping: dict, source: str, key_path: str) -> tuple[str, ...]:
    for label in mapping:
        if not isinstance(label, str):
            written = {True: "on/yes/true", False: "off/no/false"}.get(label, str(label)) \
                if isinstance(label, bool) else str(label)
            raise InputError(f"level label {label!r} is not a string (YAML reads {written} as a "
                             f"{type(label).__name__}): quote it, e.g. \"{label}\":", source=source, key_path=key_path)
    return tuple(mapping)


def _axes(raw: dict[str, Any], source: str) -> list[Axis]:
    axes = []
    for name, spec in raw.items():
        if "path" in spec:
            values = tuple(spec["values"])
            labels = tuple(json.dumps(v, default=str) if not isinstance(v, str) else v for v in values)
            axes.append(Axis(name=name, levels=labels, path=spec["path"], values=values))
        elif "apiVersions" in spec:
            labels = _labels(spec["apiVersions"], source, f"axes.{name}.apiVersions")
            axes.append(Axis(name=name, levels=labels,
                             api_versions={k: tuple(v) for k, v in spec["apiVersions"].items()}))
        else:
            labels = _labels(spec["snippets"], source, f"axes.{name}.snippets")
            axes.append(Axis(name=name, levels=labels, snippets=dict(spec["snippets"])))
    return axes


def _leaf_paths(mapping: dict, prefix: str = "") -> list[str]:
    out = []
    for key, value in mapping.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        out += _leaf_paths(value, path) if isinstance(value, dict) and value else [path]
    return out


def _check_keys(raw_axes: dict[str, Any], info: ChartInfo, source: str) -> None:
    """Axes that set keys the chart does not have are typos, unless the axis says `newKey: true`."""
    for name, spec in raw_axes.items():
        if spec.get("newKey"):
            continue
        if "path" in spec:
            problem = unknown_key(info, spec["path"])
            if problem:
                raise InputError(f"{problem} (if the axis adds a new key on purpose, set newKey: true)",
                                 source=source, key_path=f"axes.{name}.path")
        for label, snippet in (spec.get("snippets") or {}).items():
            if not isinstance(snippet, dict):
                continue  # a template: its keys are known only once rendered
            for leaf in _leaf_paths(snippet):
                problem = unknown_key(info, leaf)
                if problem:
                    raise InputError(f"{problem} (if the snippet adds a new key on purpose, set newKey: true on "
                                     f"the axis)", source=source, key_path=f"axes.{name}.snippets.{label}")


def _check_chart(chart: Path, raw_axes: dict[str, Any], source: str) -> ChartInfo:
    info = load_chart(chart)
    refs = sorted(set(remote_refs(info)))
    if refs:
        raise InputError(f"the chart's values.schema.json refers to {refs[0]}, which portico cannot fetch offline: "
                         f"save that schema into the chart (for example schemas/<name>.json) and make the $ref "
                         f"relative to values.schema.json (docs/use-on-your-chart.md)", source=source,
                         key_path="chart")
    _check_keys(raw_axes, info, source)
    return info


def _disabled_rules(raw: dict[str, Any], source: str) -> dict[str, str]:
    known = policy.rule_ids()
    out = {}
    for i, item in enumerate(raw.get("policy", {}).get("disable", [])):
        if item["rule"] not in known:
            close = difflib.get_close_matches(item["rule"], known, n=2, cutoff=0.6)
            hint = f"; did you mean {' or '.join(map(repr, close))}?" if close else f" (rules: {', '.join(known)})"
            raise InputError(f"no policy rule {item['rule']!r}{hint}", source=source,
                             key_path=f"policy.disable[{i}].rule")
        out[item["rule"]] = item["reason"]
    return out


def _check_versions(versions: tuple[str, ...], source: str, key_path: str | None) -> None:
    known = set(kubernetes_versions())
    for i, version in enumerate(versions):
        if version not in known:
            raise InputError(f"no offline schemas for Kubernetes {version} (have {', '.join(sorted(known))})",
                             source=source, key_path=f"{key_path}[{i}]" if key_path else None)


def with_validate_versions(matrix: Matrix, versions: list[str]) -> Matrix:
    """The matrix validated against other Kubernetes versions (`--kube-version`)."""
    chosen = tuple(dict.fromkeys(versions))
    _check_versions(chosen, "--kube-version", None)
    return replace(matrix, validate_versions=chosen)


def with_chart(matrix: Matrix, chart: Path) -> Matrix:
    """The matrix run on another chart (`--chart`)."""
    resolved = chartref.local(chart.resolve(), source="--chart", shown=str(chart))
    info = load_chart(resolved)
    return replace(matrix, chart=resolved, chart_crds=tuple(info.crds), subchart_switches=info.switches,
                   randomising=info.randomising,
                   builtin_checks=info.capability_checks if matrix.use_builtin_checks else frozenset())


def _checked_file(path: Path) -> dict[str, Any]:
    """The matrix file, parsed and checked against its JSON schema; InputError naming the first problem's key."""
    source = str(path)
    raw = _load_yaml(path)
    if not isinstance(raw, dict):
        raise InputError("expected a mapping at the top level", source=source)
    errors = sorted(jsonschema.Draft7Validator(_schema()).iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise InputError(_explain(first) + more, source=source, key_path=_key_path(first))
    return raw


def _check_snippets(axes: list[Axis], source: str) -> None:
    for axis in axes:
        for label, snippet in axis.snippets.items():
            if isinstance(snippet, str):
                try:
                    _JINJA.parse(snippet)
                except jinja2.TemplateSyntaxError as exc:
                    raise InputError(f"invalid Jinja2 template: {exc.message} (line {exc.lineno})",
                                     source=source, key_path=f"axes.{axis.name}.snippets.{label}") from exc


def _constraints(raw: dict[str, Any], source: str) -> list[Rule]:
    constraints = []
    for i, item in enumerate(raw.get("constraints", [])):
        expr, reason = (item, None) if isinstance(item, str) else (item["when"], item.get("reason"))
        compiled, names = _compile(expr, source, f"constraints[{i}]")
        constraints.append(Rule(f"constraints[{i}]", expr, compiled, reason=reason, variables=names))
    return constraints


def _expectations(raw: dict[str, Any], axes: list[Axis], source: str) -> tuple[list[Rule], list[Rule]]:
    """(expected rejections, properties asserted on renders)."""
    expectations, properties = [], []
    for i, item in enumerate(raw.get("expectations", [])):
        compiled, names = _compile(item["when"], source, f"expectations[{i}].when")
        if "error" in item:
            expectations.append(Rule(f"expectations[{i}].when", item["when"], compiled, error=item["error"],
                                     variables=names))
            continue
        assertion, assertion_names = _compile(item["assert"], source, f"expectations[{i}].assert")
        unknown = [n for n in assertion_names if n not in ASSERT_HELPERS and n not in {a.name for a in axes}]
        if unknown:
            raise InputError(f"{item['assert']!r} reads {', '.join(unknown)}, which is neither an axis nor a helper "
                             f"({', '.join(sorted(ASSERT_HELPERS))})", source=source,
                             key_path=f"expectations[{i}].assert")
        properties.append(Rule(f"expectations[{i}]", item["when"], compiled, reason=item.get("message"),
                               variables=names, assertion=assertion, assertion_text=item["assert"],
                               assertion_variables=tuple(n for n in assertion_names if n not in ASSERT_HELPERS)))
    return expectations, properties


def load(path: Path, fetch: Fetch = Fetch()) -> Matrix:
    """The matrix file at path; a remote `chart:` (oci://..., repo/chart, REF@VERSION) is pulled with `fetch`."""
    source = str(path)
    raw = _checked_file(path)
    base = path.resolve().parent
    if chartref.is_remote(str(raw.get("chart", "."))):
        chart = chartref.resolve(str(raw["chart"]), fetch, source=f"{source}: chart").resolve()
    else:
        rel = str(raw.get("chart", "."))
        chart = chartref.local((base / rel).resolve(), source=source, key_path="chart", shown=rel)
    values_files = tuple(_existing(base, rel, source, f"values[{i}]") for i, rel in enumerate(raw.get("values", [])))
    environments = {
        name: tuple(_existing(base, rel, source, f"environments.{name}[{i}]") for i, rel in enumerate(files))
        for name, files in raw.get("environments", {}).items()
    }
    axes = _axes(raw["axes"], source)
    if environments:
        axes.insert(0, Axis(name=ENVIRONMENT, levels=tuple(environments)))
    kube_versions = tuple(raw.get("kubernetesVersions", []))
    if kube_versions:
        axes.append(Axis(name=KUBE_VERSION, levels=kube_versions, path=None, values=kube_versions))

    _check_snippets(axes, source)
    constraints = _constraints(raw, source)
    expectations, properties = _expectations(raw, axes, source)
    for rule in [*constraints, *expectations, *properties]:
        _check_names(rule, axes, source)

    info = _check_chart(chart, raw["axes"], source)
    strategy = raw.get("strategy", {"type": "exhaustive"})
    validate = raw.get("validate", {})
    validate_versions = tuple(validate.get("kubernetesVersions") or kube_versions or kubernetes_versions())
    _check_versions(validate_versions, source, "validate.kubernetesVersions")
    release = raw.get("release", {})
    return Matrix(
        path=path,
        chart=chart,
        release=release.get("name", DEFAULT_RELEASE),
        namespace=release.get("namespace", DEFAULT_NAMESPACE),
        values_files=values_files,
        environments=environments,
        axes=tuple(axes),
        constraints=tuple(constraints),
        expectations=tuple(expectations),
        strategy=strategy["type"],
        t=strategy.get("t", 2),
        seed=strategy.get("seed", 0),
        validate_versions=validate_versions,
        skip_kinds=tuple(validate.get("skipKinds", [])),
        disabled_rules=_disabled_rules(raw, source),
        upgrade_from=raw.get("upgrade", {}).get("from"),
        properties=tuple(properties),
        api_versions=tuple(raw.get("apiVersions", [])),
        schema_locations=tuple(_schema_location(base, loc, source, f"validate.schemaLocations[{i}]")
                               for i, loc in enumerate(validate.get("schemaLocations", []))),
        baseline=_existing(base, raw["baseline"], source, "baseline") if "baseline" in raw else None,
        builtin_checks=info.capability_checks if raw.get("builtinAPIVersions", True) else frozenset(),
        use_builtin_checks=raw.get("builtinAPIVersions", True),
        chart_crds=tuple(info.crds),
        admission_versions=_admission_versions(raw, source),
        subchart_switches=info.switches,
        profile=raw.get("policy", {}).get("profile", "default"),
        randomising=info.randomising,
    )


def _admission_versions(raw: dict[str, Any], source: str) -> tuple[str, ...]:
    from portico.admission.server import available_minors

    wanted = tuple(raw.get("admission", {}).get("kubernetesVersions", []))
    pinned = available_minors()
    for i, minor in enumerate(wanted):
        if minor not in pinned:
            raise InputError(f"no kube-apiserver pinned for Kubernetes {minor}; available: "
                             f"{', '.join(sorted(pinned))}", source=source, key_path=f"admission.kubernetesVersions[{i}]")
    return wanted


def _schema_location(base: Path, location: str, source: str = "", key_path: str = "") -> str:
    """kubeconform's syntax; a relative directory or file template is relative to the matrix file, and a plain
    local path must exist."""
    if "://" in location or location == "default":
        return location
    resolved = location if location.startswith("/") else str(base / location)
    if "{{" not in location and not Path(resolved).exists():
        raise InputError(f"{location!r} does not exist (resolved to {resolved})", source=source or None,
                         key_path=key_path or None)
    return resolved
