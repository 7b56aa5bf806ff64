"""A component's binaries: one `go build` per binary (as before) against one `go build` for all of them.

Both run with the Go build cache already warm for the component (its packages compiled), so what is left is
what the cold build of the offline cluster pays on top of compiling: one link after another, or the links in
parallel. Kubernetes' seven binaries (kube-apiserver, kubelet, kubectl, ...) are the case that matters. Each
variant writes into its own empty output directory (a fresh PORTICO_CACHE), so nothing is skipped. Usage:

    .venv/bin/python benchmarks/bench_gobuild.py [--component kubernetes] [--json out.json]
"""

from __future__ import annotations

import argparse
import contextlib
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

from portico.cluster import gobuild  # noqa: E402
from portico.toolchain.pins import load_versions  # noqa: E402


def one_build_each(packages: dict[str, str], out: Path) -> list[tuple[str, list[str]]]:
    return [(str(out / name), [pkg]) for name, pkg in packages.items()]


def timed_build(component: gobuild.Component, versions: dict[str, str], steps=None) -> float:
    with tempfile.TemporaryDirectory(prefix="portico-bench-gobuild-") as cache:
        with mock.patch.dict(os.environ, {"PORTICO_CACHE": cache}):
            with mock.patch.object(gobuild, "_build_steps", steps) if steps else contextlib.nullcontext():
                started = time.monotonic()
                gobuild.build(component, versions, log=lambda _m: None)
                return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--component", default="kubernetes", choices=[c.name for c in gobuild.NODE_COMPONENTS])
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    component = next(c for c in gobuild.NODE_COMPONENTS if c.name == args.component)
    versions = load_versions()
    timed_build(component, versions)  # warms the compile cache (a no-op when the cluster was built)
    each = timed_build(component, versions, one_build_each)
    together = timed_build(component, versions)
    result = {"component": component.name, "binaries": len(component.packages), "cpus": os.cpu_count(),
              "machine": platform.machine(), "one_go_build_each_s": round(each, 1),
              "one_go_build_for_all_s": round(together, 1), "ratio": round(each / together, 2)}
    print(f"{component.name}: {len(component.packages)} binaries, compile cache warm, {os.cpu_count()} CPUs")
    print(f"  one go build each     {each:6.1f} s")
    print(f"  one go build for all  {together:6.1f} s   ({each / together:.2f}x faster)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
