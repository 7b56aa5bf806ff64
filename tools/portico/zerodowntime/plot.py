"""A picture of one upgrade: requests per second (ok by version, failed by class), pods, the rollout window."""

from __future__ import annotations

from pathlib import Path

from portico.zerodowntime.load import Run
from portico.zerodowntime.verdict import UpgradeReport


def plot(report: UpgradeReport, run: Run, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    seconds = int(run.duration) + 1
    bad: dict[str, list[int]] = {}
    versions: dict[str, list[int]] = {}
    for s in run.samples:
        i = max(0, min(int(s.start), seconds - 1))
        if s.ok:
            versions.setdefault(s.version or "?", [0] * seconds)[i] += 1
        else:
            key = f"{s.error}/{s.component}" if s.component else str(s.error)
            bad.setdefault(key, [0] * seconds)[i] += 1
    fig, (ax1, ax2) = plt.subplots(2, 1, figsize=(10, 6), sharex=True, gridspec_kw={"height_ratios": [3, 1]})
    xs = list(range(seconds))
    for version, counts in sorted(versions.items()):
        ax1.plot(xs, counts, label=f"ok from {version}")
    bottom = [0] * seconds
    colours = {"refused": "red", "reset": "darkred", "eof": "orange", "timeout": "purple", "http/proxy": "magenta",
               "http/app": "brown", "grpc": "teal", "client": "olive", "other": "black"}
    for key, counts in sorted(bad.items()):
        ax1.bar(xs, counts, bottom=bottom, color=colours.get(key, colours.get(key.partition("/")[0], "grey")), label=f"failed: {key}", width=1.0,
                alpha=0.7)
        bottom = [a + b for a, b in zip(bottom, counts)]
    ax1.set_ylabel("requests / s")
    verdict = "PASS" if report.passed else "FAIL"
    ax1.set_title(f"{report.scenario}: {report.from_label} -> {report.to_label} — {report.requests} requests, "
                  f"{report.failed} failed ({verdict})")
    for ax in (ax1, ax2):
        ax.axvspan(report.upgrade_started, report.upgrade_finished, color="grey", alpha=0.15, label="rollout")
    ax1.legend(loc="upper left", fontsize=8)
    ax2.step([p.t for p in report.pods], [p.ready for p in report.pods], where="post", label="ready pods")
    ax2.step([p.t for p in report.pods], [p.terminating for p in report.pods], where="post", label="terminating")
    ax2.set_ylabel("pods")
    ax2.set_xlabel("seconds since load start")
    ax2.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
