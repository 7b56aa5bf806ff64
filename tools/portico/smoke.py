"""`portico smoke`: install each scenario of a smoke file, reach it, `helm test` it, remove it.

A smoke file lists scenarios, each with values (files and inline layers) and
how to reach the release: from a pod in the cluster (clusterip, headless), a
NodePort, an Ingress or HTTPRoute on the mapped ports, a LoadBalancer's
address, or (job) by its Jobs and CronJobs running to completion. Every scenario
runs in a namespace of its own, several at a time, and passes when: helm install
--wait succeeds, the answer comes from one of the release's own pods, helm test
passes, and uninstall leaves nothing behind.
"""

from __future__ import annotations

import json
import ssl
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from portico import values as values_mod
from portico import wait
from portico.errors import InputError, ToolError
from portico.kube import Cluster
from portico.results import FAILED, PASSED, Case, Report

INSTANCE = "app.kubernetes.io/instance"
REACH = ("clusterip", "headless", "nodeport", "ingress", "httproute", "loadbalancer", "job", "none")
SERVED = ("clusterip", "headless", "nodeport", "ingress", "httproute", "loadbalancer")


@dataclass(frozen=True)
class Scenario:
    name: str
    values: tuple[dict, ...]
    reach: str
    port: int | None = None  # nodeport / service port
    host: str | None = None  # ingress / httproute Host
    scheme: str = "http"
    path: str = "/"
    companion: tuple[dict, ...] = ()  # a release installed first in the same namespace (service-only mode)


@dataclass
class Result:
    scenario: str
    namespace: str
    passed: bool = False
    steps: dict[str, float] = field(default_factory=dict)
    answered_by: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class Settings:
    chart: Path
    http: str  # base URL of the HTTP entrypoint on 127.0.0.1
    https: str
    client_image: str  # image with a client, for in-cluster requests
    client_command: tuple[str, ...]  # command; the URL is appended
    common: tuple[dict, ...] = ()  # values every scenario gets first


def load(path: Path) -> tuple[list[Scenario], dict]:
    source = str(path)
    raw = values_mod.read_yaml(path, "a smoke file")
    if not isinstance(raw, dict) or not isinstance(raw.get("scenarios"), dict) or not raw["scenarios"]:
        raise InputError("expected a mapping with a non-empty `scenarios` mapping", source=source)
    base = path.resolve().parent
    scenarios = []
    for name, spec in raw["scenarios"].items():
        where = f"scenarios.{name}"
        if not isinstance(spec, dict):
            raise InputError("expected a mapping", source=source, key_path=where)
        unknown = set(spec) - {"values", "files", "reach", "port", "host", "scheme", "path", "companion"}
        if unknown:
            raise InputError(f"unknown keys {sorted(unknown)}", source=source, key_path=where)
        if spec.get("reach") not in REACH:
            raise InputError(f"reach must be one of {', '.join(REACH)}, got {spec.get('reach')!r}",
                             source=source, key_path=f"{where}.reach")
        layers = []
        for i, rel in enumerate(spec.get("files", [])):
            file = (base / rel).resolve()
            if not file.exists():
                raise InputError(f"{rel!r} does not exist", source=source, key_path=f"{where}.files[{i}]")
            layers.append(values_mod.load_file(file))
        layers.append(spec.get("values") or {})
        scenarios.append(Scenario(name=name, values=tuple(layers), reach=spec["reach"], port=spec.get("port"),
                                  host=spec.get("host"), scheme=spec.get("scheme", "http"),
                                  path=spec.get("path", "/"),
                                  companion=(spec["companion"],) if spec.get("companion") else ()))
    return scenarios, raw.get("common") or {}


def _fetch(url: str, host: str | None) -> dict:
    context = ssl.create_default_context()
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE  # the cluster's own self-signed certs
    req = urllib.request.Request(url, headers={"Host": host} if host else {})
    with urllib.request.urlopen(req, timeout=3, context=context) as resp:
        body = resp.read()
        return {"status": resp.status, "pod": resp.headers.get("X-Pod"), "body": body[:200].decode()}


def _get(url: str, host: str | None, timeout: float = 40) -> dict:
    """Until it answers (routes take a moment to program), bounded."""
    return wait.until(lambda: _fetch(url, host), timeout=timeout, interval=1,
                      what=f"{url} (Host: {host}) never answered")


