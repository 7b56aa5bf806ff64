"""`portico ci`: chart-testing's job over a chart repository, with Helm 4 (docs/migrating-from-ct.md)."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from portico.commands import args as args_
from portico.errors import EXIT_FINDINGS, EXIT_OK, InputError

DESCRIPTION = """Every chart of a repository, or the ones a change touched and their dependents: dependencies
resolved offline (vendored, from this repository, or from --dependency-dir), helm lint --strict, the version
bump against the base, and each chart's matrix (ci/portico-matrix.yaml, else ci/*-values.yaml as cases, else
what portico init writes). Reads ct.yaml (or ci/ct.yaml) when present. One report for the repository."""


def _charts(raw: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in raw.split(",") if n.strip())
    if not names:
        raise argparse.ArgumentTypeError(f"expected chart names separated by commas, got {raw!r}")
    return names


def add_parser(sub) -> None:
    p = sub.add_parser("ci", help="lint, version-check and test every changed chart of a chart repository",
                       description=DESCRIPTION)
    p.add_argument("repo", nargs="?", type=Path, default=Path("."), help="the repository root (default: .)")
    which = p.add_mutually_exclusive_group()
    which.add_argument("--all", action="store_true", help="every chart")
    which.add_argument("--charts", type=_charts, default=(), metavar="A,B", help="these charts, by name")
    which.add_argument("--since", default=None, metavar="REF",
                       help="the charts changed since the merge base with REF, and the charts that depend on them "
                            "(the default: REF is the ct config's remote/target-branch)")
    p.add_argument("--config", type=Path, default=None, metavar="CT_YAML",
                   help="chart-testing config (default: ct.yaml or ci/ct.yaml at the root, if there)")
    p.add_argument("--dependency-dir", type=Path, action="append", default=[], metavar="DIR",
                   help="charts to take dependencies from: NAME-VERSION.tgz files or NAME/ directories (repeatable)")
    p.add_argument("--admission", action="store_true", help="each matrix through a local API server too")
    install = p.add_argument_group("install (ct install --upgrade)")
    install.add_argument("--install", action="store_true",
                         help="install each case (ci/*-values.yaml, else the defaults) on the cluster in a namespace "
                              "of its own, upgraded from the chart at the base commit, then helm test, then remove it")
    install.add_argument("--no-upgrade", dest="upgrade", action="store_false",
                         help="with --install: install the working tree's chart only, not the base's first")
    install.add_argument("--kubeconfig", type=Path, default=None, help="with --install: default $KUBECONFIG")
    install.add_argument("--helm-timeout", default="300s", metavar="DURATION",
                         help="with --install: helm's --timeout for each install, upgrade and test (default 300s)")
    p.add_argument("-o", "--output-dir", type=Path, default=Path("out/ci"), help="per-chart output (default out/ci)")
    p.add_argument("-j", "--jobs", type=int, default=0, help="charts at once (default: the cores)")
    p.add_argument("--shard", type=args_.shard, default=None, metavar="I/N",
                   help="only every N-th selected chart from the I-th (one CI runner each; portico merge-reports "
                        "joins the JSON reports)")
    args_.add_report_args(p)
    p.set_defaults(handler=handle)


def handle(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from portico import reports
    from portico.clients.git import Git
    from portico.repo import changes, config as config_mod, discover, pipeline
    from portico.repo.deps import Resolver

    root = args.repo.resolve()
    if not root.is_dir():
        raise InputError("is not a directory", source=str(args.repo))
    for i, directory in enumerate(args.dependency_dir):
        if not directory.is_dir():
            raise InputError(f"{str(directory)!r} is not a directory", source=f"--dependency-dir[{i}]")
    if args.jobs < 0:
        raise InputError(f"expected 0 (the cores) or more, got {args.jobs}", source="--jobs")
    started = time.monotonic()
    config = config_mod.load(config_mod.find(root, args.config))
    install = _install_options(args, config)
    charts = discover.discover(root, config)
    if not charts:
        raise InputError("holds no chart (no Chart.yaml" + (f" under {', '.join(config.chart_dirs)})"
                                                            if config.chart_dirs else ")"), source=str(root))
    git = Git()
    selected, selection = changes.select(root, charts, config, all_charts=args.all, names=args.charts,
                                         since=args.since, git=git)
    if args.shard:
        index, count = args.shard
        selected = selected[index - 1::count]
        selection += f"; shard {index}/{count}: {len(selected)} of them"
    base = _base(root, config, args, git)
    console = Console(stderr=True)
    console.print(f"portico ci: {selection}" + (f"; ct config {config.source}" if config.source else ""))
    if config.ignored:
        console.print(f"  ct settings read but not used here: {', '.join(config.ignored)}")
    for item in selected:
        console.print(f"  {item.chart.rel}: {item.reason}", highlight=False)
    options = pipeline.CiOptions(root, config, args.output_dir.resolve(), base, tuple(args.dependency_dir),
                                 args.admission, args.jobs, install)
    runs = pipeline.run_all(selected, Resolver(charts, root, tuple(args.dependency_dir)), options,
                            progress=lambda r: console.print(_line(r), highlight=False))
    report = pipeline.to_report(runs, root.name, selection, time.monotonic() - started)
    _print_table(report, Console(), Table)
    reports.write(report, **{fmt: getattr(args, fmt, None) for fmt in ("junit", "json", "markdown", "sarif")})
    return EXIT_OK if report.ok else EXIT_FINDINGS


def _install_options(args: argparse.Namespace, config):
    from portico.repo.install import InstallOptions

    if not args.install:
        for flag, given in (("--no-upgrade", not args.upgrade), ("--kubeconfig", args.kubeconfig is not None),
                            ("--helm-timeout", args.helm_timeout != "300s")):
            if given:
                raise InputError("only means something with --install", source=flag)
        return None
    from portico.clients.helm import GO_DURATION

    if not GO_DURATION.fullmatch(args.helm_timeout):
        raise InputError(f"expected a duration with its unit, as helm takes it (300s, 5m, 5m30s), got "
                         f"{args.helm_timeout!r}", source="--helm-timeout")
    if args.kubeconfig is not None and not args.kubeconfig.is_file():
        raise InputError("does not exist", source=f"--kubeconfig {args.kubeconfig}")
    return InstallOptions(args.kubeconfig, config.helm_extra_args, args.helm_timeout, args.upgrade)


def _base(root: Path, config, args, git) -> str | None:
    """The commit versions are compared with: the merge base with --since, else with the target branch."""
    if git.toplevel(root) is None:
        return None
    ref = args.since
    if ref is None:
        ref = next((r for r in (f"{config.remote}/{config.target_branch}", config.target_branch)
                    if git.resolves(root, r)), None)
    return git.merge_base(root, ref) if ref else None


def _line(run) -> str:
    bad = [c for c in run.cases if not c.passed]
    verdict = "ok" if not bad else "FAILED (" + ", ".join(c.properties["step"] for c in bad) + ")"
    return f"  {run.chart.rel}: {verdict} in {run.seconds:.1f}s"


def _print_table(report, console, table_cls) -> None:
    table = table_cls(title=f"portico ci: {report.title}", header_style="bold")
    from portico.repo.pipeline import STEPS

    rows = report.summary["charts"]
    steps = [s for s in STEPS if s != "install" or any(row["install"] != "-" for row in rows)]
    table.add_column("chart", no_wrap=True, min_width=max([len(row["path"]) for row in rows] + [5]))
    for column in (*steps, "problems", "seconds"):
        table.add_column(column, justify="right" if column in ("problems", "seconds") else "left")
    for row in rows:
        table.add_row(row["path"], *(str(row[k]) for k in (*steps, "problems", "seconds")))
    console.print(table)
    for finding in report.findings:
        if finding.severity != "warning":
            console.print(f"[red]{finding.file}[/red] {finding.stage} {finding.rule}: {finding.message}",
                          highlight=False)
    console.print(f"{report.summary['charts_failed']} of {len(report.summary['charts'])} charts failed")
