"""How to reach the API server a kubeconfig's current context names: URL, bearer token, TLS context.

Supports what kind, kubeadm and most CI clusters write: a CA (data or file),
client certificates (data or files), a token; `exec` and auth-provider plugins
are refused with a clear message (run `kubectl` once and use a token instead).
"""

from __future__ import annotations

import atexit
import base64
import shutil
import ssl
import tempfile
from pathlib import Path
from typing import Any

from portico import values as values_mod
from portico.errors import InputError


def _named(items: Any, name: str, what: str, source: str) -> dict:
    for item in items or []:
        if isinstance(item, dict) and item.get("name") == name:
            return item.get(what) or {}
    raise InputError(f"no {what} named {name!r}", source=source)


def _material(entry: dict, key: str, base: Path, tmp: Path) -> str | None:
    """A certificate or key as a file path (kubeconfig `*-data` written to a private temp file)."""
    if entry.get(f"{key}-data"):
        path = tmp / key
        path.write_bytes(base64.b64decode(entry[f"{key}-data"]))
        path.chmod(0o600)
        return str(path)
    if entry.get(key):
        return str((base / entry[key]).resolve())
    return None


def connection(path: Path) -> tuple[str, str | None, ssl.SSLContext]:
    source = str(path)
    config = values_mod.read_yaml(path, "a kubeconfig")
    if not isinstance(config, dict):
        raise InputError("not a kubeconfig (expected a mapping)", source=source)
    current = config.get("current-context")
    if not current:
        raise InputError("has no current-context", source=source)
    context = _named(config.get("contexts"), current, "context", source)
    cluster = _named(config.get("clusters"), context.get("cluster"), "cluster", source)
    user = _named(config.get("users"), context.get("user"), "user", source) if context.get("user") else {}
    if user.get("exec") or user.get("auth-provider"):
        raise InputError("uses an exec or auth-provider plugin, which portico does not run: give it a token or a "
                         "client certificate", source=source, key_path=f"users.{context.get('user')}")
    server = str(cluster.get("server") or "")
    if not server.startswith("https://"):
        raise InputError(f"cluster server {server!r} is not an https:// URL", source=source)
    tmp = Path(tempfile.mkdtemp(prefix="portico-kubeconfig-"))
    atexit.register(shutil.rmtree, tmp, True)
    base = path.resolve().parent
    tls = ssl.create_default_context()
    ca = _material(cluster, "certificate-authority", base, tmp)
    if cluster.get("insecure-skip-tls-verify"):
        tls.check_hostname, tls.verify_mode = False, ssl.CERT_NONE
    elif ca:
        tls.load_verify_locations(cafile=ca)
    cert, key = _material(user, "client-certificate", base, tmp), _material(user, "client-key", base, tmp)
    if cert and key:
        tls.load_cert_chain(cert, key)
    token = user.get("token")
    if not token and user.get("tokenFile"):
        token = (base / user["tokenFile"]).read_text().strip()
    return server, token, tls
