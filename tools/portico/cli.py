"""`portico`: render, validate and smoke-test Helm charts.

Subcommands mirror the pipeline: render -> validate -> matrix (both, for every
values permutation) -> smoke / upgrade-check (on a cluster); cluster manages
the local kind cluster; setup and doctor install and check the toolchain.
Errors print one line and exit non-zero: 1 for findings, 2 for bad input.
"""

from __future__ import annotations

import argparse
import math
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

from portico import __version__
from portico.commands import shard
from portico.clients.helm import DEFAULT_NAMESPACE, DEFAULT_RELEASE
from portico.errors import EXIT_FINDINGS, EXIT_OK, EXIT_USAGE, InputError, PorticoError

def _existing_path(kind: str) -> Callable[[str], Path]:
    def parse(raw: str) -> Path:
        path = Path(raw)
        if not path.exists():
            raise argparse.ArgumentTypeError(f"{kind} {raw!r} does not exist")
        return path

    return parse


def _chart_ref(raw: str) -> str:
    """A chart directory or .tgz that exists, or a remote reference (oci://..., repo/chart) pulled later."""
    from portico import chartref

    if chartref.kind_of(chartref.split_version(raw)[0]) == "missing":
        raise argparse.ArgumentTypeError(f"chart {raw!r} does not exist: expected a chart directory, a packaged "
                                         f".tgz, oci://REGISTRY/PATH/CHART or REPO/CHART")
    return raw


def _add_chart_fetch_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("chart references (oci://..., repo/chart)")
    g.add_argument("--chart-version", default=None, metavar="VERSION", help="version of a remote chart to pull")
    g.add_argument("--plain-http", action="store_true", help="pull from an OCI registry over plain HTTP")
    g.add_argument("--verify", action="store_true", help="verify the pulled chart's provenance (.prov)")
    g.add_argument("--keyring", type=_existing_path("keyring"), default=None,
                   help="public keyring for --verify (default: helm's)")


def _fetch(args: argparse.Namespace):
    from portico.chartref import Fetch

    return Fetch(version=args.chart_version, plain_http=args.plain_http, verify=args.verify, keyring=args.keyring)


def _chart(args: argparse.Namespace, ref: str, source: str = "chart") -> Path:
    from portico import chartref

    return chartref.resolve(ref, _fetch(args), source=source)


def _k8s_minor(raw: str) -> str:
    parts = raw.lstrip("v").split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        raise argparse.ArgumentTypeError(f"expected a Kubernetes version like 1.34, got {raw!r}")
    return f"{parts[0]}.{parts[1]}"


def _add_schema_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--api-versions", action="append", default=[], metavar="GROUP/VERSION[/KIND]",
                   help="Capabilities.APIVersions as on your cluster, e.g. gateway.networking.k8s.io/v1 (repeatable)")
    p.add_argument("--schema-location", action="append", default=[], metavar="LOCATION", type=_schema_location,
                   help="extra kubeconform schema location, in its syntax (an offline directory or a file "
                        "template with {{.ResourceKind}}...; repeatable)")


def _add_render_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("chart", type=_chart_ref, help="chart directory, .tgz, oci://... or repo/chart")
    _add_chart_fetch_args(p)
    p.add_argument("-f", "--values", action="append", type=_existing_path("values file"), default=[],
                   help="values file, applied in order (repeatable)")
    p.add_argument("--set", action="append", default=[], dest="set_values", metavar="KEY=VALUE",
                   help="helm --set, applied last (repeatable)")
    p.add_argument("--release", default=DEFAULT_RELEASE, help=f"release name (default: {DEFAULT_RELEASE})")
    p.add_argument("--namespace", default=DEFAULT_NAMESPACE)
    p.add_argument("--kube-version", type=_k8s_minor, default=None,
                   help="Capabilities.KubeVersion, e.g. 1.34")


def cmd_render(args: argparse.Namespace) -> int:
    from portico import manifests
    from portico.clients.helm import Helm, RenderError, RenderRequest
    from portico.files import OutputDir

    target = OutputDir(args.output_dir) if args.output_dir is not None else None  # refused before rendering
    for assignment in args.set_values:
        if "=" not in assignment:
            raise InputError(f"{assignment!r} has no value: expected KEY=VALUE", source="--set")
    chart = _chart(args, args.chart)
    req = RenderRequest(chart=chart, values_files=args.values, set_values=args.set_values,
                        release=args.release, namespace=args.namespace, kube_version=args.kube_version,
                        api_versions=args.api_versions)
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


