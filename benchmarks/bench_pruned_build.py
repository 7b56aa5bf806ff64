"""Cold builds of the local cluster's Traefik and CoreDNS, as pinned upstream against as Portico builds them.

Portico leaves out what a local cluster never runs (gobuild.Component.patches): lego's ACME DNS providers in
Traefik (some two hundred DNS hosting SDKs) and CoreDNS's plugins that bring cloud SDKs or a tracer. Each build
here starts from an empty Go build cache (GOCACHE in a temporary directory; the module cache stays warm, so
downloads are not counted, which a fresh machine pays on top) and an empty output directory, one after the
other on the same machine. Usage:

    .venv/bin/python benchmarks/bench_pruned_build.py [--component traefik --component coredns] [--json out.json]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from unittest import mock

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

from portico.cluster import addons, gobuild  # noqa: E402
from portico.toolchain.pins import load_versions  # noqa: E402

COMPONENTS = {"traefik": addons.TRAEFIK, "coredns": gobuild.COREDNS}


def cold_build(component: gobuild.Component, versions: dict[str, str]) -> tuple[float, int]:
    """Seconds and the size of the largest binary, from an empty build cache."""
    with tempfile.TemporaryDirectory(prefix="portico-bench-pruned-") as tmp:
        with mock.patch.dict(os.environ, {"PORTICO_CACHE": f"{tmp}/cache", "GOCACHE": f"{tmp}/gocache"}):
            started = time.monotonic()
            out = gobuild.build(component, versions, log=lambda _m: None)
            seconds = time.monotonic() - started
            size = max(p.stat().st_size for p in out.iterdir() if p.is_file() and not p.name.startswith("."))
    return seconds, size


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--component", action="append", choices=list(COMPONENTS))
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    versions = load_versions()
    results = []
    for name in args.component or list(COMPONENTS):
        pruned = COMPONENTS[name]
        upstream = dataclasses.replace(pruned, patches={})
        full_s, full_size = cold_build(upstream, versions)
        pruned_s, pruned_size = cold_build(pruned, versions)
        results.append({"component": name, "version": versions[pruned.version_key], "upstream_s": round(full_s, 1),
                        "pruned_s": round(pruned_s, 1), "ratio": round(full_s / pruned_s, 2),
                        "upstream_mb": round(full_size / 2**20, 1), "pruned_mb": round(pruned_size / 2**20, 1)})
        print(f"{name} {versions[pruned.version_key]}, cold build cache, {os.cpu_count()} CPUs")
        print(f"  as upstream   {full_s:6.1f} s  {full_size / 2**20:6.1f} MB")
        print(f"  as Portico    {pruned_s:6.1f} s  {pruned_size / 2**20:6.1f} MB   ({full_s / pruned_s:.2f}x faster)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"cpus": os.cpu_count(), "machine": platform.machine(),
                                         "builds": results}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
