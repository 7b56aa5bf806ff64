"""Flag types and argument groups more than one command takes, and the chart a command is given (resolved
once, here: a directory, a .tgz or a remote reference pulled by `chartref`)."""

from __future__ import annotations

import argparse
import math
from pathlib import Path
from typing import Callable

from portico.clients.helm import DEFAULT_NAMESPACE, DEFAULT_RELEASE
from portico.errors import InputError


def existing_path(kind: str) -> Callable[[str], Path]:
    def parse(raw: str) -> Path:
        path = Path(raw)
        if not path.exists():
            raise argparse.ArgumentTypeError(f"{kind} {raw!r} does not exist")
        return path

    return parse


def chart_ref(raw: str) -> str:
    """A chart directory or .tgz that exists, or a remote reference (oci://..., repo/chart) pulled later."""
    from portico import chartref

    if chartref.kind_of(chartref.split_version(raw)[0]) == "missing":
        raise argparse.ArgumentTypeError(f"chart {raw!r} does not exist: expected a chart directory, a packaged "
                                         f".tgz, oci://REGISTRY/PATH/CHART or REPO/CHART")
    return raw


def add_chart_fetch_args(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("chart references (oci://..., repo/chart)")
    g.add_argument("--chart-version", default=None, metavar="VERSION", help="version of a remote chart to pull")
    g.add_argument("--plain-http", action="store_true", help="pull from an OCI registry over plain HTTP")
    g.add_argument("--verify", action="store_true", help="verify the pulled chart's provenance (.prov)")
    g.add_argument("--keyring", type=existing_path("keyring"), default=None,
                   help="public keyring for --verify (default: helm's)")


def fetch(args: argparse.Namespace):
    from portico.chartref import Fetch

    return Fetch(version=args.chart_version, plain_http=args.plain_http, verify=args.verify, keyring=args.keyring)


def chart(args: argparse.Namespace, ref: str, source: str = "chart") -> Path:
    from portico import chartref

    return chartref.resolve(ref, fetch(args), source=source)


def k8s_minor(raw: str) -> str:
    parts = raw.lstrip("v").split(".")
    if len(parts) < 2 or not all(p.isdigit() for p in parts[:2]):
        raise argparse.ArgumentTypeError(f"expected a Kubernetes version like 1.34, got {raw!r}")
    return f"{parts[0]}.{parts[1]}"


def add_schema_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--api-versions", action="append", default=[], metavar="GROUP/VERSION[/KIND]",
                   help="Capabilities.APIVersions as on your cluster, e.g. gateway.networking.k8s.io/v1 (repeatable)")
    p.add_argument("--schema-location", action="append", default=[], metavar="LOCATION", type=schema_location,
                   help="extra kubeconform schema location, in its syntax (an offline directory or a file "
                        "template with {{.ResourceKind}}...; repeatable)")


def add_render_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("chart", type=chart_ref, help="chart directory, .tgz, oci://... or repo/chart")
    add_chart_fetch_args(p)
    p.add_argument("-f", "--values", action="append", type=existing_path("values file"), default=[],
                   help="values file, applied in order (repeatable)")
    p.add_argument("--set", action="append", default=[], dest="set_values", metavar="KEY=VALUE",
                   help="helm --set, applied last (repeatable)")
    p.add_argument("--release", default=DEFAULT_RELEASE, help=f"release name (default: {DEFAULT_RELEASE})")
    p.add_argument("--namespace", default=DEFAULT_NAMESPACE)
    p.add_argument("--kube-version", type=k8s_minor, default=None,
                   help="Capabilities.KubeVersion, e.g. 1.34")


def positive(raw: str) -> float:
    try:
        value = float(raw)
    except ValueError:
        value = 0.0
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected a finite number above 0, got {raw!r}")
    return value


def report_path(raw: str) -> Path:
    """A report file to write: refused before any work when it cannot be one."""
    path = Path(raw)
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{raw!r} is a directory; give a file path, e.g. {Path(raw) / 'report'}")
    parent = next((p for p in path.absolute().parents if p.exists()), None)
    if parent is not None and not parent.is_dir():
        raise argparse.ArgumentTypeError(f"{raw!r}: {parent} is a file, so no directory can be made there")
    return path


def schema_location(raw: str) -> str:
    """kubeconform's syntax: a URL or a file template as they are; a plain local path must exist."""
    if raw == "default" or "://" in raw or "{{" in raw or Path(raw).exists():
        return raw
    raise argparse.ArgumentTypeError(f"{raw!r} does not exist (a directory of schemas, a file template with "
                                     f"{{{{.ResourceKind}}}}, a URL, or 'default')")


def values_file(raw: str) -> dict:
    from portico import values

    try:
        return values.load_file(existing_path("values file")(raw))
    except InputError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def report_paths(args: argparse.Namespace) -> dict[str, Path | None]:
    return {fmt: getattr(args, fmt, None) for fmt in ("junit", "json", "markdown", "sarif")}


def add_report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--junit", type=report_path, help="write a JUnit XML report")
    p.add_argument("--json", type=report_path, help="write a JSON report")
    p.add_argument("--markdown", type=report_path,
                   help="write a Markdown summary (also appended to $GITHUB_STEP_SUMMARY)")
    p.add_argument("--sarif", type=report_path, help="write SARIF 2.1.0 for GitHub code scanning")


def add_cluster_report_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--kubeconfig", type=Path, default=None, help="default: $KUBECONFIG")
    p.add_argument("--helm", choices=["helm", "helm3"], default="helm", help="helm 4 (default) or helm 3")
    add_report_args(p)


def local_chart_dir(raw: Path) -> Path:
    from portico import chartref

    if not raw.exists():
        raise InputError("does not exist: expected a chart directory", source=str(raw))
    if not raw.is_dir():
        raise InputError("is not a chart directory (this command reads the chart's files in git)", source=str(raw))
    return chartref.require_chart_dir(raw, source=str(raw))


def shard(raw: str) -> tuple[int, int]:
    try:
        index, count = (int(x) for x in raw.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected I/N like 2/4, got {raw!r}") from None
    if not 1 <= index <= count:
        raise argparse.ArgumentTypeError(f"{raw!r}: need 1 <= I <= N")
    return index, count
