"""`portico init`: a first matrix file for a chart."""

from __future__ import annotations

import argparse
from pathlib import Path

from portico.commands import args as args_
from portico.errors import EXIT_OK, InputError


def handle(args: argparse.Namespace) -> int:
    from portico import init

    from portico import chartref

    ref = args.chart
    if Path(ref).is_dir():
        if args.output is None:
            chartref.require_chart_dir(Path(ref), source=ref)
        path = init.write(Path(ref), args.output, force=args.force)
    else:
        # A packaged or published chart: the matrix names that reference (with its version) and goes to -o.
        if args.output is None:
            raise InputError("a packaged or published chart has no ci/ directory to write into: give -o FILE",
                             source=ref)
        name, version = chartref.split_version(ref)
        version = version or args.chart_version
        remote = chartref.is_remote(ref)
        where = (f"{name}@{version}" if version else name) if remote else str(Path(ref).resolve())
        path = init.write(args_.chart(args, ref), args.output, force=args.force, chart_ref=where)
    print(f"wrote {path}; run: portico matrix {path}")
    return EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser("init", help="write a first matrix file for a chart, from its values schema or values",
                       description="Axes from values.schema.json (booleans, short enums) or values.yaml switches, "
                                   "plus well-known keys; pairwise when the space is large; comments say what to "
                                   "add next.")
    p.add_argument("chart", type=args_.chart_ref, help="chart directory, .tgz, oci://... or repo/chart")
    args_.add_chart_fetch_args(p)
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="default: CHART/ci/portico-matrix.yaml (required for a packaged or published chart)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(handler=handle)