def _manifest_files(paths: list[Path]) -> list[Path]:
    found = []
    for path in paths:
        candidates = sorted(path.rglob("*")) if path.is_dir() else [path]
        for candidate in candidates:
            if candidate.is_symlink() and not candidate.exists():
                raise InputError("is a dangling symlink", source=str(candidate))
            if candidate.is_file() and candidate.suffix in (".yaml", ".yml", ".json"):
                found.append(candidate)
    if not found:
        raise InputError("no manifests (*.yaml, *.yml, *.json) found", source=", ".join(map(str, paths)))
    return found


def _admit_files(args: argparse.Namespace) -> int:
    """`validate --admission`: the manifests through a local API server; the number of errors."""
    from portico import manifests
    from portico.admission import stage

    docs = [d for path in _manifest_files(args.paths) for d in manifests.load_all(path.read_text())]
    findings, sent = stage.run_local({"files": docs}, {"files": ["files"]}, namespace=args.namespace,
                                     crds=[d for d in docs if d.get("kind") == "CustomResourceDefinition"],
                                     pod_security=args.pod_security)
    for f in findings:
        print(f"admission: {f.severity} {f.rule} {f.object}: {f.message}")
    errors = sum(1 for f in findings if f.severity != "warning")
    print(f"admission: {sent} objects, {errors} refused or in breach of Pod Security {args.pod_security}")
    return errors


_NOT_RESOURCES = ("kustomize.config.k8s.io/",)  # kustomization.yaml: a build file, not an object of a cluster


def _resource_files(files: list[Path]) -> tuple[list[Path], list[Path], list[dict]]:
    """(files holding a Kubernetes object, files skipped, the CRDs among them): a chart's values.yaml or a
    kustomization.yaml beside the manifests is no resource, and kubeconform would report it as one."""
    from portico import manifests

    keep, skipped, crds = [], [], []
    for path in files:
        try:
            docs = manifests.load_all(path.read_text())
        except Exception:  # noqa: BLE001 - not YAML: kubeconform names the problem
            keep.append(path)
            continue
        objects = [d for d in docs if d.get("apiVersion") and d.get("kind")
                   and not str(d["apiVersion"]).startswith(_NOT_RESOURCES)]
        (keep if objects or not docs else skipped).append(path)
        crds += [d for d in objects if d.get("kind") == "CustomResourceDefinition"]
    return keep, skipped, crds


def cmd_validate(args: argparse.Namespace) -> int:
    import tempfile

    from portico.schemas import available, crd as crd_schemas, kubernetes_versions, validate

    versions = args.kube_version or kubernetes_versions()
    for version in versions:
        available(version)
    files, skipped, crds = _resource_files(_manifest_files(args.paths))
    if skipped:
        print(f"skipped {len(skipped)} file(s) that hold no Kubernetes object: "
              f"{', '.join(str(p) for p in skipped[:5])}{' ...' if len(skipped) > 5 else ''}")
    if not files:
        raise InputError("no Kubernetes objects (apiVersion and kind) in these files",
                         source=", ".join(map(str, args.paths)))
    failed = _admit_files(args) if args.admission else 0
    with tempfile.TemporaryDirectory(prefix="portico-validate-crds-") as tmp:
        # CRDs among the files validate the custom resources among them, as the matrix does with a chart's
        locations = list(args.schema_location)
        if crd_schemas.convert_crds(crds, Path(tmp), ", ".join(map(str, args.paths))):
            locations.insert(0, crd_schemas.location(Path(tmp)))
        for version in versions:
            result = validate(version, files, skip_kinds=args.skip_kind, extra_locations=locations)
            for finding in result.invalid:
                print(finding.line())
            failed += len(result.invalid)
            status = "ok" if not result.invalid else f"{len(result.invalid)} invalid"
            print(f"kubernetes {version}: {result.resources} resources, {status}")
    return EXIT_FINDINGS if failed else EXIT_OK




