"""Assemble a kind node image with no registry access, the way kind does.

kind's `build node-image` pulls etcd, CoreDNS, pause and its CNI images from a
registry. This builds every piece locally instead:

1. Go components from pinned modules (gobuild): Kubernetes, containerd, runc,
   crictl, CNI plugins, etcd, CoreDNS; pause compiled from Kubernetes' pause.c.
2. Control-plane images, tagged exactly as `kubeadm config images list` says,
   FROM scratch (kube-proxy on a small Debian rootfs, for iptables).
3. The node rootfs from Debian packages with mmdebstrap, plus kind's base image
   files (from the sigs.k8s.io/kind module) and the binaries, as kind's
   images/base/Dockerfile lays them out.
4. The node container started once to import the images into containerd, then
   committed, like kind's build does.

Every artifact is cached by what went into it; logs are in $PORTICO_CACHE/logs.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Callable

from portico import wait
from portico.clients.docker import Docker, FileEntry
from portico.cluster import gobuild
from portico.errors import ToolError
from portico.process import default_runner
from portico.toolchain import gomod
from portico.toolchain.pins import load_versions

# Bump when the assembly below changes, so cached images are rebuilt.
FORMAT = 1
NODE_REPO = "portico.local/kind-node"

# kind's base image package list (images/base/Dockerfile), less NFS and iSCSI clients.
NODE_PACKAGES = ("systemd", "conntrack", "iptables", "nftables", "iproute2", "ethtool", "util-linux", "mount", "kmod",
                 "libseccomp2", "pigz", "fuse-overlayfs", "e2fsprogs", "bash", "ca-certificates", "curl", "jq",
                 "procps")
KUBE_PROXY_PACKAGES = ("iptables", "nftables", "conntrack", "ipset", "kmod", "ca-certificates")

# The in-node CNI: kind's default (kindnetd) is an image we would have to build;
# a single-node cluster only needs a ptp config, which needs no daemon.
POD_SUBNET = "10.244.0.0/16"
CNI_CONFIG = {
    "cniVersion": "1.0.0", "name": "portico",
    "plugins": [
        {"type": "ptp", "ipMasq": True, "mtu": 1500,
         "ipam": {"type": "host-local", "ranges": [[{"subnet": "10.244.0.0/24"}]], "routes": [{"dst": "0.0.0.0/0"}]}},
        {"type": "portmap", "capabilities": {"portMappings": True}},
    ],
}

# kind's base image steps after installing packages (images/base/Dockerfile).
NODE_CUSTOMIZE = """
set -e
find /lib/systemd/system/sysinit.target.wants/ -name systemd-tmpfiles-setup.service -delete
rm -f /lib/systemd/system/multi-user.target.wants/* /etc/systemd/system/*.wants/* \
      /lib/systemd/system/local-fs.target.wants/* /lib/systemd/system/sockets.target.wants/*udev* \
      /lib/systemd/system/sockets.target.wants/*initctl* /lib/systemd/system/basic.target.wants/*
echo ReadKMsg=no >> /etc/systemd/journald.conf
ln -sf /usr/lib/systemd/systemd /sbin/init
systemctl enable kubelet.service containerd.service undo-mount-hacks.service
systemctl mask systemd-binfmt.service
mkdir -p /etc/kubernetes/manifests /opt/cni/bin /etc/cni/net.d
chmod 755 /kind /kind/bin /kind/bin/* /usr/local/bin/* /usr/local/sbin/* /opt/cni/bin/* /usr/bin/kube*
rm -rf /var/lib/apt/lists/* /var/cache/apt/*
"""


def _run(cmd: list[str], step: str) -> None:
    default_runner().run(cmd, log_to=gobuild.log_path(step), timeout=3600)


def digest(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:12]


def kind_module_dir(versions: dict[str, str]) -> Path:
    return gomod.module_dir("sigs.k8s.io/kind", versions["KIND_VERSION"])


def kubernetes_module_dir(versions: dict[str, str]) -> Path:
    return gomod.module_dir("k8s.io/kubernetes", versions["KUBERNETES_VERSION"])


def pause_binary(versions: dict[str, str]) -> Path:
    version = versions["PAUSE_VERSION"]
    out = gobuild.offline_dir() / f"pause-{version}" / "pause"
    if out.exists():
        return out
    if shutil.which("gcc") is None:
        raise ToolError("gcc is needed to compile pause.c (apt-get install gcc libc6-dev)")
    out.parent.mkdir(parents=True, exist_ok=True)
    src = kubernetes_module_dir(versions) / "build" / "pause" / "linux" / "pause.c"
    tmp = out.with_suffix(".tmp")
    _run(["gcc", "-Os", "-Wall", "-Werror", "-static", f"-DVERSION=v{version}-portico", "-o", str(tmp), str(src)],
         "pause")
    _run(["strip", str(tmp)], "pause")
    tmp.replace(out)
    return out


def debian_rootfs(out: Path, versions: dict[str, str], packages: tuple[str, ...], step: str,
                  hooks: list[str] = ()) -> Path:
    """A Debian minbase rootfs tarball with these packages, made once (out is the cache)."""
    if out.exists():
        return out
    if shutil.which("mmdebstrap") is None:
        raise ToolError("mmdebstrap is needed to build a Debian rootfs (apt-get install mmdebstrap)")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".partial.tar")
    cmd = ["mmdebstrap", "--variant=minbase", "--include=" + ",".join(packages)]
    for hook in hooks:
        cmd.append(f"--customize-hook={hook}")
    _run([*cmd, versions["DEBIAN_SUITE"], str(tmp)], step)
    tmp.replace(out)
    return out


def control_plane_images(versions: dict[str, str], built: dict[str, Path], log: Callable[[str], None]) -> list[str]:
    """Build (if missing) the images kubeadm and containerd will ask for; return their tags."""
    k8s = versions["KUBERNETES_VERSION"]
    kube = built["kubernetes"]
    images = {
        f"registry.k8s.io/kube-apiserver:{k8s}": ([FileEntry("/usr/local/bin/kube-apiserver", kube / "kube-apiserver")], None),
        f"registry.k8s.io/kube-controller-manager:{k8s}": (
            [FileEntry("/usr/local/bin/kube-controller-manager", kube / "kube-controller-manager")], None),
        f"registry.k8s.io/kube-scheduler:{k8s}": ([FileEntry("/usr/local/bin/kube-scheduler", kube / "kube-scheduler")], None),
        f"registry.k8s.io/etcd:{versions['ETCD_VERSION'].lstrip('v')}-0": (
            [FileEntry("/usr/local/bin/etcd", built["etcd"] / "etcd")], None),
        f"registry.k8s.io/coredns/coredns:{versions['COREDNS_VERSION']}": (
            [FileEntry("/coredns", built["coredns"] / "coredns")], ["/coredns"]),
        f"registry.k8s.io/pause:{versions['PAUSE_VERSION']}": ([FileEntry("/pause", pause_binary(versions))], ["/pause"]),
    }
    docker = Docker()
    for tag, (entries, entrypoint) in images.items():
        if not docker.image_exists(tag):
            docker.import_files(tag, entries, entrypoint=entrypoint)
            log(f"image        {tag}")
    proxy_tag = f"registry.k8s.io/kube-proxy:{k8s}"
    if not docker.image_exists(proxy_tag):
        rootfs = debian_rootfs(gobuild.offline_dir() / f"kube-proxy-rootfs-{versions['DEBIAN_SUITE']}.tar", versions,
                             KUBE_PROXY_PACKAGES, "kube-proxy-rootfs",
                             hooks=[f'copy-in {kube / "kube-proxy"} /usr/local/bin/'])
        docker.import_tarball(proxy_tag, rootfs, ["ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                         log=gobuild.log_path("images"))
        log(f"image        {proxy_tag}")
    return [*images, proxy_tag]


def _node_overlay(root: Path, versions: dict[str, str], built: dict[str, Path]) -> None:
    """The files kind's base image and node-image build put on top of Debian."""
    files = kind_module_dir(versions) / "images" / "base" / "files"
    shutil.copytree(files, root, dirs_exist_ok=True, copy_function=shutil.copy)
    for path in root.rglob("*"):
        path.chmod(0o755 if path.is_dir() else 0o644)
    config = root / "etc" / "containerd" / "config.toml"
    text = config.read_text()
    start = text.index('sandbox_image = "')
    end = text.index('"', start + len('sandbox_image = "'))
    config.write_text(text[:start] + f'sandbox_image = "registry.k8s.io/pause:{versions["PAUSE_VERSION"]}' + text[end:])
    bins = {
        "usr/local/bin": [built["containerd"] / b for b in ("containerd", "ctr", "containerd-shim-runc-v2")]
        + [built["crictl"] / "crictl"],
        "usr/local/sbin": [built["runc"] / "runc"],
        "opt/cni/bin": sorted(p for p in built["cni-plugins"].iterdir() if not p.name.startswith(".")),
        "usr/bin": [built["kubernetes"] / b for b in ("kubelet", "kubeadm", "kubectl")],
    }
    for dest, sources in bins.items():
        (root / dest).mkdir(parents=True, exist_ok=True)
        for src in sources:
            shutil.copy(src, root / dest / src.name)
    (root / "kind" / "version").write_text(versions["KUBERNETES_VERSION"])
    (root / "etc" / "cni" / "net.d").mkdir(parents=True, exist_ok=True)
    (root / "etc" / "cni" / "net.d" / "10-portico-ptp.conflist").write_text(json.dumps(CNI_CONFIG, indent=2))
    # What kind's base Dockerfile generates with `ctr oci spec | jq ...`.
    spec = json.loads(default_runner().run([str(built["containerd"] / "ctr"), "oci", "spec"]).stdout)
    spec.setdefault("hooks", {}).setdefault("createContainer", []).append({"path": "/kind/bin/mount-product-files.sh"})
    spec.get("process", {}).pop("rlimits", None)
    (root / "etc" / "containerd" / "cri-base.json").write_text(json.dumps(spec, indent=2))


def node_image_tag(versions: dict[str, str]) -> str:
    recipe = digest(FORMAT, {k: versions[k] for k in sorted(versions) if k.endswith("_VERSION") or k == "DEBIAN_SUITE"},
                     [c.recipe(versions[c.version_key]) for c in gobuild.NODE_COMPONENTS], NODE_PACKAGES,
                     NODE_CUSTOMIZE, CNI_CONFIG)
    return f"{NODE_REPO}:{versions['KUBERNETES_VERSION']}-{recipe}"


def build(log: Callable[[str], None] = print) -> str:
    """The node image tag, building whatever is missing."""
    versions = load_versions()
    tag = node_image_tag(versions)
    docker = Docker()
    docker.require_daemon()
    if docker.image_exists(tag):
        log(f"node image   {tag} (cached)")
        return tag
    started = time.monotonic()
    built = {c.name: gobuild.build(c, versions, log) for c in gobuild.NODE_COMPONENTS}
    images = control_plane_images(versions, built, log)

    with tempfile.TemporaryDirectory(prefix="portico-node-") as tmp:
        overlay = Path(tmp) / "overlay"
        _node_overlay(overlay, versions, built)
        script = Path(tmp) / "customize.sh"
        script.write_text(NODE_CUSTOMIZE)
        rootfs = Path(tmp) / "rootfs.tar"
        debian_rootfs(rootfs, versions, NODE_PACKAGES, "node-rootfs", hooks=[
            f"sync-in {overlay} /", f"copy-in {script} /tmp", 'chroot "$1" sh /tmp/customize.sh',
            'rm -f "$1/tmp/customize.sh"'])
        base = f"{tag}-base"
        # kind's base image also sets STOPSIGNAL SIGRTMIN+3, which `docker import` cannot; it only
        # matters for `docker stop`, and kind removes nodes with `docker rm -f`.
        docker.import_tarball(base, rootfs, ["ENV container=docker",
                                        'ENTRYPOINT ["/usr/local/bin/entrypoint", "/sbin/init"]'], log=gobuild.log_path("node-image"))
        log(f"node base    {base}")
        _preload(base, tag, images)
        docker.run("rmi", base, check=False)
    log(f"node image   {tag} built ({time.monotonic() - started:.0f}s)")
    return tag


def _preload(base: str, tag: str, images: list[str]) -> None:
    """Import the images into the node's containerd and commit, as kind's build does."""
    log = gobuild.log_path("node-image")
    name = f"portico-node-build-{int(time.time())}"
    docker = Docker()
    docker.run("run", "-d", "--name", name, "--entrypoint=sleep", "--security-opt", "seccomp=unconfined", base,
               "infinity", log=log)
    try:
        docker.run("exec", name, "bash", "-c", "nohup containerd > /var/log/containerd-build.log 2>&1 &", log=log)
        wait.until(lambda: docker.run("exec", name, "ctr", "version", check=False).ok, timeout=20, interval=0.2,
                   what=f"containerd did not start in the build container; log: {log}")
        for image in images:
            docker.run("exec", "-i", name, "ctr", "--namespace=k8s.io", "images", "import",
                       "--label=io.cri-containerd.pinned=pinned", "--all-platforms", "--no-unpack", "--digests", "-",
                       input=docker.save(image))
        docker.run("exec", name, "pkill", "containerd", check=False, log=log)
        time.sleep(1)
        docker.run("commit", "--change", 'ENTRYPOINT [ "/usr/local/bin/entrypoint", "/sbin/init" ]', name, tag, log=log)
    finally:
        docker.run("rm", "-f", "-v", name, check=False)
