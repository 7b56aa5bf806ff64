"""The matrix `portico ci` runs for a chart: its own `ci/portico-matrix.yaml`, else chart-testing's
convention (each `ci/*-values.yaml` a case), else what `portico init` would write."""

from __future__ import annotations

import json
from pathlib import Path

from portico import init
from portico.errors import InputError

OWN = Path("ci") / "portico-matrix.yaml"


def write(chart: Path, rendered_chart: Path, dest: Path) -> tuple[Path, str]:
    """A matrix file for `chart` (the working tree's) run on `rendered_chart` (deps filled), and its origin."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if (chart / OWN).is_file():
        return chart / OWN, str(OWN)
    cases = init.ct_cases(chart)
    if cases:
        # As ct: a chart with ci values files is tested with those, not with its bare defaults, which may not
        # render at all (a required image) or not be meant to run.
        doc = {"chart": str(rendered_chart),
               "environments": {name: [str(path)] for name, path in cases.items()},
               "axes": {"defaults": {"snippets": {"chart": {}}}}}
        dest.write_text(json.dumps(doc, indent=2))
        return dest, f"ct's ci/*-values.yaml ({len(cases)} cases)"
    try:
        dest.write_text(init.matrix_text(rendered_chart, dest, chart_ref=str(rendered_chart)))
        return dest, "what portico init writes"
    except InputError:
        doc = {"chart": str(rendered_chart), "axes": {"defaults": {"snippets": {"chart": {}}}}}
        dest.write_text(json.dumps(doc, indent=2))
        return dest, "the chart's defaults (portico init found no switch to vary)"
