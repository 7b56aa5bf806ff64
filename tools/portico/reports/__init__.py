"""Report writers, one per format, each taking a `portico.results.Report`.

`write` is what the CLI calls with the paths the user asked for; every file is
written whole or not at all.
"""

from __future__ import annotations

from pathlib import Path

import importlib

from portico.files import write_atomic
from portico.reports import github
from portico.results import Report

# Format -> its writer module, imported only when asked for (junitparser alone costs a run 35 ms to import).
FORMATS = {"junit": "junit", "json": "json_report", "markdown": "markdown", "sarif": "sarif"}


def write(report: Report, **paths: Path | None) -> None:
    """write(report, junit=Path, json=Path, markdown=Path, sarif=Path); None skips a format."""
    for fmt, path in paths.items():
        if path is not None:
            writer = importlib.import_module(f"portico.reports.{FORMATS[fmt]}")
            write_atomic(path, writer.render(report))
    github.publish(report)
