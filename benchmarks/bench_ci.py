"""`portico ci --all` against `ct lint --all` on the two public monorepos of ../shared/monorepos, in one run.

Each monorepo is copied into a fresh git repository (one commit), then both tools run over every chart, offline,
the same machine, one after the other. Prints the wall times, how each ended, and Portico's per-chart times;
`--json FILE` keeps them (benchmarks/results/ci.json; docs/benchmarks.md quotes them). Not in CI: minutes.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))

from portico.toolchain.locate import tool_path, tools_env  # noqa: E402

MONOREPOS = REPO.parent / "shared" / "monorepos"
# (name, what to copy, ct's arguments: grafana has its ct.yaml, bitnami has none)
REPOS = (
    ("grafana-helm-charts", ["ct.yaml", "charts"], ["--config", "ct.yaml"]),
    ("bitnami-charts", ["bitnami"], ["--chart-dirs", "bitnami"]),
)


def git_copy(name: str, parts: list[str], dest: Path) -> Path:
    dest.mkdir(parents=True)
    for part in parts:
        src = MONOREPOS / name / part
        (shutil.copytree if src.is_dir() else shutil.copy)(src, dest / part)
    for args in (["init", "-q", "-b", "main"], ["add", "-A"],
                 ["-c", "user.email=b@portico.test", "-c", "user.name=bench", "commit", "-qm", "snapshot"]):
        subprocess.run(["git", "-C", str(dest), *args], check=True)
    return dest


def timed(cmd: list[str], cwd: Path) -> tuple[float, subprocess.CompletedProcess]:
    start = time.perf_counter()
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=tools_env())
    return time.perf_counter() - start, done


def bench(name: str, parts: list[str], ct_args: list[str]) -> dict:
    with tempfile.TemporaryDirectory(prefix=f"portico-bench-ci-{name}-") as tmp:
        root = git_copy(name, parts, Path(tmp) / name)
        report = Path(tmp) / "ci.json"
        portico_s, portico = timed([sys.executable, "-m", "portico.cli", "ci", str(root), "--all", "--json",
                                    str(report), "-o", str(Path(tmp) / "out")], root)
        # ct finds its chart schema and yamllint config in ~/.ct or /etc/ct when installed from a release;
        # the ones it ships are in this repository's ci/ (what `make lint` passes too).
        ct_s, ct = timed([tool_path("ct"), "lint", "--all", *ct_args, "--validate-maintainers=false",
                          "--check-version-increment=false", "--chart-yaml-schema", str(REPO / "ci/chart_schema.yaml"),
                          "--lint-conf", str(REPO / "ci/lintconf.yaml")], root)
        data = json.loads(report.read_text()) if report.exists() else {"charts": []}
    rows = data["charts"]
    skipped = [r["chart"] for r in rows if r["dependencies"] == "error"]
    ct_tail = (ct.stderr.strip() or ct.stdout.strip()).splitlines()[-1:] or [""]
    return {"repo": name, "charts": len(rows), "portico_seconds": round(portico_s, 1), "portico_exit": portico.returncode,
            "traceback": "Traceback" in portico.stderr, "failed": data.get("charts_failed"), "skipped": skipped,
            "ct_seconds": round(ct_s, 1), "ct_exit": ct.returncode, "ct_last_line": ct_tail[0][:300],
            "per_chart": {r["path"]: {"seconds": r["seconds"], "lint": r["lint"], "version": r["version"],
                                      "matrix": r["matrix"], "dependencies": r["dependencies"],
                                      "problems": r["problems"]} for r in rows}}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("--only", choices=[r[0] for r in REPOS])
    args = parser.parse_args()
    results = [bench(*r) for r in REPOS if args.only in (None, r[0])]
    print(f"{'repository':<22} {'charts':>6} {'portico ci --all':>17} {'failed':>7} {'skipped':>8} "
          f"{'ct lint --all':>14}  ct ended with")
    for r in results:
        print(f"{r['repo']:<22} {r['charts']:>6} {r['portico_seconds']:>15.1f}s {r['failed']!s:>7} "
              f"{len(r['skipped']):>8} {r['ct_seconds']:>13.1f}s  exit {r['ct_exit']}: {r['ct_last_line'][:90]}")
    if args.json:
        args.json.write_text(json.dumps({"results": results}, indent=2) + "\n")
    return 0 if all(not r["traceback"] and r["portico_exit"] in (0, 1) for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
