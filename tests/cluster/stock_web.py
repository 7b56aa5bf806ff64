"""A stock web server for the "any app" checks: Debian's nginx, built locally (no registry here).

The image is Debian's own nginx-light package on a minbase rootfs (mmdebstrap, like the node image's kube-proxy),
with a config that a hardened chart admits: a numeric non-root user (www-data, 33), port 8080, and every file
nginx writes under /tmp (the chart mounts an emptyDir there: its root filesystem is read-only). STOPSIGNAL
SIGQUIT, as the official nginx image: nginx's graceful stop (SIGTERM is its fast stop). It sends no X-Pod or
X-Version header, so the harness must judge it from the cluster. Two tags of the same image give an upgrade.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from portico.clients.docker import Docker
from portico.cluster import gobuild, kind, nodeimage
from portico.toolchain.pins import load_versions

REPOSITORY = "portico.local/nginx"
TAGS = ("stock-1", "stock-2")
PORT = 8080
CONFIG = f"""\
worker_processes 1;
pid /tmp/nginx.pid;
error_log stderr notice;
events {{ worker_connections 4096; }}
http {{
    include /etc/nginx/mime.types;
    access_log off;
    client_body_temp_path /tmp/client_body;
    proxy_temp_path /tmp/proxy;
    fastcgi_temp_path /tmp/fastcgi;
    uwsgi_temp_path /tmp/uwsgi;
    scgi_temp_path /tmp/scgi;
    server {{
        listen {PORT};
        root /var/www/html;
        index index.nginx-debian.html;
    }}
}}
"""
IMPORT = ("ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",)
CHANGES = (
    "USER 33:33",
    f"EXPOSE {PORT}",
    "STOPSIGNAL SIGQUIT",
    'CMD ["nginx", "-e", "stderr", "-g", "daemon off;"]',
)


def images() -> list[str]:
    """Build (once; cached by Docker and the rootfs tarball) and load both tags into the kind cluster."""
    docker = Docker()
    tags = [f"{REPOSITORY}:{tag}" for tag in TAGS]
    if not all(docker.image_exists(tag) for tag in tags):
        versions = load_versions()
        with tempfile.TemporaryDirectory() as tmp:
            conf = Path(tmp) / "nginx.conf"
            conf.write_text(CONFIG)
            rootfs = nodeimage.debian_rootfs(
                gobuild.offline_dir() / f"nginx-rootfs-{versions['DEBIAN_SUITE']}-{nodeimage.digest(CONFIG)}.tar",
                versions, ("nginx-light",), "nginx-rootfs",
                hooks=[f"copy-in {conf} /etc/nginx/", 'rm -rf "$1"/var/lib/apt/lists/* "$1"/var/cache/apt/*'])
        base = f"{REPOSITORY}:rootfs"
        docker.import_tarball(base, rootfs, IMPORT, log=gobuild.log_path("images"))
        docker.build_from(tags[0], base, CHANGES)
        for tag in tags[1:]:
            docker.run("tag", tags[0], tag)
    for tag in tags:
        kind.load_image(tag)
    return tags
