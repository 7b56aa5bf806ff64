"""`portico smoke`: install scenarios on a cluster and reach every exposure."""

from __future__ import annotations

import argparse
import time

from portico.commands import args as args_
from portico.errors import EXIT_FINDINGS, EXIT_OK, InputError


def handle(args: argparse.Namespace) -> int:
    from portico import reports, smoke
    from portico.kube import Cluster

    scenarios, common = smoke.load(args.smoke_file)
    if args.only:
        unknown = set(args.only) - {s.name for s in scenarios}
        if unknown:
            raise InputError(f"no such scenario(s): {', '.join(sorted(unknown))}", source=str(args.smoke_file))
        scenarios = [s for s in scenarios if s.name in args.only]
    settings = smoke.Settings(chart=args_.chart(args, args.chart), http=args.http, https=args.https, client_image=args.client_image,
                              client_command=tuple(args.client_command.split()), common=(common,) if common else ())
    started = time.monotonic()
    results = smoke.run_all(smoke.Runner(Cluster(args.kubeconfig, args.helm), settings), scenarios,
                            parallel=args.parallel)
    print(smoke.render_table(results))
    print(f"wall time {time.monotonic() - started:.0f}s")
    reports.write(smoke.to_report(results, args.smoke_file, time.monotonic() - started), **args_.report_paths(args))
    return EXIT_OK if all(r.passed for r in results) else EXIT_FINDINGS


def add_parser(sub) -> None:
    p = sub.add_parser("smoke", help="install scenarios on a cluster and reach every exposure",
                       description="Each scenario of SMOKE_FILE in its own namespace, several at a time: helm install "
                                   "--wait, reach it through its exposure, check the answer came from the release's "
                                   "pods, helm test, uninstall, check nothing is left. Any cluster (KUBECONFIG).")
    p.add_argument("chart", type=args_.chart_ref, help="chart directory, .tgz, oci://... or repo/chart")
    args_.add_chart_fetch_args(p)
    p.add_argument("smoke_file", type=args_.existing_path("smoke file"))
    p.add_argument("--only", action="append", help="run only this scenario (repeatable)")
    p.add_argument("--parallel", type=int, default=3)
    p.add_argument("--http", default="http://127.0.0.1:18080", help="HTTP entrypoint of the ingress/gateway")
    p.add_argument("--https", default="https://127.0.0.1:18443", help="HTTPS entrypoint")
    p.add_argument("--client-image", default="busybox:1.37", help="image for in-cluster requests")
    p.add_argument("--client-command", default="wget -q -O - -T 5", help="its command; the URL is appended")
    args_.add_cluster_report_args(p)
    p.set_defaults(handler=handle)
