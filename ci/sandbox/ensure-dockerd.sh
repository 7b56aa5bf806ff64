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

# The running dockerd must have read the current daemon.json (it changed: userland-proxy).
config_current() {
  local pid
  pid="$(pgrep -xo dockerd)" || return 1
  grep -q '"userland-proxy": false' /etc/docker/daemon.json 2>/dev/null && [[ /etc/docker/daemon.json -ot /proc/$pid ]]
}

if runtime_ok && config_current; then
  echo "dockerd      running with the portico-runc runtime"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "ensure-dockerd: dockerd is not running and this is not root; start Docker yourself" >&2
  exit 2
fi
install -D -m 0755 "$here/runc-wrapper" /usr/local/lib/portico/runc-wrapper
mkdir -p /etc/docker
# userland-proxy false: published ports are kernel NAT rules instead of a docker-proxy process per port.
# Under the zero-downtime checks' failure storms (a control drops every request for seconds) a docker-proxy
# stopped listening for good, twice, and every later request to its port was refused.
cat > /etc/docker/daemon.json <<JSON
{
  "runtimes": {"portico-runc": {"path": "/usr/local/lib/portico/runc-wrapper"}},
  "default-runtime": "portico-runc",
  "userland-proxy": false
}
JSON
if pgrep -x dockerd >/dev/null; then
  pkill -x dockerd || true
  # dockerd stops its containers first: give it a minute.
  for _ in $(seq 300); do pgrep -x dockerd >/dev/null || break; sleep 0.2; done
fi
nohup dockerd >"$log_dir/dockerd.log" 2>&1 &
for _ in $(seq 150); do
  if runtime_ok; then echo "dockerd      started with the portico-runc runtime (log: $log_dir/dockerd.log)"; exit 0; fi
  sleep 0.2
done
echo "ensure-dockerd: dockerd did not come up in 30s; log: $log_dir/dockerd.log" >&2
tail -20 "$log_dir/dockerd.log" >&2
exit 2
