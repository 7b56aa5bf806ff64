"""Every CLI tool Portico installs: its pin, its official release, its Go module."""

from __future__ import annotations

import dataclasses
from typing import Callable

from portico.errors import InputError


@dataclasses.dataclass(frozen=True)
class Release:
    """Where a tool's official release lives and how its checksum is published."""

    url: str  # archive or binary, formatted with v (version), vnum (without v), os, arch
    checksum_url: str  # sha256 file: either "<hash>" or "<hash>  <filename>" lines
    member: str | None  # path of the binary inside a tar.gz; None for a bare binary


@dataclasses.dataclass(frozen=True)
class Tool:
    name: str  # the file name in the tools dir
    version_key: str
    go_package: str  # package path passed to `go install`, without @version
    go_module: str  # module that carries the version
    version_args: tuple[str, ...]
    ldflags: Callable[[str], str] = lambda v: ""
    release: Release | None = None
    # `go install` refuses modules whose go.mod has replace directives; those are
    # built through a wrapper module (see gomod.write_wrapper_module).
    needs_wrapper: bool = False
    purpose: str = ""
    # Optional tools are installed only when named (`portico setup cosign`); doctor reports them without failing.
    optional: bool = False

    def version(self, versions: dict[str, str]) -> str:
        return versions[self.version_key]


def _gh(repo: str, asset: str, checksums: str, member: str | None) -> Release:
    base = f"https://github.com/{repo}/releases/download/{{v}}"
    return Release(url=f"{base}/{asset}", checksum_url=f"{base}/{checksums}", member=member)


_HELM_RELEASE = Release(url="https://get.helm.sh/helm-{v}-{os}-{arch}.tar.gz",
                        checksum_url="https://get.helm.sh/helm-{v}-{os}-{arch}.tar.gz.sha256sum",
                        member="{os}-{arch}/helm")

