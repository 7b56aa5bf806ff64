"""Build Go binaries from pinned modules, cached by what went into them.

Each component is a module at a pinned version and the packages to build,
through a wrapper module (so replace directives and nested modules work), with
the flags its upstream release build uses. Outputs land in
`$PORTICO_CACHE/offline/<component>-<version>-<recipe>/` and are reused while
the recipe is unchanged.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from portico import locks
from portico.errors import ToolError
from portico.paths import cache_dir, log_file
from portico.toolchain import gomod


@dataclass(frozen=True)
class Component:
    name: str
    module: str
    version_key: str
    packages: dict[str, str]  # output binary name -> package path
    cgo: bool = False
    tags: tuple[str, ...] = ()
    ldflags: Callable[[str], str] = lambda v: "-s -w"
    # Nested modules that are never published: module path -> {file name: content}.
    stubs: dict[str, dict[str, str]] = field(default_factory=dict)
    # Published modules built with files of theirs replaced: module path -> {path in the module: content}. The
    # module (this component's, or a dependency at the version this component's go.mod requires) is copied out
    # of the module cache, patched and replaced. What a local cluster never runs is left out this way (Traefik's
    # ACME DNS providers, CoreDNS's cloud plugins): their SDKs were most of those components' compile time.
    patches: dict[str, dict[str, str]] = field(default_factory=dict)

    def recipe(self, version: str) -> str:
        parts = [self.module, version, self.packages, self.cgo, self.tags, self.ldflags(version), self.stubs]
        if self.patches:  # only then: the recipes of the components without patches stay what they were
            parts.append(self.patches)
        text = json.dumps(parts, sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:10]


def offline_dir() -> Path:
    return cache_dir() / "offline"


def log_path(name: str) -> Path:
    return log_file(f"build-{name}")


def output_dir(component: Component, version: str) -> Path:
    return offline_dir() / f"{component.name}-{version}-{component.recipe(version)}"


def build(component: Component, versions: dict[str, str], log: Callable[[str], None] = print) -> Path:
    """The directory holding the component's binaries, building them if needed."""
    version = versions[component.version_key]
    out = output_dir(component, version)
    if (out / ".complete").exists():
        return out
    with locks.building(out):
        if (out / ".complete").exists():  # another process built it while this one waited
            return out
        return _build(component, version, out, log)


def _build(component: Component, version: str, out: Path, log: Callable[[str], None]) -> Path:
    go = gomod.go()
    if component.cgo and "seccomp" in component.tags and not Path("/usr/include/seccomp.h").exists():
        raise ToolError(f"{component.name} links libseccomp: install its headers (apt-get install libseccomp-dev)")
    logfile = log_path(component.name)
    env = gomod.build_env(cgo=component.cgo)
    started = time.monotonic()
    partial = out.with_name(out.name + ".partial")
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        with tempfile.TemporaryDirectory(prefix=f"portico-build-{component.name}-") as tmp:
            local = {}
            for module, files in component.stubs.items():
                stub = Path(tmp) / "stubs" / module.replace("/", "_")
                stub.mkdir(parents=True)
                for name, content in files.items():
                    (stub / name).write_text(content)
                local[module] = str(stub)
            for module, files in component.patches.items():
                local[module] = str(_patched(component, version, module, files, Path(tmp) / "patched"))
            wrapper = Path(tmp) / "wrapper"
            gomod.write_wrapper_module(wrapper, component.module, version,
                                       packages=list(component.packages.values()), local=local)
            # No `go mod tidy`: it resolves the test imports of every dependency too,
            # and some of those modules are gone from the proxy (Traefik's DNS providers).
            # -mod=mod resolves just what the build imports, at the module's own versions.
            flags = ["-mod=mod", "-ldflags", component.ldflags(version)]
            if component.tags:
                flags += ["-tags", ",".join(component.tags)]
            for out_path, packages in _build_steps(component.packages, partial):
                go.run(["build", *flags, "-o", out_path, *packages], cwd=wrapper, env=env, log=logfile)
    except ToolError as exc:
        raise ToolError(f"building {component.name} {version} failed: {exc}") from exc
    (partial / ".complete").write_text(version)
    shutil.rmtree(out, ignore_errors=True)
    partial.replace(out)
    log(f"{component.name:<12} {version:<9} built ({time.monotonic() - started:.0f}s)")
    return out


def _patched(component: Component, version: str, module: str, files: dict[str, str], work: Path) -> Path:
    """A writable copy of `module` with `files` written over its own; each must exist there already (a
    patch for a file the pinned version no longer has would otherwise build something else, quietly)."""
    if module != component.module:
        gomod_text = (gomod.module_dir(component.module, version) / "go.mod").read_text()
        required = gomod.required_version(gomod_text, module)
        if required is None:
            raise ToolError(f"{component.name} {version} does not require {module}: its patch is stale")
        version = required
    fork = gomod.writable_copy(module, version, work / module.replace("/", "_"))
    for name, content in files.items():
        if not (fork / name).is_file():
            raise ToolError(f"{module}@{version} has no {name} to patch: the patch is stale")
        (fork / name).write_text(content)
    return fork


