"""Report writers, one per format, each taking a `portico.results.Report`.

`write` is what the CLI calls with the paths the user asked for; every file is
written whole or not at all.
"""

from __future__ import annotations

from pathlib import Path

from portico.files import write_atomic
from portico.reports import github, json_report, junit, markdown, sarif
from portico.results import Report

FORMATS = {"junit": junit.render, "json": json_report.render, "markdown": markdown.render, "sarif": sarif.render}


def write(report: Report, **paths: Path | None) -> None:
    """write(report, junit=Path, json=Path, markdown=Path, sarif=Path); None skips a format."""
    for fmt, path in paths.items():
        if path is not None:
            write_atomic(path, FORMATS[fmt](report))
    github.publish(report)
