"""Findings of the default renderer against `--renderer helm` on the same matrices (not a timing benchmark).

The in-process renderer once dropped the objects of subcharts disabled by a condition in an earlier render
(tests/test_parity.py); whatever it dropped, no stage saw. This runs each corpus matrix and the chart's own
with both renderers and prints the findings only one of them has: any line is a finding the renderer hid
(or made up). `python benchmarks/audit_renderer.py [--json FILE] [MATRIX...]`
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT = [REPO / "charts" / "portico" / "ci" / "matrix.yaml", *sorted((REPO / "tests" / "corpus").glob("*.yaml"))]


def findings(matrix: Path, *extra: str) -> set[tuple]:
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "r.json"
        subprocess.run([sys.executable, "-m", "portico.cli", "matrix", str(matrix), "-o", f"{tmp}/out",
                        "--no-progress", "--json", str(report), *extra], capture_output=True, check=False)
        if not report.exists():
            return {("no report",)}
        data = json.loads(report.read_text())
    found = [*data.get("findings", []), *data.get("baselined", [])]
    return {(f["stage"], f["rule"], f.get("kind", ""), f.get("name", ""), f["message"],
             tuple(sorted(f.get("combinations", [])))) for f in found}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("matrices", nargs="*", type=Path, default=DEFAULT)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    results = {}
    for matrix in args.matrices:
        ours, helm = findings(matrix), findings(matrix, "--renderer", "helm")
        only_ours, only_helm = sorted(ours - helm), sorted(helm - ours)
        results[str(matrix.relative_to(REPO))] = {"findings": len(helm), "only_default": only_ours,
                                                  "only_helm": only_helm}
        print(f"{matrix.relative_to(REPO)}: {len(helm)} findings with helm, {len(only_helm)} only with helm, "
              f"{len(only_ours)} only with the default renderer", flush=True)
        for f in only_helm:
            print(f"  hidden by the default renderer: {f[:5]}")
        for f in only_ours:
            print(f"  only with the default renderer: {f[:5]}")
    if args.json:
        args.json.write_text(json.dumps(results, indent=2, default=list))
    return 1 if any(r["only_default"] or r["only_helm"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
