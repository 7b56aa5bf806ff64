"""Where a finding is: the chart template that rendered its object (helm's `# Source:` line) and the line of
its `kind:` there; a render error's template and line, from helm's message; else the matrix file itself.

Code scanning (SARIF) needs a file on every result, and a reviewer needs to know which template to open."""

from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

from portico.manifests import DocCache
from portico.results import Finding

_SOURCE = re.compile(r"^# Source: (\S+)", re.MULTILINE)
# helm: "execution error at (chart/templates/x.yaml:12:4): ..." and "template: chart/templates/x.yaml:12:4: ..."
_TEMPLATE_AT = re.compile(r"(?:at \(<?|template: )([\w.@+-]+(?:/[\w.@+-]+)+\.(?:yaml|yml|tpl|txt|json)):(\d+)")


def shown(path: Path) -> str:
    """Relative to the working directory when under it (what code scanning resolves against the checkout)."""
    try:
        return os.path.relpath(path.resolve(), Path.cwd()) if path.resolve().is_relative_to(Path.cwd()) \
            else str(path.resolve())
    except (OSError, ValueError):
        return str(path)


def _kind_line(path: Path, kind: str) -> int:
    try:
        lines = path.read_text(errors="replace").splitlines()
    except OSError:
        return 0
    pattern = re.compile(rf"^\s*kind:\s*['\"]?{re.escape(kind)}['\"]?\s*$")
    return next((i for i, line in enumerate(lines, 1) if pattern.match(line)), 0)


class Locator:
    def __init__(self, chart: Path, matrix_file: Path, parsed: dict[str, list[dict]], docs: DocCache):
        self.chart, self.matrix_file = chart, matrix_file
        self.sources: dict[tuple[str, str], str] = {}
        for render in parsed.values():
            for doc in render:
                key = (str(doc.get("kind", "")), str((doc.get("metadata") or {}).get("name", "")))
                if key not in self.sources and (match := _SOURCE.search(docs.source(doc))):
                    self.sources[key] = match.group(1)

    def _in_chart(self, source: str) -> Path:
        # "<chart name>/templates/x.yaml" or "<chart>/charts/<sub>/templates/x.yaml": below the chart's directory
        return self.chart / source.split("/", 1)[-1]

    def locate(self, finding: Finding) -> Finding:
        if finding.file:
            return finding
        if finding.kind and (source := self.sources.get((finding.kind, finding.name))):
            path = self._in_chart(source)
            return replace(finding, file=shown(path), line=_kind_line(path, finding.kind))
        if match := _TEMPLATE_AT.search(finding.message):
            return replace(finding, file=shown(self._in_chart(match.group(1))), line=int(match.group(2)))
        return replace(finding, file=shown(self.matrix_file))
