"""`portico upgrade-check`: helm upgrade under load, every failed request counted."""

from __future__ import annotations

import argparse
import dataclasses
import time
from pathlib import Path

from portico.commands import args as args_
from portico.errors import EXIT_FINDINGS, EXIT_OK


TARGET_FORMS = ("NAME=http://ADDRESS[:PORT]/PATH[@HOST], NAME=grpc://ADDRESS:PORT[@AUTHORITY], "
                "NAME=lb://SERVICE[:PORT]/PATH[@HOST] or NAME=cluster://SERVICE[:PORT]/PATH")


def _target(raw: str):
    from portico.zerodowntime.load import Target

    name, sep, rest = raw.partition("=")
    if not sep or not name or not rest.startswith(("http://", "grpc://", "lb://", "cluster://")):
        raise argparse.ArgumentTypeError(f"expected {TARGET_FORMS}, got {raw!r}")
    url, _, host = rest.partition("@")
    scheme, _, where = url.partition("://")
    if scheme == "grpc":
        _, colon, port = where.rstrip("/").rpartition(":")
        if not colon or not port.isdigit() or "/" in where.rstrip("/"):
            raise argparse.ArgumentTypeError(f"expected NAME=grpc://ADDRESS:PORT[@AUTHORITY] (no path: the call is "
                                             f"the standard health check), got {raw!r}")
    elif scheme != "http":
        service, _, port = where.partition("/")[0].partition(":")
        if not service or (port and not port.isdigit()):
            raise argparse.ArgumentTypeError(f"expected NAME={scheme}://SERVICE[:PORT]/PATH (a Service of the "
                                             f"release and a port number), got {raw!r}")
    return Target(name, url, host or None)


def keepalive_method(choice: str, target) -> str:
    """auto: GET through a proxy (a target with a Host header: an Ingress or a route), POST straight to the pods."""
    if choice != "auto":
        return choice
    return "GET" if target.host else "POST"