TOOLS: tuple[Tool, ...] = (
    Tool(name="helm", version_key="HELM_VERSION", go_package="helm.sh/helm/v4/cmd/helm", go_module="helm.sh/helm/v4",
         version_args=("version", "--template", "{{.Version}}"),
         ldflags=lambda v: f"-X helm.sh/helm/v4/internal/version.version={v}", release=_HELM_RELEASE,
         purpose="rendering, install and upgrade (Helm 4, the default)"),
    Tool(name="helm3", version_key="HELM3_VERSION", go_package="helm.sh/helm/v3/cmd/helm",
         go_module="helm.sh/helm/v3", version_args=("version", "--template", "{{.Version}}"),
         # Release builds stamp the default Capabilities.KubeVersion from the
         # client-go they build with (v0.37 -> 1.37); without it helm 3 says 1.20.
         ldflags=lambda v: (
             f"-X helm.sh/helm/v3/internal/version.version={v} "
             "-X helm.sh/helm/v3/pkg/chartutil.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/chartutil.k8sVersionMinor=37 "
             "-X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMajor=1 -X helm.sh/helm/v3/pkg/lint/rules.k8sVersionMinor=37"
         ), release=_HELM_RELEASE, purpose="Helm 3 compatibility"),
    Tool(name="kubeconform", version_key="KUBECONFORM_VERSION",
         go_package="github.com/yannh/kubeconform/cmd/kubeconform", go_module="github.com/yannh/kubeconform",
         version_args=("-v",), ldflags=lambda v: f"-X main.version={v}",
         release=_gh("yannh/kubeconform", "kubeconform-{os}-{arch}.tar.gz", "CHECKSUMS", "kubeconform"),
         purpose="schema validation"),
    Tool(name="ct", version_key="CT_VERSION", go_package="github.com/helm/chart-testing/v3/ct",
         go_module="github.com/helm/chart-testing/v3", version_args=("version",),
         ldflags=lambda v: f"-X github.com/helm/chart-testing/v3/ct/cmd.Version={v}",
         release=_gh("helm/chart-testing", "chart-testing_{vnum}_{os}_{arch}.tar.gz",
                     "chart-testing_{vnum}_checksums.txt", "ct"),
         # `go install ct@version` asks the proxy for the module's version list to
         # check deprecation, which some proxies refuse; a wrapper avoids that.
         needs_wrapper=True, purpose="ct lint and ct install"),
    Tool(name="kind", version_key="KIND_VERSION", go_package="sigs.k8s.io/kind", go_module="sigs.k8s.io/kind",
         version_args=("version",),
         release=Release(url="https://kind.sigs.k8s.io/dl/{v}/kind-{os}-{arch}",
                         checksum_url="https://kind.sigs.k8s.io/dl/{v}/kind-{os}-{arch}.sha256sum", member=None),
         purpose="local clusters"),
    Tool(name="kubectl", version_key="KUBERNETES_VERSION", go_package="k8s.io/kubernetes/cmd/kubectl",
         go_module="k8s.io/kubernetes", version_args=("version", "--client"),
         ldflags=lambda v: f"-X k8s.io/client-go/pkg/version.gitVersion={v} "
                           f"-X k8s.io/component-base/version.gitVersion={v}",
         release=Release(url="https://dl.k8s.io/release/{v}/bin/{os}/{arch}/kubectl",
                         checksum_url="https://dl.k8s.io/release/{v}/bin/{os}/{arch}/kubectl.sha256", member=None),
         needs_wrapper=True, purpose="cluster access"),
    Tool(name="helm-docs", version_key="HELM_DOCS_VERSION", go_package="github.com/norwoodj/helm-docs/cmd/helm-docs",
         go_module="github.com/norwoodj/helm-docs", version_args=("--version",),
         ldflags=lambda v: f"-X main.version={v.lstrip('v')}",
         release=_gh("norwoodj/helm-docs", "helm-docs_{vnum}_Linux_x86_64.tar.gz", "checksums.txt", "helm-docs"),
         purpose="chart README generation"),
    Tool(name="actionlint", version_key="ACTIONLINT_VERSION", go_package="github.com/rhysd/actionlint/cmd/actionlint",
         go_module="github.com/rhysd/actionlint", version_args=("-version",),
         ldflags=lambda v: f"-X github.com/rhysd/actionlint.version={v}",
         release=_gh("rhysd/actionlint", "actionlint_{vnum}_{os}_{arch}.tar.gz", "actionlint_{vnum}_checksums.txt",
                     "actionlint"),
         purpose="GitHub Actions workflow lint"),
    Tool(name="registry", version_key="DISTRIBUTION_VERSION",
         go_package="github.com/distribution/distribution/v3/cmd/registry",
         go_module="github.com/distribution/distribution/v3", version_args=("--version",),
         ldflags=lambda v: f"-X github.com/distribution/distribution/v3/version.version={v}",
         release=_gh("distribution/distribution", "registry_{vnum}_{os}_{arch}.tar.gz",
                     "registry_{vnum}_{os}_{arch}.tar.gz.sha256", "registry"),
         purpose="the local OCI registry charts are pushed to in the release tests"),
    Tool(name="vegeta", version_key="VEGETA_VERSION", go_package="github.com/tsenart/vegeta/v12",
         go_module="github.com/tsenart/vegeta/v12", version_args=("-version",),
         ldflags=lambda v: f"-X main.Version={v}",
         release=_gh("tsenart/vegeta", "vegeta_{vnum}_{os}_{arch}.tar.gz", "vegeta_{vnum}_checksums.txt", "vegeta"),
         purpose="open-loop HTTP load at a constant rate for the zero-downtime checks, every request recorded"),
    Tool(name="ghz", version_key="GHZ_VERSION", go_package="github.com/bojand/ghz/cmd/ghz",
         go_module="github.com/bojand/ghz", version_args=("--version",), ldflags=lambda v: f"-X main.version={v}",
         release=_gh("bojand/ghz", "ghz-{os}-{machine}.tar.gz", "ghz-{os}-{machine}.tar.gz.sha256", "ghz"),
         purpose="open-loop gRPC load (--async) for grpc:// targets of the zero-downtime checks"),
    Tool(name="cosign", version_key="COSIGN_VERSION", go_package="github.com/sigstore/cosign/v3/cmd/cosign",
         go_module="github.com/sigstore/cosign/v3", version_args=("version",),
         ldflags=lambda v: f"-X sigs.k8s.io/release-utils/version.gitVersion={v}",
         release=_gh("sigstore/cosign", "cosign-{os}-{arch}", "cosign_checksums.txt", None),
         optional=True, purpose="optional cosign signature of the pushed chart (`portico setup cosign`)"),
)


def default_tools() -> tuple[Tool, ...]:
    """What `portico setup` installs when no tool is named."""
    return tuple(t for t in TOOLS if not t.optional)


def tool_by_name(name: str) -> Tool:
    for tool in TOOLS:
        if tool.name == name:
            return tool
    # A name the user typed (`portico setup NAME`, `--skip NAME`): their input, not a broken toolchain.
    raise InputError(f"unknown tool {name!r}; known: {', '.join(t.name for t in TOOLS)}", source="portico setup")
