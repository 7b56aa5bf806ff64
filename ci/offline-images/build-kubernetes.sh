#!/usr/bin/env bash
# Build the Kubernetes node and control-plane binaries from the k8s.io/kubernetes
# module, through a wrapper module that points each staging module at its
# published version. The version ldflags are the ones kubeadm checks.
# Output: $PORTICO_CACHE/offline/kubernetes-<version>/bin/<binary>
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
# shellcheck disable=SC1091
source <(grep -E '^[A-Z0-9_]+=' "$repo/tools/versions.env")
version="${1:-$KUBERNETES_VERSION}"
cache="${PORTICO_CACHE:-$HOME/.cache/portico}"
out="$cache/offline/kubernetes-$version"
bins=(kube-apiserver kube-controller-manager kube-scheduler kube-proxy kubelet kubeadm kubectl)

if [[ -f "$out/.complete" ]]; then
  echo "kubernetes   $version  cached in $out"
  exit 0
fi
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
pkgs=()
for b in "${bins[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$b"); done
PYTHONPATH="$repo/tools" python3 -m portico.toolchain wrapper k8s.io/kubernetes "$version" "$work/wrap" "${pkgs[@]}"
cd "$work/wrap"
export CGO_ENABLED=0 GOFLAGS=-trimpath
go mod tidy
minor="${version#v1.}"; minor="${minor%%.*}"
ldflags=""
for pkg in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
  ldflags+=" -X $pkg.gitVersion=$version -X $pkg.gitMajor=1 -X $pkg.gitMinor=$minor"
  ldflags+=" -X $pkg.gitCommit=0000000000000000000000000000000000000000 -X $pkg.gitTreeState=clean"
  ldflags+=" -X $pkg.buildDate=1970-01-01T00:00:00Z"
done
mkdir -p "$out/bin.partial"
for b in "${bins[@]}"; do
  start=$SECONDS
  go build -ldflags "-s -w $ldflags" -o "$out/bin.partial/$b" "k8s.io/kubernetes/cmd/$b"
  echo "kubernetes   $version  built $b ($((SECONDS - start))s)"
done
rm -rf "$out/bin"
mv "$out/bin.partial" "$out/bin"
touch "$out/.complete"
