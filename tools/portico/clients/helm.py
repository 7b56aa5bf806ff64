"""helm (4, the default, and 3): template, install/upgrade, test, uninstall."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence


from portico import values as values_mod
from portico.errors import EXIT_FINDINGS, ToolError
from portico.process import CommandError, Runner, default_runner
from portico.toolchain.locate import tool_path, tools_path_prefix

DEFAULT_RELEASE = "release"
DEFAULT_NAMESPACE = "default"
HELM_BINARIES = {"helm4": "helm", "helm": "helm", "helm3": "helm3"}


class RenderError(CommandError):
    """helm refused to render: a schema rejection, a `fail`, a template error. A finding, in helm's words."""

    exit_code = EXIT_FINDINGS

    def describe(self, stderr: str, stdout: str, log: Path | None) -> str:
        return clean_error(stderr) or f"helm template exited {self.returncode}"


class HelmError(CommandError):
    """helm refused a pull, push, package or verify; the message is helm's reason."""

    exit_code = EXIT_FINDINGS

    def describe(self, stderr: str, stdout: str, log: Path | None) -> str:
        return clean_error(stderr.strip() or stdout) or f"{self.summary} exited {self.returncode}"


@dataclass(frozen=True)
class RenderRequest:
    chart: Path
    values_files: Sequence[Path] = ()
    set_values: Sequence[str] = ()  # --set key=value, applied last
    release: str = DEFAULT_RELEASE
    namespace: str = DEFAULT_NAMESPACE
    kube_version: str | None = None  # e.g. "1.34"; Capabilities.KubeVersion
    api_versions: Sequence[str] = ()  # extra Capabilities.APIVersions
    layers: Sequence[dict[str, Any]] = ()  # values mappings, applied after values_files, before set_values
    extra_args: Sequence[str] = field(default_factory=tuple)


_HELM_ERROR = re.compile(r"^Error: ", re.MULTILINE)
_DEBUG_HINT = "Use --debug flag to render out invalid YAML"


def clean_error(stderr: str) -> str:
    """helm's reason without its 'Error: ' prefix, WARNING lines and the --debug hint portico has no use for."""
    lines = [ln for ln in str(stderr).strip().splitlines() if not ln.startswith("WARNING:")]
    return _HELM_ERROR.sub("", "\n".join(lines)).replace(_DEBUG_HINT, "").strip()


