"""`portico ci --install`: chart-testing's `ct install --upgrade` for one chart of the repository.

Each case (each `ci/*-values.yaml`, else the chart's defaults) goes into a namespace of its own: the chart as it
was at the base commit is installed first when it existed there, then upgraded to the working tree's chart with
the same values, then `helm test`, then the release and its namespace are removed whatever happened. Every case
is one step of the chart's report, so a failed install names its values file and helm's reason.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from portico import chartref
from portico.errors import PorticoError
from portico.kube import Cluster
from portico.repo.discover import read_chart
from portico.results import FAILED, PASSED, Finding

if TYPE_CHECKING:
    from portico.repo.deps import Resolver
    from portico.repo.pipeline import ChartRun

DEFAULT_TIMEOUT = "300s"


@dataclass(frozen=True)
class InstallOptions:
    kubeconfig: Path | None = None  # None: $KUBECONFIG
    helm_args: tuple[str, ...] = ()  # the ct config's helm-extra-args and helm-extra-set-args, after Portico's
    timeout: str = DEFAULT_TIMEOUT
    upgrade: bool = True  # install the base's chart first, as `ct install --upgrade`


def cases(chart: Path) -> list[tuple[str, Path | None]]:
    """ct's convention: each ci/*-values.yaml is an install; a chart without them installs its defaults."""
    from portico.init import ct_cases

    return list(ct_cases(chart).items()) or [("defaults", None)]


def _slug(name: str, limit: int) -> str:
    kept = "".join(c if c.isalnum() else "-" for c in name.lower()).strip("-")
    return kept[:limit].rstrip("-") or "chart"


def previous_chart(run: "ChartRun", base: str | None, resolver: "Resolver", work: Path) -> tuple[Path | None, str]:
    """The chart at the base commit, its dependencies filled like the working tree's; (None, why) when there is
    nothing to upgrade from."""
    from portico.clients.git import Git

    if base is None:
        return None, "no base commit: installed, not upgraded"
    chart = run.chart
    if Git().show(chart.path, base, "Chart.yaml") is None:
        return None, f"new since {base[:12]}: installed, not upgraded"
    old = chartref.at_git_ref(chart.path, base, source=f"{chart.rel} at {base[:12]}")
    resolution = resolver.resolve(read_chart(old, old.parent), work / "previous")
    if not resolution.ok:
        return None, f"its dependencies at {base[:12]} are not found offline: installed, not upgraded"
    return resolution.path, f"upgraded from {chart.name} at {base[:12]}"


def install_cases(run: "ChartRun", chart_dir: Path, previous: Path | None, how: str,
                  options: InstallOptions) -> None:
    for name, values in cases(run.chart.path):
        _install_case(run, name, values, chart_dir, previous, how, options)


def _install_case(run: "ChartRun", name: str, values: Path | None, chart_dir: Path, previous: Path | None,
                  how: str, options: InstallOptions) -> None:
    started = time.monotonic()
    cluster = Cluster(options.kubeconfig)
    release = _slug(run.chart.name, 40)
    namespace = f"portico-ci-{_slug(run.chart.name, 30)}-{secrets.token_hex(3)}"
    args = (*(["--values", str(values)] if values else []), *options.helm_args)
    where = f"{run.chart.rel}/ci/{values.name}" if values else f"{run.chart.rel}/values.yaml"
    done: list[str] = []
    try:
        if previous is not None:  # None with --no-upgrade, or when there is nothing to upgrade from
            cluster.helm.install_or_upgrade(release, previous, namespace, timeout=options.timeout, extra=args)
            done.append("installed the base's chart")
        cluster.helm.install_or_upgrade(release, chart_dir, namespace, timeout=options.timeout, extra=args)
        done.append("upgraded" if done else "installed")
        cluster.helm.test(release, namespace, timeout=options.timeout)
        done.append("helm test passed")
        run.add("install", PASSED, started, f"{name}: {', '.join(done)} ({how})", label=f"install {name}")
    except PorticoError as exc:
        step = "the base's chart" if not done and previous is not None else "the chart"
        why = f"{name}: {', '.join(done) + ', then ' if done else ''}failed with {step}: {exc}"
        run.add("install", FAILED, started, why, [
            Finding("install", "install-failed", why, file=where,
                    hint="run the same helm install/upgrade/test by hand in a scratch namespace: helm's reason "
                         "is above (pods not ready in time: see their events)")], label=f"install {name}")
    finally:
        _clean_up(cluster, release, namespace)


def _clean_up(cluster: Cluster, release: str, namespace: str) -> None:
    """Best effort, like ct: a failed uninstall must not hide the install's own verdict."""
    for remove in (lambda: cluster.helm.uninstall(release, namespace, wait=False, missing_ok=True),
                   lambda: cluster.kubectl.delete_namespace(namespace, wait=False)):
        try:
            remove()
        except PorticoError:
            pass  # each on its own: a failed uninstall still deletes the namespace