def _build_steps(packages: dict[str, str], out: Path) -> list[tuple[str, list[str]]]:
    """One `go build` for every binary named as its package is (its links run in parallel: Kubernetes' seven
    take one after another most of their build time once compiled), one each for the others."""
    same = [pkg for name, pkg in packages.items() if name == pkg.rstrip("/").rsplit("/", 1)[-1]]
    steps = [(f"{out}/", same)] if len(same) > 1 else []
    return steps + [(str(out / name), [pkg]) for name, pkg in packages.items() if not (len(same) > 1 and pkg in same)]


def _k8s_ldflags(version: str) -> str:
    minor = version.lstrip("v").split(".")[1]
    flags = ["-s", "-w"]
    for pkg in ("k8s.io/component-base/version", "k8s.io/client-go/pkg/version"):
        flags += [f"-X {pkg}.gitVersion={version}", f"-X {pkg}.gitMajor=1", f"-X {pkg}.gitMinor={minor}",
                  f"-X {pkg}.gitCommit=0000000000000000000000000000000000000000", f"-X {pkg}.gitTreeState=clean",
                  f"-X {pkg}.buildDate=1970-01-01T00:00:00Z"]
    return " ".join(flags)


KUBERNETES = Component(
    name="kubernetes", module="k8s.io/kubernetes", version_key="KUBERNETES_VERSION",
    packages={b: f"k8s.io/kubernetes/cmd/{b}" for b in (
        "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kube-proxy", "kubelet", "kubeadm", "kubectl")},
    ldflags=_k8s_ldflags,
)
CONTAINERD = Component(
    name="containerd", module="github.com/containerd/containerd/v2", version_key="CONTAINERD_VERSION",
    packages={"containerd": "github.com/containerd/containerd/v2/cmd/containerd",
              "ctr": "github.com/containerd/containerd/v2/cmd/ctr",
              "containerd-shim-runc-v2": "github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2"},
    tags=("no_aufs", "no_zfs", "no_btrfs", "no_devmapper"),
    ldflags=lambda v: f"-s -w -X github.com/containerd/containerd/v2/version.Version={v}",
)
RUNC = Component(
    name="runc", module="github.com/opencontainers/runc", version_key="RUNC_VERSION",
    packages={"runc": "github.com/opencontainers/runc"}, cgo=True, tags=("seccomp",),
    ldflags=lambda v: f"-s -w -X main.version={v.lstrip('v')}",
)
CRICTL = Component(
    name="crictl", module="sigs.k8s.io/cri-tools", version_key="CRICTL_VERSION",
    packages={"crictl": "sigs.k8s.io/cri-tools/cmd/crictl"},
    ldflags=lambda v: f"-s -w -X sigs.k8s.io/cri-tools/pkg/version.Version={v}",
)
CNI_PLUGINS = Component(
    name="cni-plugins", module="github.com/containernetworking/plugins", version_key="CNI_PLUGINS_VERSION",
    packages={p.rsplit("/", 1)[1]: f"github.com/containernetworking/plugins/plugins/{p}" for p in (
        "ipam/host-local", "main/loopback", "main/ptp", "main/bridge", "meta/portmap")},
)
ETCD = Component(
    name="etcd", module="go.etcd.io/etcd/server/v3", version_key="ETCD_VERSION",
    packages={"etcd": "go.etcd.io/etcd/server/v3"},
)
# CoreDNS's plugins, as its core/plugin/zplugin.go lists them, but for those that bring a cloud SDK or a tracer
# (azure, clouddns, route53, etcd, geoip, trace): a kind cluster's Corefile (kubeadm's) uses none of them, and
# they were most of CoreDNS's compile. Leaving plugins out of the list is CoreDNS's own way (plugin.cfg).
COREDNS_PLUGINS = (
    "acl", "any", "auto", "autopath", "bind", "bufsize", "cache", "cancel", "chaos", "debug", "dns64", "dnssec",
    "dnstap", "erratic", "errors", "file", "forward", "grpc", "header", "health", "hosts", "k8s_external",
    "kubernetes", "loadbalance", "local", "log", "loop", "metadata", "metrics", "minimal", "multisocket", "nsid",
    "pprof", "ready", "reload", "rewrite", "root", "secondary", "sign", "template", "timeouts", "tls", "transfer",
    "tsig", "view", "whoami")
_COREDNS_ZPLUGIN = ("// Portico: CoreDNS's generated plugin list without the plugins that bring cloud SDKs or tracers.\n\n"
                    "package plugin\n\nimport (\n\t_ \"github.com/coredns/caddy/onevent\"\n"
                    + "".join(f"\t_ \"github.com/coredns/coredns/plugin/{name}\"\n" for name in COREDNS_PLUGINS)
                    + ")\n")
COREDNS = Component(
    name="coredns", module="github.com/coredns/coredns", version_key="COREDNS_VERSION",
    packages={"coredns": "github.com/coredns/coredns"},
    patches={"github.com/coredns/coredns": {"core/plugin/zplugin.go": _COREDNS_ZPLUGIN}},
)

def kube_apiserver_component(version_key: str) -> Component:
    """kube-apiserver alone, at another Kubernetes version (the admission stage's other minors)."""
    return Component(name="kube-apiserver", module="k8s.io/kubernetes", version_key=version_key,
                     packages={"kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver"}, ldflags=_k8s_ldflags)


NODE_COMPONENTS = (KUBERNETES, CONTAINERD, RUNC, CRICTL, CNI_PLUGINS, ETCD, COREDNS)