def cmd_matrix(args: argparse.Namespace) -> int:
    from rich.console import Console

    from portico import reports
    from portico.matrix import report, spec
    from portico.matrix.progress import rich_progress
    from portico import baseline
    from portico.matrix.run import Options, run
    from portico.renderer import HelmLoopRenderer

    matrix = spec.load(args.matrix_file, fetch=_fetch(args))
    if args.kube_version:
        matrix = spec.with_validate_versions(matrix, args.kube_version)
    if args.chart:
        matrix = spec.with_chart(matrix, _chart(args, args.chart, "--chart"))
    console = Console(stderr=True)
    renderer = HelmLoopRenderer(matrix.chart, parallel=2) if args.renderer == "helm" else None
    options = Options(upgrade_from=args.upgrade_from, api_versions=tuple(args.api_versions),
                      schema_locations=tuple(args.schema_location), baseline=args.baseline,
                      admission=args.admission, pod_security=args.pod_security,
                      admission_kubeconfig=args.admission_kubeconfig,
                      admission_versions=tuple(args.admission_kube_version or ()), fetch=_fetch(args),
                      cross_check=not args.no_cross_check)
    with rich_progress(console, enabled=not args.no_progress) as progress:
        result = run(matrix, args.output_dir, shard=args.shard, renderer=renderer, progress=progress,
                     options=options)
    report.print_summary(result, Console())
    reports.write(report.to_report(result), **_report_paths(args))
    if args.write_baseline:
        baseline.write(args.write_baseline, result.findings + result.baselined)
        print(f"wrote {len(result.findings) + len(result.baselined)} findings to {args.write_baseline}: "
              f"give each a reason")
    return EXIT_OK if result.ok else EXIT_FINDINGS


def _report_paths(args: argparse.Namespace) -> dict[str, Path | None]:
    return {fmt: getattr(args, fmt, None) for fmt in ("junit", "json", "markdown", "sarif")}


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


