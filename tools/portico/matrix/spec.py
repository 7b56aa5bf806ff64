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

import jinja2
import jinja2.meta
import jsonschema
import yaml

from portico.errors import InputError
from portico.schemas import kubernetes_versions

ENVIRONMENT = "environment"
KUBE_VERSION = "kubeVersion"


@dataclass(frozen=True)
class Axis:
    name: str
    levels: tuple[str, ...]  # level labels, as shown in reports
    path: str | None = None  # path axes set one key to the level's value
    values: tuple[Any, ...] = ()
    snippets: dict[str, Any] = field(default_factory=dict)  # snippet axes: label -> mapping or template text

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
    try:
        return yaml.safe_load(path.read_text())
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", source=str(path)) from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else None
        raise InputError(f"not valid YAML: {getattr(exc, 'problem', exc)}", source=str(path), key_path=where) from exc


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


def _axes(raw: dict[str, Any]) -> list[Axis]:
    axes = []
    for name, spec in raw.items():
        if "path" in spec:
            values = tuple(spec["values"])
            labels = tuple(json.dumps(v) if not isinstance(v, str) else v for v in values)
            axes.append(Axis(name=name, levels=labels, path=spec["path"], values=values))
        else:
            axes.append(Axis(name=name, levels=tuple(spec["snippets"]), snippets=dict(spec["snippets"])))
    return axes


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
    resolved = chart.resolve()
    if not resolved.exists():
        raise InputError(f"{str(chart)!r} does not exist", source="--chart")
    if resolved.is_dir() and not (resolved / "Chart.yaml").exists():
        raise InputError(f"{str(chart)!r} is not a chart (no Chart.yaml)", source="--chart")
    return replace(matrix, chart=resolved)


def load(path: Path) -> Matrix:
    source = str(path)
    raw = _load_yaml(path)
    if not isinstance(raw, dict):
        raise InputError("expected a mapping at the top level", source=source)
    errors = sorted(jsonschema.Draft7Validator(_schema()).iter_errors(raw), key=lambda e: list(e.absolute_path))
    if errors:
        first = errors[0]
        more = f" (and {len(errors) - 1} more problem(s))" if len(errors) > 1 else ""
        raise InputError(_explain(first) + more, source=source, key_path=_key_path(first))

    base = path.resolve().parent
    chart = _existing(base, raw.get("chart", "."), source, "chart")
    if chart.is_dir() and not (chart / "Chart.yaml").exists():
        raise InputError(f"{raw.get('chart', '.')!r} is not a chart (no Chart.yaml)", source=source, key_path="chart")
    values_files = tuple(_existing(base, rel, source, f"values[{i}]") for i, rel in enumerate(raw.get("values", [])))
    environments = {
        name: tuple(_existing(base, rel, source, f"environments.{name}[{i}]") for i, rel in enumerate(files))
        for name, files in raw.get("environments", {}).items()
    }
    axes = _axes(raw["axes"])
    if environments:
        axes.insert(0, Axis(name=ENVIRONMENT, levels=tuple(environments)))
    kube_versions = tuple(raw.get("kubernetesVersions", []))
    if kube_versions:
        axes.append(Axis(name=KUBE_VERSION, levels=kube_versions, path=None, values=kube_versions))

    for axis in axes:
        for label, snippet in axis.snippets.items():
            if isinstance(snippet, str):
                try:
                    _JINJA.parse(snippet)
                except jinja2.TemplateSyntaxError as exc:
                    raise InputError(f"invalid Jinja2 template: {exc.message} (line {exc.lineno})",
                                     source=source, key_path=f"axes.{axis.name}.snippets.{label}") from exc

    constraints = []
    for i, item in enumerate(raw.get("constraints", [])):
        expr, reason = (item, None) if isinstance(item, str) else (item["when"], item.get("reason"))
        compiled, names = _compile(expr, source, f"constraints[{i}]")
        constraints.append(Rule(f"constraints[{i}]", expr, compiled, reason=reason, variables=names))
    expectations = []
    for i, item in enumerate(raw.get("expectations", [])):
        compiled, names = _compile(item["when"], source, f"expectations[{i}].when")
        expectations.append(Rule(f"expectations[{i}].when", item["when"], compiled, error=item["error"],
                                 variables=names))
    for rule in [*constraints, *expectations]:
        _check_names(rule, axes, source)

    strategy = raw.get("strategy", {"type": "exhaustive"})
    validate = raw.get("validate", {})
    validate_versions = tuple(validate.get("kubernetesVersions") or kube_versions or kubernetes_versions())
    _check_versions(validate_versions, source, "validate.kubernetesVersions")
    release = raw.get("release", {})
    return Matrix(
        path=path,
        chart=chart,
        release=release.get("name", "release"),
        namespace=release.get("namespace", "default"),
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
        disabled_rules={d["rule"]: d["reason"] for d in raw.get("policy", {}).get("disable", [])},
        upgrade_from=raw.get("upgrade", {}).get("from"),
    )
