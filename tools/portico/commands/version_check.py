"""`portico version-check`: a changed chart needs a higher version, a CHANGELOG entry and Artifact Hub annotations."""

from __future__ import annotations

import argparse

from portico.commands import args as args_
from portico.errors import EXIT_FINDINGS, EXIT_OK, InputError


def handle(args: argparse.Namespace) -> int:
    from portico import versioning

    chart = args_.local_chart_dir(args.chart)
    if args.previous_ref:
        # For make check's upgrade comparison: the ref of the chart's previous version, or nothing.
        found = versioning.comparison_base(chart)
        print(found[0] if found else "")
        return EXIT_OK
    from portico.clients.git import Git

    if Git().toplevel(chart) is None:
        raise InputError("is not in a git repository: there is no earlier version of the chart to compare with",
                         source=str(chart))
    problems = versioning.metadata_problems(chart)
    found = (args.base, args.base) if args.base else versioning.comparison_base(chart)
    if found is None:
        print(f"{chart}: no release tag ({versioning.chart_yaml(chart)['name']}-*) and no earlier version in the "
              f"git history: nothing to compare with")
    else:
        problems += versioning.bump_problems(chart, found[0])
    for problem in problems:
        print(problem)
    if not problems:
        print(f"{chart}: version {versioning.chart_yaml(chart)['version']} ok" + (f" (against {found[1]})" if found
                                                                                  else ""))
    return EXIT_FINDINGS if problems else EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser("version-check", help="a changed chart needs a higher version, a CHANGELOG entry and "
                                             "Artifact Hub annotations",
                       description="Compares the chart with the last <chart>-<version> release tag (or --base), "
                                   "as `ct lint` does with its target branch.")
    p.add_argument("chart", type=args_.existing_path("chart"), help="chart directory")
    p.add_argument("--base", default=None, metavar="REF", help="default: the last <chart>-<version> tag, else the "
                                                                 "last commit with the chart's previous version")
    p.add_argument("--previous-ref", action="store_true",
                   help="print that default ref (empty when there is none) and exit: make check's upgrade comparison")
    p.set_defaults(handler=handle)
