"""`portico release`: lint, test, package, sign, push and verify a chart."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from portico.commands import args as args_
from portico.errors import EXIT_FINDINGS, EXIT_OK, InputError


def handle(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from portico import release

    chart = args_.local_chart_dir(args.chart)
    opts = release.Options(chart=chart, output=args.output, registry=args.registry, plain_http=args.plain_http,
                           sign_key=args.sign_key, keyring=args.keyring, passphrase_file=args.passphrase_file,
                           verify_keyring=args.verify_keyring, matrix=args.matrix, skip_matrix=args.skip_matrix,
                           cosign_key=args.cosign_key, base=args.base)
    if args.registry and not args.registry.startswith("oci://"):
        raise InputError(f"expected oci://HOST/PATH, got {args.registry!r}", source="--registry")
    result = release.run(opts, out=lambda step: print(f"{step.name:<9} {'ok  ' if step.ok else 'FAIL'} "
                                                       f"{step.detail}", flush=True))
    table = Table("step", "result", "seconds", title=f"release of {chart}")
    for step in result.steps:
        table.add_row(step.name, "ok" if step.ok else "[red]failed[/red]", f"{step.seconds:.1f}")
    Console().print(table)
    if args.json:
        from portico.files import write_atomic

        write_atomic(args.json, json.dumps(result.as_dict(), indent=2) + "\n")
    return EXIT_OK if result.ok else EXIT_FINDINGS


def add_parser(sub) -> None:
    p = sub.add_parser("release", help="lint, test, package, sign, push (OCI) and verify a chart",
                       description="Steps: metadata, version bump, helm lint, matrix, helm package [--sign], "
                                   "helm verify, helm push, cosign sign. Stops at the first failure; nothing "
                                   "is pushed after one.")
    p.add_argument("chart", type=args_.existing_path("chart"), help="chart directory")
    p.add_argument("--registry", default=None, metavar="oci://HOST/PATH", help="push here (default: package only)")
    p.add_argument("--plain-http", action="store_true", help="the registry speaks plain HTTP (a local one)")
    p.add_argument("--sign-key", default=None, metavar="NAME", help="GnuPG key to sign with (helm package --sign)")
    p.add_argument("--keyring", type=args_.existing_path("keyring"), default=None,
                   help="secret keyring holding --sign-key (legacy format: gpg --export-secret-keys > secring.gpg)")
    p.add_argument("--passphrase-file", type=args_.existing_path("passphrase file"), default=None)
    p.add_argument("--verify-keyring", type=args_.existing_path("keyring"), default=None,
                   help="public keyring to verify the package with (default: --keyring)")
    p.add_argument("--cosign-key", type=args_.existing_path("cosign key"), default=None,
                   help="also sign the pushed artifact with cosign (COSIGN_PASSWORD from the environment)")
    p.add_argument("--matrix", type=args_.existing_path("matrix file"), default=None,
                   help="matrix to run first (default: CHART/ci/matrix.yaml or CHART/ci/portico-matrix.yaml)")
    p.add_argument("--skip-matrix", action="store_true", help="do not run the matrix (make release ran it)")
    p.add_argument("--base", default=None, metavar="REF", help="compare the version with this ref (default: the "
                                                                 "last <chart>-<version> tag)")
    p.add_argument("-o", "--output", type=Path, default=Path("dist"), help="where the package lands (default: dist)")
    p.add_argument("--json", type=Path, default=None,
                   help="write the steps, the package and the pushed reference (host/path/chart@sha256:...) as JSON")
    p.set_defaults(handler=handle)