class Runner:
    def __init__(self, cluster: Cluster, settings: Settings):
        self.cluster, self.settings = cluster, settings

    def _manifest(self, namespace: str, release: str) -> list[dict]:
        return self.cluster.helm.manifest(release, namespace)

    def _service(self, namespace: str, release: str) -> dict:
        """The release's first Service, found in its manifest."""
        names = [d["metadata"]["name"] for d in self._manifest(namespace, release) if d["kind"] == "Service"]
        if not names:
            raise ToolError("the release has no Service")
        return self.cluster.kubectl.get("service", names[0], namespace=namespace)

    def _selected_pods(self, namespace: str, svc: dict) -> set[str]:
        """The pods the Service selects: the release's own, or in service-only mode the ones it exposes."""
        selector = ",".join(f"{k}={v}" for k, v in sorted((svc["spec"].get("selector") or {}).items()))
        if not selector:
            return set()
        return {p["metadata"]["name"] for p in self.cluster.kubectl.get("pods", "-l", selector,
                                                                         namespace=namespace)["items"]}

    def _ready_endpoints(self, namespace: str, svc: dict) -> set[str]:
        slices = self.cluster.kubectl.get("endpointslices", "-l", f"kubernetes.io/service-name={svc['metadata']['name']}",
                                          namespace=namespace)["items"]
        return {ep["targetRef"]["name"] for piece in slices for ep in piece.get("endpoints") or []
                if (ep.get("conditions") or {}).get("ready") and (ep.get("targetRef") or {}).get("kind") == "Pod"}

    def answered_by(self, namespace: str, release: str, answer: dict) -> str:
        """Which of the release's pods answered: the app's word (X-Pod) when it gives one, else the cluster's (the
        Service's ready endpoints are all pods it selects), so any app passes, not only Portico's test app."""
        svc = self._service(namespace, release)
        pods = self._selected_pods(namespace, svc)
        if answer.get("pod"):
            if answer["pod"] not in pods:
                raise ToolError(f"answered by {answer['pod']!r}, not one of the release's pods {sorted(pods)}")
            return answer["pod"]
        endpoints = self._ready_endpoints(namespace, svc)
        if not endpoints or not endpoints <= pods:
            raise ToolError(f"the app names no pod (no X-Pod header) and the Service's ready endpoints "
                            f"{sorted(endpoints)} are not all the release's pods {sorted(pods)}")
        return f"one of {', '.join(sorted(endpoints))} (the Service's endpoints; the app names no pod)"

    def _client_pod(self, namespace: str, url: str) -> str:
        name = f"smoke-client-{int(time.time() * 1000) % 100000}"
        return str(self.cluster.kubectl.run(
            "-n", namespace, "run", name, "--image", self.settings.client_image, "--restart=Never", "--rm",
            "-i", "--quiet", "--image-pull-policy=IfNotPresent", "--command", "--",
            *self.settings.client_command, url).stdout)

    def _in_cluster(self, namespace: str, url: str) -> dict:
        # kube-proxy may program a new Service a moment after helm --wait returns: retry, bounded.
        out = wait.retry(lambda: self._client_pod(namespace, url), attempts=5, delay=2, on=(ToolError,),
                         what=f"in-cluster request to {url}")
        for line in out.splitlines():  # kubectl may add its own lines around the body
            try:
                return {"status": 200, "pod": json.loads(line).get("pod"), "body": line[:200]}
            except (ValueError, AttributeError):
                continue
        return {"status": 200, "pod": None, "body": out[:200]}

    def reach(self, scenario: Scenario, namespace: str, release: str) -> dict:
        if scenario.reach in ("job", "none"):
            if scenario.reach == "job":
                self._run_to_completion(namespace, release)
            return {"status": None, "pod": None, "body": ""}
        svc = self._service(namespace, release)
        if scenario.reach in ("clusterip", "headless"):
            port = scenario.port or svc["spec"]["ports"][0]["port"]
            return self._in_cluster(namespace, f"http://{svc['metadata']['name']}.{namespace}.svc:{port}{scenario.path}")
        if scenario.reach == "nodeport":
            port = scenario.port or svc["spec"]["ports"][0]["nodePort"]
            return _get(f"http://127.0.0.1:{port}{scenario.path}", None)
        if scenario.reach in ("ingress", "httproute"):
            base = self.settings.https if scenario.scheme == "https" else self.settings.http
            return _get(f"{base}{scenario.path}", scenario.host)
        if scenario.reach == "loadbalancer":
            def address() -> str | None:
                ingress = (self._service(namespace, release).get("status", {}).get("loadBalancer", {})
                           .get("ingress") or [])
                return ingress[0].get("ip") if ingress else None

            ip = wait.until(address, timeout=60, interval=1, what="the LoadBalancer Service got no address")
            return _get(f"http://{ip}:{svc['spec']['ports'][0]['port']}{scenario.path}", None)
        raise AssertionError(f"unhandled reach {scenario.reach!r}")

    def _run_to_completion(self, namespace: str, release: str, timeout: int = 120) -> None:
        """Every Job of the release completes, and a Job started from each of its CronJobs (as `kubectl create
        job --from` does: the schedule may be far off)."""
        kubectl = self.cluster.kubectl
        selector = f"{INSTANCE}={release}"
        jobs = [f"job/{name.rpartition('/')[2]}" for name in kubectl.names("jobs", "-l", selector, namespace=namespace)]
        for cron in kubectl.names("cronjobs", "-l", selector, namespace=namespace):
            cron = cron.rpartition("/")[2]
            name = f"{cron[:50]}-smoke"
            kubectl.run("create", "job", name, f"--from=cronjob/{cron}", "-n", namespace)
            jobs.append(f"job/{name}")
        if not jobs:
            raise ToolError(f"reach: job, but the release has no Job or CronJob (label {selector})")
        for job in jobs:
            def finished(job: str = job) -> str | None:
                conditions = kubectl.get("job", job.partition("/")[2], namespace=namespace)["status"].get("conditions")
                return next((c["type"] for c in conditions or () if c["type"] in ("Complete", "Failed")
                             and c["status"] == "True"), None)

            state = wait.until(finished, timeout=timeout, interval=1, what=f"{job} did not complete")
            if state != "Complete":
                logs = kubectl.run("logs", job, "-n", namespace, "--tail=20", check=False)
                raise ToolError(f"{job} did not complete: it failed; its logs: {str(logs.stdout).strip()[-800:]}")

    def _owned(self, namespace: str, release: str) -> list[str]:
        """kind/name of what the release made: its manifest's objects in this namespace, and its pods (found by
        its label or its Services' selectors, which need no label convention)."""
        objects = self._manifest(namespace, release)
        owned = [f"{d['kind'].lower()}/{d['metadata']['name']}" for d in objects
                 if d["metadata"].get("namespace", namespace) == namespace]
        pods = {p.rpartition("/")[2] for p in self.cluster.kubectl.names("pods", "-l", f"{INSTANCE}={release}",
                                                                          namespace=namespace)}
        for d in objects:
            if d["kind"] == "Service":
                pods |= self._selected_pods(namespace, d)
        return owned + [f"pod/{name}" for name in sorted(pods)]

    def _leftovers(self, namespace: str, owned: list[str], timeout: float = 90) -> list[str]:
        """What is still there once terminating pods had time to finish their preStop and grace period."""
        def left() -> list[str]:
            if not owned:
                return []
            return self.cluster.kubectl.names(*owned, "--ignore-not-found", namespace=namespace)

        try:
            wait.until(lambda: not left(), timeout=timeout, interval=2, what="uninstall left objects")
            return []
        except ToolError:
            return left()

    def run(self, scenario: Scenario) -> Result:
        namespace = f"smoke-{scenario.name}"[:63]
        release = scenario.name[:40]
        result = Result(scenario.name, namespace)
        started = time.monotonic()

        def mark(step: str) -> None:
            result.steps[step] = round(time.monotonic() - started, 1)

        try:
            if scenario.companion:
                self.cluster.install(f"{release}-pods", self.settings.chart, namespace,
                                     (*self.settings.common, *scenario.companion))
            self.cluster.install(release, self.settings.chart, namespace, (*self.settings.common, *scenario.values))
            mark("installed")
            answer = self.reach(scenario, namespace, release)
            mark("reached")
            if scenario.reach in SERVED:
                if answer.get("status") is not None and not 200 <= answer["status"] < 400:
                    raise ToolError(f"answered {answer['status']}")
                result.answered_by = self.answered_by(namespace, release, answer)
            if values_mod.merge(list(scenario.values)).get("tests", {}).get("enabled", True) is not False:
                # Right after install kube-proxy may not have programmed the ClusterIP the test pod calls
                # (an Ingress reaches pods directly, so `reach` passing proves nothing about it): bounded retries.
                wait.retry(lambda: self.cluster.helm.test(release, namespace), attempts=3, delay=3,
                           on=(ToolError,), what="helm test")
                mark("helm test")
            releases = [release] + ([f"{release}-pods"] if scenario.companion else [])
            owned = [o for name in releases for o in self._owned(namespace, name)]
            for name in releases:
                self.cluster.helm.uninstall(name, namespace)
            left = self._leftovers(namespace, owned)
            if left:
                raise ToolError(f"uninstall left {left}")
            mark("uninstalled")
            result.passed = True
        except Exception as exc:  # noqa: BLE001 - any failure fails this scenario only
            result.error = str(exc)[-1500:]
        finally:
            self.cluster.kubectl.delete_namespace(namespace)
        return result


