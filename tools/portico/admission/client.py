"""Just enough of the Kubernetes API for admission: discovery, create (real or dry-run), readiness.

One kept-alive HTTPS connection per thread; every answer carries the status,
the API's Status object (reason, message, field causes) and its warnings.
"""

from __future__ import annotations

import http.client
import json
import ssl
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True)
class Answer:
    status: int
    body: dict[str, Any]
    warnings: tuple[str, ...] = ()

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300

    @property
    def message(self) -> str:
        return str(self.body.get("message") or self.body.get("reason") or f"HTTP {self.status}")

    @property
    def fields(self) -> list[str]:
        causes = (self.body.get("details") or {}).get("causes") or []
        return [c.get("field") for c in causes if c.get("field")]


@dataclass(frozen=True)
class Resource:
    plural: str
    namespaced: bool
    api_version: str

    def path(self, namespace: str | None) -> str:
        base = "/api/v1" if self.api_version == "v1" else f"/apis/{self.api_version}"
        return f"{base}/namespaces/{namespace}/{self.plural}" if self.namespaced else f"{base}/{self.plural}"


def _warnings(header_values: list[str]) -> tuple[str, ...]:
    out = []
    for value in header_values:
        # RFC 7234 style: 299 - "text"
        text = value.split(" - ", 1)[-1].strip()
        if text.startswith('"') and text.endswith('"'):
            text = text[1:-1].replace('\\"', '"')
        out.append(text)
    return tuple(out)


def _loopback_context() -> ssl.SSLContext:
    context = ssl.create_default_context()
    # The server is this process's own, on loopback, with a certificate it made itself.
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    return context


@dataclass
class Client:
    url: str
    token: str | None = None
    timeout: float = 30
    context: ssl.SSLContext = field(default_factory=_loopback_context, repr=False)
    _local: threading.local = field(default_factory=threading.local, repr=False)
    resources: dict[tuple[str, str], Resource] = field(default_factory=dict)

    @classmethod
    def from_kubeconfig(cls, path: Path) -> "Client":
        """The current context of a kubeconfig: its server, CA, and a token or client certificate."""
        from portico.admission.kubeconfig import connection

        url, token, context = connection(path)
        return cls(url, token, context=context)

    def _connection(self) -> http.client.HTTPSConnection:
        conn = getattr(self._local, "conn", None)
        if conn is None:
            parts = urlsplit(self.url)
            conn = http.client.HTTPSConnection(parts.hostname, parts.port, timeout=self.timeout, context=self.context)
            self._local.conn = conn
        return conn

    def request(self, method: str, path: str, body: dict | None = None,
                content_type: str = "application/json") -> Answer:
        headers = {"Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        payload = None
        if body is not None:
            payload = json.dumps(body, default=str).encode()
            headers["Content-Type"] = content_type
        for attempt in (1, 2):
            conn = self._connection()
            try:
                conn.request(method, path, body=payload, headers=headers)
                resp = conn.getresponse()
                raw = resp.read()
                break
            except (http.client.HTTPException, OSError):
                conn.close()
                self._local.conn = None
                if attempt == 2:
                    raise
        try:
            parsed = json.loads(raw) if raw else {}
        except ValueError:
            parsed = {"message": raw[:300].decode(errors="replace")}
        return Answer(resp.status, parsed if isinstance(parsed, dict) else {}, _warnings(resp.headers.get_all("Warning") or []))

    def ready(self) -> bool:
        try:
            return self.request("GET", "/readyz").status == 200
        except OSError:
            return False

    def discover(self) -> None:
        """(apiVersion, kind) -> where to POST it, for everything the server serves now."""
        versions = ["v1"]
        groups = self.request("GET", "/apis").body.get("groups") or []
        versions += [v["groupVersion"] for g in groups for v in g.get("versions") or []]
        for gv in versions:
            base = "/api/v1" if gv == "v1" else f"/apis/{gv}"
            for res in self.request("GET", base).body.get("resources") or []:
                if "/" in res.get("name", "") or "create" not in (res.get("verbs") or []):
                    continue  # subresources, and kinds nobody creates
                self.resources[(gv, res["kind"])] = Resource(res["name"], bool(res.get("namespaced")), gv)

    def resource(self, api_version: str, kind: str) -> Resource | None:
        return self.resources.get((api_version, kind))

    def create(self, doc: dict, namespace: str | None, *, dry_run: bool) -> Answer:
        res = self.resource(str(doc.get("apiVersion")), str(doc.get("kind")))
        if res is None:
            return Answer(404, {"message": f"the server does not serve {doc.get('apiVersion')} {doc.get('kind')}",
                                "reason": "NotFound"})
        query = "?fieldValidation=Strict&fieldManager=portico" + ("&dryRun=All" if dry_run else "")
        return self.request("POST", res.path(namespace if res.namespaced else None) + query, doc)

    def apply(self, doc: dict, namespace: str | None, *, dry_run: bool) -> Answer:
        """Server-side apply, as Helm 4 upgrades: the server merges, defaults and checks immutable fields."""
        res = self.resource(str(doc.get("apiVersion")), str(doc.get("kind")))
        if res is None:
            return Answer(404, {"message": f"the server does not serve {doc.get('apiVersion')} {doc.get('kind')}",
                                "reason": "NotFound"})
        name = (doc.get("metadata") or {}).get("name")
        query = "?fieldValidation=Strict&fieldManager=helm&force=true" + ("&dryRun=All" if dry_run else "")
        return self.request("PATCH", f"{res.path(namespace if res.namespaced else None)}/{name}{query}", doc,
                            content_type="application/apply-patch+yaml")
