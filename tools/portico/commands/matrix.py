"""`portico matrix`: every values permutation of a matrix file, rendered, validated and reported."""

from __future__ import annotations

import argparse
from pathlib import Path

from portico.commands import args as args_
from portico.errors import EXIT_FINDINGS, EXIT_OK


def handle(args: argparse.Namespace) -> int:
    from rich.console import Console

    from portico import reports
    from portico.matrix import report, spec
    from portico.matrix.progress import rich_progress
    from portico import baseline
    from portico.matrix.run import Options, run
    from portico.renderer import HelmLoopRenderer

    matrix = spec.load(args.matrix_file, fetch=args_.fetch(args))
    if args.kube_version:
        matrix = spec.with_validate_versions(matrix, args.kube_version)
    if args.chart:
        matrix = spec.with_chart(matrix, args_.chart(args, args.chart, "--chart"))
    console = Console(stderr=True)
    renderer = HelmLoopRenderer(matrix.chart, parallel=2) if args.renderer == "helm" else None
    options = Options(upgrade_from=args.upgrade_from, api_versions=tuple(args.api_versions),
                      schema_locations=tuple(args.schema_location), baseline=args.baseline,
                      admission=args.admission, pod_security=args.pod_security,
                      admission_kubeconfig=args.admission_kubeconfig,
                      admission_versions=tuple(args.admission_kube_version or ()), fetch=args_.fetch(args),
                      cross_check=not args.no_cross_check)
    with rich_progress(console, enabled=not args.no_progress) as progress:
        result = run(matrix, args.output_dir, shard=args.shard, renderer=renderer, progress=progress,
                     options=options)
    report.print_summary(result, Console())
    reports.write(report.to_report(result), **args_.report_paths(args))
    if args.write_baseline:
        baseline.write(args.write_baseline, result.findings + result.baselined)
        print(f"wrote {len(result.findings) + len(result.baselined)} findings to {args.write_baseline}: "
              f"give each a reason")
    return EXIT_OK if result.ok else EXIT_FINDINGS


def add_parser(sub) -> None:
    p = sub.add_parser("matrix", help="render and validate every values permutation of a matrix file",
                       description="Plan the combinations of a matrix file, render each, validate every manifest "
                                   "against schemas and policy, check upgrade safety, and report.")
    p.add_argument("matrix_file", type=args_.existing_path("matrix file"))
    p.add_argument("-o", "--output-dir", type=Path, default=Path("out/matrix"),
                   help="manifests per combination and an index (default: out/matrix)")
    p.add_argument("--shard", type=args_.shard, default=None, metavar="I/N", help="run only shard I of N")
    p.add_argument("--kube-version", action="append", type=args_.k8s_minor,
                   help="validate against this Kubernetes version (repeatable; overrides the matrix file's "
                        "validate.kubernetesVersions)")
    p.add_argument("--chart", type=args_.chart_ref, default=None,
                   help="chart directory, .tgz, oci://... or repo/chart (overrides the matrix file's chart)")
    args_.add_chart_fetch_args(p)
    args_.add_schema_args(p)
    p.add_argument("--baseline", type=args_.existing_path("baseline file"), default=None,
                   help="known findings, each with a reason: they are reported but do not fail the run")
    p.add_argument("--admission", action="store_true",
                   help="send every distinct resource to a real kube-apiserver (local, server-side dry-run)")
    p.add_argument("--pod-security", choices=["privileged", "baseline", "restricted"], default="restricted",
                   help="Pod Security level of the namespaces admission uses (default: restricted)")
    p.add_argument("--admission-kube-version", action="append", type=args_.k8s_minor, metavar="MINOR",
                   help="a local kube-apiserver of this Kubernetes minor (repeatable; built on first use; default "
                        "the pinned one)")
    p.add_argument("--admission-kubeconfig", type=args_.existing_path("kubeconfig"), default=None, metavar="KUBECONFIG",
                   help="admission by that cluster's API server instead of a local one (dry-run; nothing is created: "
                        "the namespaces must exist there)")
    p.add_argument("--write-baseline", type=Path, default=None, metavar="FILE",
                   help="write this run's findings as a baseline file (then give each a reason)")
    p.add_argument("--upgrade-from", default=None, metavar="REF",
                   help="previous chart: git:<ref>, a .tgz, a directory, oci://...@VERSION or repo/chart@VERSION "
                        "(overrides the matrix file)")
    args_.add_report_args(p)
    p.add_argument("--renderer", choices=["inprocess", "helm"], default="inprocess",
                   help="inprocess: portico-render (Helm's SDK); helm: one `helm template` per combination")
    p.add_argument("--no-cross-check", action="store_true",
                   help="do not render one combination per subchart setting again with `helm template` to check "
                        "the in-process renderer (docs/matrix.md)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(handler=handle)
