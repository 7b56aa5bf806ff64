"""`portico render`: a chart with values, rendered into one file per resource."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from portico.commands import args as args_
from portico.errors import EXIT_OK, InputError


def handle(args: argparse.Namespace) -> int:
    from portico import manifests
    from portico.clients.helm import Helm, RenderError, RenderRequest
    from portico.files import OutputDir

    target = OutputDir(args.output_dir) if args.output_dir is not None else None  # refused before rendering
    for assignment in args.set_values:
        if "=" not in assignment:
            raise InputError(f"{assignment!r} has no value: expected KEY=VALUE", source="--set")
    chart = args_.chart(args, args.chart)
    req = RenderRequest(chart=chart, values_files=args.values, set_values=args.set_values,
                        release=args.release, namespace=args.namespace, kube_version=args.kube_version,
                        api_versions=args.api_versions,
                        # The chart's crds/ too, as `helm install` applies them (helm template leaves them out).
                        extra_args=() if args.skip_crds else ("--include-crds",))
    try:
        docs = manifests.load_all(Helm.pinned().template(req))
    except RenderError as exc:
        # The chart or the values given here are wrong: an input error, with helm's reason.
        raise InputError(str(exc), source=str(args.chart)) from exc
    if args.output_dir is None:
        import yaml

        sys.stdout.write(yaml.safe_dump_all(docs, sort_keys=False))
        return EXIT_OK
    assert target is not None
    count = manifests.write_output(docs, target)
    print(f"rendered {count} resources into {args.output_dir}")
    return EXIT_OK


def add_parser(sub) -> None:
    p = sub.add_parser("render", help="render a chart with values into one file per resource")
    args_.add_render_args(p)
    p.add_argument("--api-versions", action="append", default=[], metavar="GROUP/VERSION[/KIND]",
                   help="Capabilities.APIVersions as on your cluster (repeatable)")
    p.add_argument("-o", "--output-dir", type=Path, default=None,
                   help="write one file per resource here (a new or empty directory, or one portico wrote)")
    p.add_argument("--skip-crds", action="store_true",
                   help="leave out the chart's crds/ (by default they are rendered, as helm install applies them)")
    p.set_defaults(handler=handle)
