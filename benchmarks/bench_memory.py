"""Peak memory of a command's whole process tree (default: `make check`), sampled from /proc.

getrusage reports the largest single process; this adds up the RSS of every
process of the tree (portico, portico-render, kube-apiserver, etcd, kubeconform)
every 100 ms and reports the peak of the sum and the largest processes then.

    .venv/bin/python benchmarks/bench_memory.py [--json out.json] [-- COMMAND ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def tree(root: int) -> dict[int, tuple[str, int]]:
    """pid -> (name, RSS KiB) of root and its descendants."""
    parents: dict[int, int] = {}
    info: dict[int, tuple[str, int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        parents[int(entry)] = int(fields.get("PPid", "0").strip())
        rss = int(fields.get("VmRSS", "0 kB").split()[0]) if "VmRSS" in fields else 0
        info[int(entry)] = (fields.get("Name", "?").strip(), rss)
    keep, frontier = {root}, [root]
    while frontier:
        pid = frontier.pop()
        for child, parent in parents.items():
            if parent == pid and child not in keep:
                keep.add(child)
                frontier.append(child)
    return {pid: info[pid] for pid in keep if pid in info}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", type=Path)
    parser.add_argument("command", nargs="*", default=["make", "check"])
    args = parser.parse_args()
    started = time.monotonic()
    proc = subprocess.Popen(args.command, cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak, at_peak = 0, {}
    while proc.poll() is None:
        sample = tree(proc.pid)
        total = sum(rss for _, rss in sample.values())
        if total > peak:
            peak, at_peak = total, sample
        time.sleep(0.1)
    seconds = time.monotonic() - started
    top = sorted(at_peak.values(), key=lambda x: -x[1])[:5]
    print(f"{' '.join(args.command)}: exit {proc.returncode}, {seconds:.1f} s, peak RSS of the process tree "
          f"{peak / 1024:.0f} MiB")
    for name, rss in top:
        print(f"  {name:<20} {rss / 1024:7.0f} MiB")
    if args.json:
        args.json.write_text(json.dumps({"command": args.command, "exit": proc.returncode, "seconds": seconds,
                                         "peak_rss_mib": peak / 1024,
                                         "largest_at_peak": [{"name": n, "rss_mib": r / 1024} for n, r in top]},
                                        indent=2))
    return 0 if proc.returncode == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