def _disruption(raw: str):
    from portico.zerodowntime import disruptions

    try:
        return disruptions.parse(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def handle(args: argparse.Namespace) -> int:
    from portico import reports
    from portico.kube import Cluster
    from portico.results import Report
    from portico.zerodowntime import check, verdict

    cluster = Cluster(args.kubeconfig, args.helm)
    chart = args_.chart(args, args.chart)
    from_chart = args_.chart(args, args.from_chart, "--from-chart") if args.from_chart else chart
    before = check.Step(from_chart, tuple(args.values + args.from_values), args.from_label)
    after = check.Step(chart, tuple(args.values + args.to_values), args.to_label)
    started = time.monotonic()
    rollback = check.rollback_args(args.helm) if args.rollback_on_failure else ()
    targets = [dataclasses.replace(t, keepalive_method=keepalive_method(args.keepalive_method, t)) for t in args.target]
    result, run = check.upgrade_check(cluster, args.scenario, args.release, args.namespace, before, after,
                                      targets, expected_version=args.expect_version, rate=args.rate,
                                      settle=args.settle, disruptions=args.disrupt,
                                      installer=Cluster(args.kubeconfig, args.install_helm) if args.install_helm
                                      else None, upgrade_args=rollback, upgrade_may_fail=bool(rollback),
                                      upgrade_timeout=f"{args.upgrade_timeout:g}s", load_image=args.load_image,
                                      post_fallback=args.keepalive_method == "auto", cycles=args.cycles)
    print(verdict.render_text(result))
    case = verdict.to_case(result)
    reports.write(Report("upgrade-check", args.scenario, [case], seconds=time.monotonic() - started,
                         findings=list(case.findings)), **args_.report_paths(args))
    if args.plot:
        from portico.zerodowntime.plot import plot

        plot(result, run, args.plot)
    return EXIT_OK if result.passed else EXIT_FINDINGS


DEFAULT_CYCLES = 2


def _cycles(raw: str) -> int:
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if not 1 <= value <= 10:
        raise argparse.ArgumentTypeError(f"expected a whole number of cycles from 1 to 10, got {raw!r}")
    return value


def add_parser(sub) -> None:
    p = sub.add_parser("upgrade-check", help="helm upgrade under load and count every failed request",
                       description="Install CHART at version A, load every --target, helm upgrade to B, keep the "
                                   "load through the rollout and a settle time; pass on zero failed requests and a "
                                   "completed version switch. Any chart, any cluster (KUBECONFIG).")
    p.add_argument("chart", type=args_.chart_ref, help="chart of version B: directory, .tgz, oci://... or repo/chart")
    args_.add_chart_fetch_args(p)
    p.add_argument("--release", required=True)
    p.add_argument("--namespace", required=True)
    p.add_argument("-f", "--values", type=args_.values_file, action="append", default=[], help="values for both sides")
    p.add_argument("--from-values", type=args_.values_file, action="append", default=[], help="values of version A")
    p.add_argument("--to-values", type=args_.values_file, action="append", default=[], help="values of version B")
    p.add_argument("--from-chart", type=args_.chart_ref,
                   help="chart of version A (default: CHART); a remote one as REF@VERSION")
    p.add_argument("--target", type=_target, action="append", required=True, metavar="NAME=URL[@HOST]",
                   help="where to send load (loopback or addresses of this test's own cluster); "
                        "lb://SERVICE[:PORT]/PATH: the address the release's LoadBalancer Service gets; "
                        "cluster://SERVICE[:PORT]/PATH: the Service's cluster address, from a pod in --namespace; "
                        "grpc://ADDRESS:PORT[@AUTHORITY]: gRPC health checks (grpc.health.v1) with ghz")
    p.add_argument("--load-image", help="vegeta image for cluster:// targets (default: portico.local/vegeta:"
                                        "VEGETA_VERSION, which `portico cluster up` builds and loads)")
    p.add_argument("--expect-version", help="the X-Version B answers with; the switch must complete to it")
    p.add_argument("--rate", type=args_.positive, default=500.0,
                   help="requests per second per target, open loop (default 500; HTTP: half kept-alive, half fresh; "
                        "gRPC: calls on four HTTP/2 connections)")
    p.add_argument("--keepalive-method", choices=["auto", "POST", "GET"], default="auto",
                   help="method of the kept-alive requests: POST (no client resends it, so a kept-alive connection "
                        "the app breaks shows), GET (what a pooling proxy or a retrying client resends), or auto "
                        "(default): GET for a target with a Host (through a proxy), else POST, or GET where the app "
                        "refuses POSTs (a static web server: 405); docs/zero-downtime.md")
    p.add_argument("--cycles", type=_cycles, default=DEFAULT_CYCLES, metavar="N",
                   help=f"A -> B rollouts under the one load, with a B -> A between each (default {DEFAULT_CYCLES}: "
                        "A -> B -> A -> B); a fault that drops requests in only some pod terminations, such as a "
                        "missing preStop, gets that many more chances to show (docs/zero-downtime.md)")
    p.add_argument("--settle", type=float, default=5.0, help="seconds of load after the old pods are gone")
    p.add_argument("--disrupt", type=_disruption, action="append", default=[], metavar="delete-pod|drain-node|scale=N",
                   help="once a new pod is ready: delete a ready old pod, drain the node running most old pods, or write the scale subresource as an "
                        "HPA would (repeatable)")
    p.add_argument("--install-helm", choices=["helm", "helm3"],
                   help="install version A with this helm, upgrade with --helm (helm 3 -> helm 4 switches to "
                        "server-side apply)")
    p.add_argument("--rollback-on-failure", action="store_true",
                   help="B is expected to fail: helm upgrade --rollback-on-failure (helm 3: --atomic); pass on "
                        "zero failed requests with every answer from A after the rollback")
    p.add_argument("--upgrade-timeout", type=args_.positive, default=300.0,
                   help="seconds helm upgrade waits for the rollout (with --rollback-on-failure: until it rolls back)")
    p.add_argument("--scenario", default="upgrade")
    p.add_argument("--from-label", default="A")
    p.add_argument("--to-label", default="B")
    args_.add_cluster_report_args(p)
    p.add_argument("--plot", type=Path, help="PNG: requests per second, failures and ready pods over time")
    p.set_defaults(handler=handle)
