"""The load generator's ceiling on this machine: vegeta against the Python thread generator it replaced.

Both drive Portico's test app on 127.0.0.1 (built from tools/portico/data/testapp)
for a few seconds per rate, half kept-alive and half fresh connections, as the
upgrade check does. Reported per asked rate: the rate each achieved (answered
requests per second), failures and p99 latency; then a stall (every response
held 500 ms): how many requests each sent of those the schedule asked for, which
is coordinated omission made visible. Usage:

    .venv/bin/python benchmarks/bench_load.py [--seconds 4] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tools"))
sys.path.insert(0, str(REPO / "benchmarks"))

from portico.net import free_port  # noqa: E402
from portico.paths import data_path  # noqa: E402
from portico.zerodowntime.load import LoadGenerator, Target, percentile  # noqa: E402
import python_load  # noqa: E402

RATES = (500, 1000, 2000, 4000, 8000, 12000)


def start_app(binary: Path, port: int) -> subprocess.Popen:
    proc = subprocess.Popen([str(binary)], env={**os.environ, "PORT": str(port)}, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    for _ in range(50):
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return proc
        except OSError:
            time.sleep(0.1)
    raise SystemExit("the test app did not start")


def measure(make, seconds: float) -> dict:
    gen = make()
    gen.start()
    time.sleep(seconds)
    run = gen.stop()
    ok = [s for s in run.samples if s.ok]
    return {"sent": len(run.samples), "answered_per_s": round(len(ok) / seconds, 1),
            "failed": len(run.samples) - len(ok), "p99_ms": round(percentile([s.latency for s in ok], 0.99) * 1000, 1)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        binary = Path(tmp) / "testapp"
        subprocess.run(["go", "build", "-o", str(binary), "."], cwd=data_path("testapp"), check=True,
                       env={**os.environ, "CGO_ENABLED": "0"})
        port = free_port()
        app = start_app(binary, port)
        rows = []
        try:
            for rate in RATES:
                target = [Target("app", f"http://127.0.0.1:{port}/")]
                vegeta = measure(lambda: LoadGenerator(target, rate_per_target=rate, max_seconds=60), args.seconds)
                python = measure(lambda: python_load.LoadGenerator(target, rate_per_target=rate, max_seconds=60,
                                                                   workers_per_mode=8), args.seconds)
                rows.append({"rate": rate, "vegeta": vegeta, "python": python})
            stalled = [Target("stall", f"http://127.0.0.1:{port}/?delay=500ms")]
            stall = {"rate": 200, "asked": int(200 * args.seconds),
                     "vegeta": measure(lambda: LoadGenerator(stalled, rate_per_target=200, max_seconds=60),
                                       args.seconds),
                     "python": measure(lambda: python_load.LoadGenerator(stalled, rate_per_target=200, max_seconds=60,
                                                                         workers_per_mode=8), args.seconds)}
        finally:
            app.terminate()
            app.wait()
    print(f"machine: {platform.machine()}, {os.cpu_count()} cores; {args.seconds:g} s per rate, one target, "
          "half kept-alive, half fresh connections (vegeta: fresh ones capped by the local ports)")
    print(f"{'asked/s':>8} {'vegeta/s':>9} {'failed':>7} {'p99 ms':>7}   {'python/s':>9} {'failed':>7} {'p99 ms':>7}"
          f" {'ratio':>6}")
    for r in rows:
        v, p = r["vegeta"], r["python"]
        print(f"{r['rate']:>8} {v['answered_per_s']:>9} {v['failed']:>7} {v['p99_ms']:>7}   "
              f"{p['answered_per_s']:>9} {p['failed']:>7} {p['p99_ms']:>7} {v['answered_per_s'] / max(p['answered_per_s'], 1):>5.1f}x")
    print(f"stall (every response held 500 ms, {stall['rate']}/s asked = {stall['asked']} requests): "
          f"vegeta sent {stall['vegeta']['sent']}, python sent {stall['python']['sent']}")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"rows": rows, "stall": stall, "seconds": args.seconds,
                                         "cores": os.cpu_count()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
