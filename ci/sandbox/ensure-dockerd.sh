#!/usr/bin/env bash
# Start dockerd for the cluster tests when it is not running (CI and sandbox only).
# Installs what the offline cluster build needs from Debian's packages when
# missing (docker.io, mmdebstrap, libseccomp-dev for runc), makes the
# CAP_SYS_RESOURCE-dropping runc wrapper the default runtime (see runc-wrapper),
# starts dockerd and waits for it.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
log_dir="${PORTICO_CACHE:-$HOME/.cache/portico}/logs"
mkdir -p "$log_dir"

missing=()
command -v dockerd >/dev/null || missing+=(docker.io)
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
[[ -e /usr/include/seccomp.h ]] || missing+=(libseccomp-dev)
if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "ensure-dockerd: missing ${missing[*]}; install them (apt-get install ${missing[*]})" >&2
    exit 2
  fi
  echo "packages     installing ${missing[*]} from Debian's packages"
  apt-get update -qq >"$log_dir/apt.log" 2>&1
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >>"$log_dir/apt.log" 2>&1 \
    || { echo "ensure-dockerd: apt-get install ${missing[*]} failed; log: $log_dir/apt.log" >&2; exit 2; }
fi

runtime_ok() {
  [[ "$(docker info --format '{{.DefaultRuntime}}' 2>/dev/null)" == "portico-runc" ]]
}

if runtime_ok; then
  echo "dockerd      running with the portico-runc runtime"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "ensure-dockerd: dockerd is not running and this is not root; start Docker yourself" >&2
  exit 2
fi
install -D -m 0755 "$here/runc-wrapper" /usr/local/lib/portico/runc-wrapper
mkdir -p /etc/docker
cat > /etc/docker/daemon.json <<JSON
{
  "runtimes": {"portico-runc": {"path": "/usr/local/lib/portico/runc-wrapper"}},
  "default-runtime": "portico-runc"
}
JSON
if pgrep -x dockerd >/dev/null; then
  pkill -x dockerd || true
  for _ in $(seq 50); do pgrep -x dockerd >/dev/null || break; sleep 0.2; done
fi
nohup dockerd >"$log_dir/dockerd.log" 2>&1 &
for _ in $(seq 150); do
  if runtime_ok; then echo "dockerd      started with the portico-runc runtime (log: $log_dir/dockerd.log)"; exit 0; fi
  sleep 0.2
done
echo "ensure-dockerd: dockerd did not come up in 30s; log: $log_dir/dockerd.log" >&2
tail -20 "$log_dir/dockerd.log" >&2
exit 2