def run_all(runner: Runner, scenarios: list[Scenario], parallel: int = 3) -> list[Result]:
    with ThreadPoolExecutor(parallel) as pool:
        return list(pool.map(runner.run, scenarios))


def render_table(results: list[Result]) -> str:
    lines = [f"{'scenario':<22} {'result':<6} {'answered by':<40} steps"]
    for r in results:
        steps = ", ".join(f"{k} {v}s" for k, v in r.steps.items())
        lines.append(f"{r.scenario:<22} {'PASS' if r.passed else 'FAIL':<6} {r.answered_by or '-':<40} {steps}")
        if r.error:
            lines.append(f"    {r.error.splitlines()[-1][:300]}")
    passed = sum(r.passed for r in results)
    lines.append(f"{passed} passed, {len(results) - passed} failed")
    return "\n".join(lines)


def to_report(results: list[Result], smoke_file: Path, seconds: float) -> Report:
    cases = [Case(r.scenario, PASSED if r.passed else FAILED, seconds=max(r.steps.values(), default=0.0),
                  properties={"namespace": r.namespace, "answered_by": r.answered_by, "steps": r.steps},
                  detail=r.error or "") for r in results]
    passed = sum(r.passed for r in results)
    return Report("smoke", smoke_file.name, cases, seconds=seconds,
                  summary={"passed": passed, "failed": len(results) - passed},
                  table=[("scenarios", f"{passed} passed, {len(results) - passed} failed")])
