"""The admission stage: a local kube-apiserver's start-up, CRD install, objects/s, and a whole matrix through it.

    .venv/bin/python benchmarks/bench_admission.py [--matrix charts/portico/ci/matrix.yaml] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

from portico.admission import stage  # noqa: E402
from portico.admission.client import Client  # noqa: E402
from portico.admission.server import LocalAPIServer, binaries  # noqa: E402
from portico.matrix import spec  # noqa: E402
from portico.matrix.run import Options, run  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--matrix", type=Path, default=REPO / "charts" / "portico" / "ci" / "matrix.yaml")
    parser.add_argument("--objects", type=int, default=1000)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    binaries()  # builds once; not part of the timings
    t0 = time.perf_counter()
    with LocalAPIServer() as server:
        ready = time.perf_counter() - t0
        client = Client(server.url, server.token)
        client.discover()
        t1 = time.perf_counter()
        stage.install_crds(client, stage.catalog_crds())
        crds = time.perf_counter() - t1
        docs = [{"apiVersion": "v1", "kind": "Service", "metadata": {"name": f"s{i}", "namespace": "bench"},
                 "spec": {"selector": {"app": "x"}, "ports": [{"name": "http", "port": 80}]}}
                for i in range(args.objects)]
        t2 = time.perf_counter()
        stage.admit(client, {"r": docs}, {"r": ["r"]}, namespace="bench", kubernetes_version="")
        rate = len(docs) / (time.perf_counter() - t2)
    matrix = spec.load(args.matrix)
    with tempfile.TemporaryDirectory(prefix="portico-bench-adm-") as tmp:
        plain = run(matrix, Path(tmp) / "a")
        admitted = run(matrix, Path(tmp) / "b", options=Options(admission=True))
    results = {
        "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {platform.python_version()}",
        "server_ready_s": round(ready, 2), "crd_catalog_s": round(crds, 2), "objects_per_s": round(rate),
        "matrix": str(args.matrix.relative_to(REPO)), "combinations": len(plain.combos),
        "unique_renders": plain.unique_renders, "matrix_s": round(plain.timings["total"], 1),
        "matrix_with_admission_s": round(admitted.timings["total"], 1),
        "admission_stage_s": round(admitted.timings.get("admission", 0.0), 1),
    }
    print(f"server ready {ready:.1f} s, CRD catalog {crds:.1f} s, dry-run {rate:.0f} objects/s")
    print(f"{results['matrix']}: {results['combinations']} combinations, {results['unique_renders']} unique renders: "
          f"{results['matrix_s']} s without admission, {results['matrix_with_admission_s']} s with "
          f"(the stage {results['admission_stage_s']} s), {results['matrix_with_admission_s'] / results['matrix_s']:.1f}x")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