def _positive(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a finite number above 0, got {raw!r}")
    return value


def _report_path(raw: str) -> Path:
    """A report file to write: refused before any work when it cannot be one."""
    path = Path(raw)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{raw!r} is a directory; give a file path, e.g. {Path(raw) / 'report'}")
    parent = next((p for p in path.absolute().parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise argparse.ArgumentTypeError(f"{raw!r}: {parent} is a file, so no directory can be made there")
    return path


def _schema_location(raw: str) -> str:
    """kubeconform's syntax: a URL or a file template as they are; a plain local path must exist."""
    if raw == "default" or "://" in raw or "{{" in raw or Path(raw).exists():
        return raw
    raise argparse.ArgumentTypeError(f"{raw!r} does not exist (a directory of schemas, a file template with "
                                     f"{{{{.ResourceKind}}}}, a URL, or 'default')")


def _disruption(raw: str):
    from portico.zerodowntime import disruptions

    try:
        return disruptions.parse(raw)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _values_file(raw: str) -> dict:
    from portico import values

    try:
        return values.load_file(_existing_path("values file")(raw))
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def cmd_upgrade_check(args: argparse.Namespace) -> int:
    from portico import reports
    from portico.kube import Cluster
    from portico.results import Report
    from portico.zerodowntime import check, verdict

    cluster = Cluster(args.kubeconfig, args.helm)
    chart = _chart(args, args.chart)
    from_chart = _chart(args, args.from_chart, "--from-chart") if args.from_chart else chart
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
                                      post_fallback=args.keepalive_method == "auto")
    print(verdict.render_text(result))
    case = verdict.to_case(result)
    reports.write(Report("upgrade-check", args.scenario, [case], seconds=time.monotonic() - started,
                         findings=list(case.findings)), **_report_paths(args))
    if args.plot:
        from portico.zerodowntime.plot import plot

        plot(result, run, args.plot)
    return EXIT_OK if result.passed else EXIT_FINDINGS


def cmd_smoke(args: argparse.Namespace) -> int:
    from portico import reports, smoke
    from portico.kube import Cluster

    scenarios, common = smoke.load(args.smoke_file)
    if args.only:
        unknown = set(args.only) - {s.name for s in scenarios}
        if unknown:
            raise InputError(f"no such scenario(s): {', '.join(sorted(unknown))}", source=str(args.smoke_file))
        scenarios = [s for s in scenarios if s.name in args.only]
    settings = smoke.Settings(chart=_chart(args, args.chart), http=args.http, https=args.https, client_image=args.client_image,
                              client_command=tuple(args.client_command.split()), common=(common,) if common else ())
    started = time.monotonic()
    results = smoke.run_all(smoke.Runner(Cluster(args.kubeconfig, args.helm), settings), scenarios,
                            parallel=args.parallel)
    print(smoke.render_table(results))
    print(f"wall time {time.monotonic() - started:.0f}s")
    reports.write(smoke.to_report(results, args.smoke_file, time.monotonic() - started), **_report_paths(args))
    return EXIT_OK if all(r.passed for r in results) else EXIT_FINDINGS


def cmd_cluster(args: argparse.Namespace) -> int:
    import json

    from portico.cluster import kind, lifecycle

    if args.action == "up":
        endpoints = lifecycle.up(image=args.image)
        print(f"http:  {endpoints.http}\nhttps: {endpoints.https}\n"
              f"NodePorts {endpoints.node_ports.start}-{endpoints.node_ports.stop - 1} on 127.0.0.1\n"
              f"export KUBECONFIG={kind.kubeconfig_path()}")
    elif args.action == "down":
        lifecycle.down()
    elif args.action == "status":
        state = lifecycle.status()
        print(json.dumps(state, indent=2))
        return EXIT_OK if state["exists"] else EXIT_FINDINGS
    elif args.action == "load-image":
        if not args.images:
            raise InputError("load-image needs at least one image tag")
        for tag in args.images:
            kind.load_image(tag)
            print(f"loaded {tag}")
    elif args.action == "build":
        from portico.cluster import addons, nodeimage

        print(nodeimage.build())
        if args.addons:
            addons.build_images()
        else:  # the test app's images: any cluster made here runs them (the multi-node one too)
            addons.testapp_images(print)
    return EXIT_OK


def cmd_setup(args: argparse.Namespace) -> int:
    from portico.schemas import ensure_schemas
    from portico.toolchain import install

    from portico.toolchain.catalog import TOOLS

    known = [t.name for t in TOOLS]
    for name in args.skip:
        if name not in known:
            raise InputError(f"expected one of {', '.join(known)}, got {name!r}", source="--skip")
    allow_download = not (args.no_download or os.environ.get("PORTICO_NO_DOWNLOAD") == "1")
    code = install.install(args.tools or None, skip=args.skip, allow_download=allow_download,
                           out=lambda line: print(line, flush=True),
                           err=lambda line: print(line, file=sys.stderr, flush=True))
    if not args.tools:
        ensure_schemas()
    return EXIT_FINDINGS if code else EXIT_OK


def cmd_doctor(args: argparse.Namespace) -> int:
    from portico import doctor

    checks = doctor.run()
    for check in checks:
        print(check.line())
    return EXIT_OK if all(c.ok for c in checks if c.required) else EXIT_FINDINGS


def cmd_merge_reports(args: argparse.Namespace) -> int:
    from portico import reports
    from portico.reports import merge

    report = merge.merge(args.reports)
    reports.write(report, **_report_paths(args))
    print(f"merged {len(args.reports)} reports: {len(report.cases)} cases, {len(report.findings)} problems")
    return EXIT_OK if report.ok else EXIT_FINDINGS


def cmd_init(args: argparse.Namespace) -> int:
    from portico import init

    from portico import chartref

    ref = args.chart
    if Path(ref).is_dir():
        if args.output is None and not (Path(ref) / "Chart.yaml").exists():
            raise InputError("is not a chart (no Chart.yaml)", source=ref)
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
        path = init.write(_chart(args, ref), args.output, force=args.force, chart_ref=where)
    print(f"wrote {path}; run: portico matrix {path}")
    return EXIT_OK


def cmd_release(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.table import Table

    from portico import release

    chart = _local_chart_dir(args.chart)
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


def cmd_version_check(args: argparse.Namespace) -> int:
    from portico import versioning

    chart = _local_chart_dir(args.chart)
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


def cmd_registry(args: argparse.Namespace) -> int:
    from portico.registry import LocalRegistry

    with LocalRegistry(port=args.port) as registry:
        print(f"registry on http://{registry.host} (storage removed on exit); push with:\n"
              f"  portico release CHART --registry {registry.oci()} --plain-http\nCtrl-C to stop", flush=True)
        try:
            registry.process.wait(timeout=args.timeout)  # type: ignore[union-attr]
        except PorticoError:
            pass  # the timeout passed: stop
    return EXIT_OK


def _local_chart_dir(raw: Path) -> Path:
    if not (raw / "Chart.yaml").exists():
        raise InputError("is not a chart directory (no Chart.yaml)", source=str(raw))
    return raw


def cmd_versions(args: argparse.Namespace) -> int:
    from portico.toolchain.pins import load_versions

    for key, value in load_versions().items():
        print(f"{key}={value}")
    return EXIT_OK


def _add_report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--junit", type=_report_path, help="write a JUnit XML report")
    p.add_argument("--json", type=_report_path, help="write a JSON report")
    p.add_argument("--markdown", type=_report_path,
                   help="write a Markdown summary (also appended to $GITHUB_STEP_SUMMARY)")
    p.add_argument("--sarif", type=_report_path, help="write SARIF 2.1.0 for GitHub code scanning")


def _add_cluster_report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kubeconfig", type=Path, default=None, help="default: $KUBECONFIG")
    p.add_argument("--helm", choices=["helm", "helm3"], default="helm", help="helm 4 (default) or helm 3")
    _add_report_args(p)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="portico", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"portico {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log every command portico runs")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("setup", help="install the pinned tools, build the renderer and the offline schemas",
                       description="Per tool: the tools dir, a binary on PATH at the pinned version, the official "
                                   "checksum-verified release download, or a build from the Go module proxy. "
                                   "Idempotent and fast when warm.")
    p.add_argument("tools", nargs="*", help="only these tools (default: all, plus the renderer and schemas)")
    p.add_argument("--no-download", action="store_true", help="skip release downloads, build from Go modules")
    p.add_argument("--skip", action="append", default=[], metavar="TOOL",
                   help="all but this tool (repeatable; `make test` builds the release tests' registry later, in "
                        "the background)")
    p.set_defaults(handler=cmd_setup)

    p = sub.add_parser("doctor", help="check what portico needs: Python, Go, the pinned tools, Docker, caches")
    p.set_defaults(handler=cmd_doctor)

    p = sub.add_parser("merge-reports", help="merge the JSON reports of shards into one JUnit, JSON, Markdown, SARIF",
                       description="After `portico matrix --shard I/N --json shard-I.json` on N runners: one report, "
                                   "each case once, findings of the same problem merged.")
    p.add_argument("reports", nargs="+", type=_existing_path("report"), help="JSON reports of the shards")
    _add_report_args(p)
    p.set_defaults(handler=cmd_merge_reports)

    p = sub.add_parser("init", help="write a first matrix file for a chart, from its values schema or values",
                       description="Axes from values.schema.json (booleans, short enums) or values.yaml switches, "
                                   "plus well-known keys; pairwise when the space is large; comments say what to "
                                   "add next.")
    p.add_argument("chart", type=_chart_ref, help="chart directory, .tgz, oci://... or repo/chart")
    _add_chart_fetch_args(p)
    p.add_argument("-o", "--output", type=Path, default=None,
                   help="default: CHART/ci/portico-matrix.yaml (required for a packaged or published chart)")
    p.add_argument("--force", action="store_true", help="replace an existing file")
    p.set_defaults(handler=cmd_init)

    p = sub.add_parser("release", help="lint, test, package, sign, push (OCI) and verify a chart",
                       description="Steps: metadata, version bump, helm lint, matrix, helm package [--sign], "
                                   "helm verify, helm push, cosign sign. Stops at the first failure; nothing "
                                   "is pushed after one.")
    p.add_argument("chart", type=_existing_path("chart"), help="chart directory")
    p.add_argument("--registry", default=None, metavar="oci://HOST/PATH", help="push here (default: package only)")
    p.add_argument("--plain-http", action="store_true", help="the registry speaks plain HTTP (a local one)")
    p.add_argument("--sign-key", default=None, metavar="NAME", help="GnuPG key to sign with (helm package --sign)")
    p.add_argument("--keyring", type=_existing_path("keyring"), default=None,
                   help="secret keyring holding --sign-key (legacy format: gpg --export-secret-keys > secring.gpg)")
    p.add_argument("--passphrase-file", type=_existing_path("passphrase file"), default=None)
    p.add_argument("--verify-keyring", type=_existing_path("keyring"), default=None,
                   help="public keyring to verify the package with (default: --keyring)")
    p.add_argument("--cosign-key", type=_existing_path("cosign key"), default=None,
                   help="also sign the pushed artifact with cosign (COSIGN_PASSWORD from the environment)")
    p.add_argument("--matrix", type=_existing_path("matrix file"), default=None,
                   help="matrix to run first (default: CHART/ci/matrix.yaml or CHART/ci/portico-matrix.yaml)")
    p.add_argument("--skip-matrix", action="store_true", help="do not run the matrix (make release ran it)")
    p.add_argument("--base", default=None, metavar="REF", help="compare the version with this ref (default: the "
                                                                 "last <chart>-<version> tag)")
    p.add_argument("-o", "--output", type=Path, default=Path("dist"), help="where the package lands (default: dist)")
    p.add_argument("--json", type=Path, default=None,
                   help="write the steps, the package and the pushed reference (host/path/chart@sha256:...) as JSON")
    p.set_defaults(handler=cmd_release)

    p = sub.add_parser("version-check", help="a changed chart needs a higher version, a CHANGELOG entry and "
                                             "Artifact Hub annotations",
                       description="Compares the chart with the last <chart>-<version> release tag (or --base), "
                                   "as `ct lint` does with its target branch.")
    p.add_argument("chart", type=_existing_path("chart"), help="chart directory")
    p.add_argument("--base", default=None, metavar="REF", help="default: the last <chart>-<version> tag, else the "
                                                                 "last commit with the chart's previous version")
    p.add_argument("--previous-ref", action="store_true",
                   help="print that default ref (empty when there is none) and exit: make check's upgrade comparison")
    p.set_defaults(handler=cmd_version_check)

    p = sub.add_parser("registry", help="run a throw-away OCI registry on 127.0.0.1 (to try releases)")
    p.add_argument("--port", type=int, default=None, help="default: a free port")
    p.add_argument("--timeout", type=float, default=None, help="stop after this many seconds (default: Ctrl-C)")
    p.set_defaults(handler=cmd_registry)

    p = sub.add_parser("versions", help="print the pinned tool versions, KEY=VALUE")
    p.set_defaults(handler=cmd_versions)

    p = sub.add_parser("render", help="render a chart with values into one file per resource")
    _add_render_args(p)
    p.add_argument("--api-versions", action="append", default=[], metavar="GROUP/VERSION[/KIND]",
                   help="Capabilities.APIVersions as on your cluster (repeatable)")
    p.add_argument("-o", "--output-dir", type=Path, default=None,
                   help="write one file per resource here (a new or empty directory, or one portico wrote)")
    p.set_defaults(handler=cmd_render)

    p = sub.add_parser("validate", help="validate manifests with kubeconform (strict, offline, CRDs included)")
    p.add_argument("paths", nargs="+", type=_existing_path("path"), help="manifest files or directories")
    p.add_argument("--kube-version", action="append", type=_k8s_minor,
                   help="Kubernetes version to validate against (repeatable; default: the pinned range)")
    p.add_argument("--skip-kind", action="append", default=[], help="kind to skip (repeatable)")
    p.add_argument("--schema-location", action="append", default=[], metavar="LOCATION", type=_schema_location,
                   help="extra kubeconform schema location (an offline directory or file template; repeatable)")
    p.add_argument("--admission", action="store_true",
                   help="also send every object to a local kube-apiserver (server-side dry-run)")
    p.add_argument("--namespace", default=DEFAULT_NAMESPACE, help="namespace for objects that name none")
    p.add_argument("--pod-security", choices=["privileged", "baseline", "restricted"], default="restricted")
    p.set_defaults(handler=cmd_validate)

    p = sub.add_parser("matrix", help="render and validate every values permutation of a matrix file",
                       description="Plan the combinations of a matrix file, render each, validate every manifest "
                                   "against schemas and policy, check upgrade safety, and report.")
    p.add_argument("matrix_file", type=_existing_path("matrix file"))
    p.add_argument("-o", "--output-dir", type=Path, default=Path("out/matrix"),
                   help="manifests per combination and an index (default: out/matrix)")
    p.add_argument("--shard", type=shard, default=None, metavar="I/N", help="run only shard I of N")
    p.add_argument("--kube-version", action="append", type=_k8s_minor,
                   help="validate against this Kubernetes version (repeatable; overrides the matrix file's "
                        "validate.kubernetesVersions)")
    p.add_argument("--chart", type=_chart_ref, default=None,
                   help="chart directory, .tgz, oci://... or repo/chart (overrides the matrix file's chart)")
    _add_chart_fetch_args(p)
    _add_schema_args(p)
    p.add_argument("--baseline", type=_existing_path("baseline file"), default=None,
                   help="known findings, each with a reason: they are reported but do not fail the run")
    p.add_argument("--admission", action="store_true",
                   help="send every distinct resource to a real kube-apiserver (local, server-side dry-run)")
    p.add_argument("--pod-security", choices=["privileged", "baseline", "restricted"], default="restricted",
                   help="Pod Security level of the namespaces admission uses (default: restricted)")
    p.add_argument("--admission-kube-version", action="append", type=_k8s_minor, metavar="MINOR",
                   help="a local kube-apiserver of this Kubernetes minor (repeatable; built on first use; default "
                        "the pinned one)")
    p.add_argument("--admission-kubeconfig", type=_existing_path("kubeconfig"), default=None, metavar="KUBECONFIG",
                   help="admission by that cluster's API server instead of a local one (dry-run; nothing is created: "
                        "the namespaces must exist there)")
    p.add_argument("--write-baseline", type=Path, default=None, metavar="FILE",
                   help="write this run's findings as a baseline file (then give each a reason)")
    p.add_argument("--upgrade-from", default=None, metavar="REF",
                   help="previous chart: git:<ref>, a .tgz, a directory, oci://...@VERSION or repo/chart@VERSION "
                        "(overrides the matrix file)")
    _add_report_args(p)
    p.add_argument("--renderer", choices=["inprocess", "helm"], default="inprocess",
                   help="inprocess: portico-render (Helm's SDK); helm: one `helm template` per combination")
    p.add_argument("--no-cross-check", action="store_true",
                   help="do not render one combination per subchart setting again with `helm template` to check "
                        "the in-process renderer (docs/matrix.md)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars")
    p.set_defaults(handler=cmd_matrix)

    from portico.commands import ci, rules

    ci.add_parser(sub, _add_report_args)
    rules.add_parser(sub)

    p = sub.add_parser("smoke", help="install scenarios on a cluster and reach every exposure",
                       description="Each scenario of SMOKE_FILE in its own namespace, several at a time: helm install "
                                   "--wait, reach it through its exposure, check the answer came from the release's "
                                   "pods, helm test, uninstall, check nothing is left. Any cluster (KUBECONFIG).")
    p.add_argument("chart", type=_chart_ref, help="chart directory, .tgz, oci://... or repo/chart")
    _add_chart_fetch_args(p)
    p.add_argument("smoke_file", type=_existing_path("smoke file"))
    p.add_argument("--only", action="append", help="run only this scenario (repeatable)")
    p.add_argument("--parallel", type=int, default=3)
    p.add_argument("--http", default="http://127.0.0.1:18080", help="HTTP entrypoint of the ingress/gateway")
    p.add_argument("--https", default="https://127.0.0.1:18443", help="HTTPS entrypoint")
    p.add_argument("--client-image", default="busybox:1.37", help="image for in-cluster requests")
    p.add_argument("--client-command", default="wget -q -O - -T 5", help="its command; the URL is appended")
    _add_cluster_report_args(p)
    p.set_defaults(handler=cmd_smoke)

    p = sub.add_parser("upgrade-check", help="helm upgrade under load and count every failed request",
                       description="Install CHART at version A, load every --target, helm upgrade to B, keep the "
                                   "load through the rollout and a settle time; pass on zero failed requests and a "
                                   "completed version switch. Any chart, any cluster (KUBECONFIG).")
    p.add_argument("chart", type=_chart_ref, help="chart of version B: directory, .tgz, oci://... or repo/chart")
    _add_chart_fetch_args(p)
    p.add_argument("--release", required=True)
    p.add_argument("--namespace", required=True)
    p.add_argument("-f", "--values", type=_values_file, action="append", default=[], help="values for both sides")
    p.add_argument("--from-values", type=_values_file, action="append", default=[], help="values of version A")
    p.add_argument("--to-values", type=_values_file, action="append", default=[], help="values of version B")
    p.add_argument("--from-chart", type=_chart_ref,
                   help="chart of version A (default: CHART); a remote one as REF@VERSION")
    p.add_argument("--target", type=_target, action="append", required=True, metavar="NAME=URL[@HOST]",
                   help="where to send load (loopback or addresses of this test's own cluster); "
                        "lb://SERVICE[:PORT]/PATH: the address the release's LoadBalancer Service gets; "
                        "cluster://SERVICE[:PORT]/PATH: the Service's cluster address, from a pod in --namespace; "
                        "grpc://ADDRESS:PORT[@AUTHORITY]: gRPC health checks (grpc.health.v1) with ghz")
    p.add_argument("--load-image", help="vegeta image for cluster:// targets (default: portico.local/vegeta:"
                                        "VEGETA_VERSION, which `portico cluster up` builds and loads)")
    p.add_argument("--expect-version", help="the X-Version B answers with; the switch must complete to it")
    p.add_argument("--rate", type=_positive, default=500.0,
                   help="requests per second per target, open loop (default 500; HTTP: half kept-alive, half fresh; "
                        "gRPC: calls on four HTTP/2 connections)")
    p.add_argument("--keepalive-method", choices=["auto", "POST", "GET"], default="auto",
                   help="method of the kept-alive requests: POST (no client resends it, so a kept-alive connection "
                        "the app breaks shows), GET (what a pooling proxy or a retrying client resends), or auto "
                        "(default): GET for a target with a Host (through a proxy), else POST, or GET where the app "
                        "refuses POSTs (a static web server: 405); docs/zero-downtime.md")
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
    p.add_argument("--upgrade-timeout", type=_positive, default=300.0,
                   help="seconds helm upgrade waits for the rollout (with --rollback-on-failure: until it rolls back)")
    p.add_argument("--scenario", default="upgrade")
    p.add_argument("--from-label", default="A")
    p.add_argument("--to-label", default="B")
    _add_cluster_report_args(p)
    p.add_argument("--plot", type=Path, help="PNG: requests per second, failures and ready pods over time")
    p.set_defaults(handler=cmd_upgrade_check)

    p = sub.add_parser("cluster", help="manage the local kind cluster (up, down, status, load-image, build)",
                       description="A one-node kind cluster on 127.0.0.1 with Traefik (Ingress + Gateway API) and "
                                   "MetalLB. Offline, `build` (and `up`) assemble the node image from Go modules and "
                                   "Debian packages; docs/offline-cluster.md.")
    p.add_argument("action", choices=["up", "down", "status", "load-image", "build"])
    p.add_argument("images", nargs="*", help="image tags, for load-image")
    p.add_argument("--image", default=None, help="node image to use instead of the offline build (e.g. kindest/node)")
    p.add_argument("--addons", action="store_true",
                   help="build: the add-ons' images too (Traefik, MetalLB, vegeta), so `up` builds nothing")
    p.set_defaults(handler=cmd_cluster)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.verbose:
        from portico import process

        process.set_verbose(True)
    try:
        return args.handler(args)
    except InputError as exc:
        print(f"portico: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except PorticoError as exc:
        print(f"portico: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("portico: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`portico versions | head`): not an error of ours.
        sys.stderr.close()
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - a bug of portico's: one line, the traceback on request
        if args.verbose:
            raise
        print(f"portico: internal error: {type(exc).__name__}: {exc} (a bug in portico: rerun with --verbose for "
              f"the traceback and report it)", file=sys.stderr)
        return EXIT_FINDINGS


if __name__ == "__main__":
    sys.exit(main())