@dataclass
class Helm:
    """One helm binary against one kubeconfig (None: $KUBECONFIG)."""

    binary: str
    kubeconfig: Path | None = None
    runner: Runner = field(default_factory=default_runner)

    @classmethod
    def pinned(cls, name: str = "helm", kubeconfig: Path | None = None) -> "Helm":
        """`helm` (4) or `helm3`, the pinned binaries; the runner puts the tools dir on PATH (ct, plugins)."""
        binary = tool_path(HELM_BINARIES.get(name, name))
        return cls(binary, kubeconfig, Runner(path_prefix=tools_path_prefix()))

    def _cfg(self) -> list[str]:
        return ["--kubeconfig", str(self.kubeconfig)] if self.kubeconfig else []

    def run(self, *args: str | Path, timeout: float = 600, check: bool = True):
        return self.runner.run([self.binary, *self._cfg(), *args], timeout=timeout, check=check,
                               summary=f"helm {args[0]}" if args else None)

    # --- rendering -------------------------------------------------------------------------------

    def template_args(self, req: RenderRequest, layer_files: Sequence[Path] = ()) -> list[str]:
        args = ["template", req.release, str(req.chart), "--namespace", req.namespace]
        for path in [*req.values_files, *layer_files]:
            args += ["--values", str(path)]
        for assignment in req.set_values:
            args += ["--set", assignment]
        if req.kube_version:
            args += ["--kube-version", req.kube_version]
        for api in req.api_versions:
            args += ["--api-versions", api]
        return args + list(req.extra_args)

    def template(self, req: RenderRequest, timeout: float = 300) -> str:
        """The rendered manifest; RenderError with helm's reason when it refuses."""
        with values_mod.as_files(req.layers) as files:
            done = self.runner.run([self.binary, *self.template_args(req, files)], timeout=timeout,
                                   failure=RenderError)
        return str(done.stdout)

    # --- releases --------------------------------------------------------------------------------

    def install_or_upgrade(self, release: str, chart: Path | str, namespace: str, layers: Sequence[dict] = (), *,
                           install: bool = True, wait: bool = True, timeout: str = "300s",
                           extra: Sequence[str] = ()) -> str:
        args = ["upgrade", *(["--install", "--create-namespace"] if install else []), release, str(chart),
                "--namespace", namespace]
        if wait:
            args += ["--wait", "--timeout", timeout]
        with values_mod.as_files(layers) as files:
            for path in files:
                args += ["-f", str(path)]
            return str(self.run(*args, *extra, timeout=_seconds(effective_timeout(timeout, extra)) + 60).stdout)

    def manifest(self, release: str, namespace: str) -> list[dict]:
        """The objects the release made (`helm get manifest`): any chart, whatever labels it uses."""
        out = str(self.run("get", "manifest", release, "--namespace", namespace).stdout)
        return [d for d in values_mod.loads_all(out, source=f"helm get manifest {release}") if d.get("kind")]

    def test(self, release: str, namespace: str, timeout: str = "120s") -> str:
        return str(self.run("test", release, "--namespace", namespace, "--timeout", timeout,
                            timeout=_seconds(timeout) + 60).stdout)

    # --- packages and registries ---------------------------------------------------------------

    def _checked(self, *args: str | Path, timeout: float = 300) -> str:
        done = self.runner.run([self.binary, *args], timeout=timeout, summary=f"helm {args[0]}", failure=HelmError)
        return f"{done.stdout}{done.stderr}"

    def lint(self, chart: Path, *, strict: bool = True) -> str:
        return self._checked("lint", chart, *(["--strict"] if strict else []))

    def package(self, chart: Path, dest: Path, *, sign_key: str | None = None, keyring: Path | None = None,
                passphrase_file: Path | None = None) -> Path:
        """`helm package` (with `--sign`: a .prov beside the .tgz); the package's path."""
        args: list[str | Path] = ["package", chart, "--destination", dest]
        if sign_key:
            args += ["--sign", "--key", sign_key]
            args += ["--keyring", keyring] if keyring else []
            args += ["--passphrase-file", passphrase_file] if passphrase_file else []
        out = self._checked(*args)
        match = re.search(r"saved it to: (\S+\.tgz)", out)
        if not match:
            raise ToolError(f"helm package did not say where it saved the chart: {out.strip()}")
        return Path(match.group(1))

    def verify(self, package: Path, keyring: Path) -> str:
        """`helm verify`: the package matches its .prov, signed by a key in the keyring."""
        return self._checked("verify", package, "--keyring", keyring)

    def push(self, package: Path, remote: str, *, plain_http: bool = False) -> str:
        """`helm push PACKAGE oci://...`; the digest helm reports (the .prov beside it is pushed too)."""
        out = self._checked("push", package, remote, *(["--plain-http"] if plain_http else []))
        match = re.search(r"Digest: (sha256:[0-9a-f]{64})", out)
        return match.group(1) if match else ""

    def pull(self, ref: str, dest: Path, *, version: str | None = None, plain_http: bool = False,
             verify: bool = False, keyring: Path | None = None) -> str:
        args: list[str | Path] = ["pull", ref, "--destination", dest]
        args += ["--version", version] if version else []
        args += ["--plain-http"] if plain_http else []
        if verify:
            args += ["--verify", *(["--keyring", keyring] if keyring else [])]
        return self._checked(*args)

    def uninstall(self, release: str, namespace: str, wait: bool = True, missing_ok: bool = False) -> None:
        self.run("uninstall", release, "--namespace", namespace, *(["--wait"] if wait else []),
                 *(["--ignore-not-found"] if missing_ok else []))


GO_DURATION = re.compile(r"(?:\d+(?:\.\d+)?(?:h|ms|m|s))+")


def _seconds(duration: str) -> float:
    """A Go duration as helm takes it (`300s`, `5m30s`, `1h`); a bare number of seconds too."""
    if re.fullmatch(r"\d+", duration):
        return float(duration)
    if not GO_DURATION.fullmatch(duration):
        return 600
    units = {"h": 3600, "m": 60, "s": 1, "ms": 0.001}
    return sum(float(n) * units[u] for n, u in re.findall(r"(\d+(?:\.\d+)?)(h|ms|m|s)", duration))


def effective_timeout(default: str, extra: Sequence[str]) -> str:
    """The --timeout helm will use: the last one given wins, so a user's (ct's helm-extra-args) beats ours."""
    found = default
    for i, arg in enumerate(extra):
        if arg == "--timeout" and i + 1 < len(extra):
            found = extra[i + 1]
        elif arg.startswith("--timeout="):
            found = arg.split("=", 1)[1]
    return found
