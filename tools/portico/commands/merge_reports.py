"""`portico merge-reports`: the JSON reports of shards, one report."""

from __future__ import annotations

import argparse

from portico.commands import args as args_
from portico.errors import EXIT_FINDINGS, EXIT_OK


def handle(args: argparse.Namespace) -> int:
    from portico import reports
    from portico.reports import merge

    report = merge.merge(args.reports)
    reports.write(report, **args_.report_paths(args))
    print(f"merged {len(args.reports)} reports: {len(report.cases)} cases, {len(report.findings)} problems")
    return EXIT_OK if report.ok else EXIT_FINDINGS


def add_parser(sub) -> None:
    p = sub.add_parser("merge-reports", help="merge the JSON reports of shards into one JUnit, JSON, Markdown, SARIF",
                       description="After `portico matrix --shard I/N --json shard-I.json` on N runners: one report, "
                                   "each case once, findings of the same problem merged.")
    p.add_argument("reports", nargs="+", type=args_.existing_path("report"), help="JSON reports of the shards")
    args_.add_report_args(p)
    p.set_defaults(handler=handle)
