"""kubeconform, strict and offline, over rendered manifests.

One invocation per Kubernetes version covers every file given; the JSON
output is parsed into findings. Missing schemas are errors unless the kind is
listed in `skip_kinds` (kubeconform's -skip), never -ignore-missing-schemas.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from portico.errors import ToolError
from portico.process import Runner, default_runner, tail
from portico.toolchain.locate import tool_path


_AT = re.compile(r"at '([^']*)': (.*?)(?=\s+-\s+at '|\Z)", re.DOTALL)


def _path(pointer: str) -> str:
    """JSON pointer "/spec/ports/0/port" -> "spec.ports[0].port", the way a values file or kubectl names it."""
    out = ""
    for part in filter(None, pointer.split("/")):
        part = part.replace("~1", "/").replace("~0", "~")
        out += f"[{part}]" if part.isdigit() else (f".{part}" if out else part)
    return out or "(the object)"


def clean_message(message: str) -> str:
    """kubeconform's jsonschema text as field paths and what each expects: "problem validating schema. Check
    JSON formatting: jsonschema validation failed with 'file:///.../service-v1.json#' - at '/spec/ports/0/port':
    got string, want integer" -> "spec.ports[0].port: got string, want integer"."""
    if "jsonschema validation failed" not in message:
        return message.strip()
    parts = [(pointer, " ".join(text.split())) for pointer, text in _AT.findall(message)]
    # "at '/spec': validation failed" only says that something below it failed: the entries below say what
    parts = [(p, t) for p, t in parts if t != "validation failed"] or parts
    return "; ".join(f"{_path(p)}: {t}" for p, t in parts) or message.strip()


@dataclass(frozen=True)
class Invalid:
    kubernetes_version: str
    filename: str
    kind: str
    name: str
    status: str  # statusInvalid | statusError
    message: str

    def line(self) -> str:
        return f"{self.filename}: {self.kind}/{self.name} (k8s {self.kubernetes_version}): {self.message}"


@dataclass(frozen=True)
class Validation:
    kubernetes_version: str
    resources: int
    invalid: tuple[Invalid, ...]


@dataclass
class Kubeconform:
    binary: str
    schema_locations: Sequence[str]
    runner: Runner = field(default_factory=default_runner)
    workers: int = 4

    @classmethod
    def pinned(cls, schema_locations: Sequence[str]) -> "Kubeconform":
        return cls(tool_path("kubeconform"), schema_locations)

    def args(self, kubernetes_version: str, paths: Sequence[Path | str], skip_kinds: Iterable[str] = ()) -> list[str]:
        cmd = [self.binary, "-strict", "-summary", "-output", "json", "-n", str(self.workers),
               "-kubernetes-version", f"{kubernetes_version}.0"]
        for location in self.schema_locations:
            cmd += ["-schema-location", location]
        skips = sorted(set(skip_kinds))
        if skips:
            cmd += ["-skip", ",".join(skips)]
        return cmd + [str(p) for p in paths]

    def validate(self, kubernetes_version: str, paths: Sequence[Path | str], *,
                 skip_kinds: Iterable[str] = ()) -> Validation:
        # 1 means invalid resources, which the JSON report lists; any other code is kubeconform breaking.
        done = self.runner.run(self.args(kubernetes_version, paths, skip_kinds), timeout=1800, ok_codes=(0, 1),
                               summary="kubeconform")
        try:
            report = json.loads(done.stdout)
        except ValueError as exc:
            raise ToolError(f"kubeconform gave no JSON report (exit {done.returncode}): {tail(done.stderr)}") from exc
        invalid = tuple(
            Invalid(kubernetes_version, r.get("filename", ""), r.get("kind", ""), r.get("name", ""),
                    r.get("status", ""), clean_message(r.get("msg", "")))
            for r in report.get("resources", []) if r.get("status") in ("statusInvalid", "statusError"))
        summary = report.get("summary", {})
        total = sum(int(summary.get(k, 0)) for k in ("valid", "invalid", "errors", "skipped"))
        return Validation(kubernetes_version, total, invalid)
