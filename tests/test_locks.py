"""Two Portico processes building the same cache output at once: one builds, the other waits and reuses it."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from portico import locks


def test_the_lock_holds_off_another_process_until_released(tmp_path):
    """The lock is real across processes: a child holding it makes a non-blocking attempt here fail."""
    import fcntl

    out = tmp_path / "thing"
    child = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from portico import locks\n"
        f"with locks.building(Path({str(out)!r})):\n    print('held', flush=True); time.sleep(3)\n")],
        stdout=subprocess.PIPE, text=True)
    assert child.stdout.readline().strip() == "held"
    with open(tmp_path / ".thing.lock", "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            raised = False
        except BlockingIOError:
            raised = True
    assert raised, "another process took the lock the child holds"
    started = time.monotonic()
    with locks.building(out):  # waits for the child
        waited = time.monotonic() - started
    assert child.wait(timeout=30) == 0 and waited > 0.5


def test_two_setups_build_the_renderer_once(tmp_path):
    """The race a full test run met: two processes building one output into the same cache."""
    env = {**os.environ, "PORTICO_CACHE": str(tmp_path / "cache")}
    cmd = [sys.executable, "-m", "portico.cli", "setup", "portico-render"]
    first, second = (subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                     for _ in range(2))
    outputs = [p.communicate(timeout=600)[0] for p in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    assert sum("built from the package's renderer source" in o for o in outputs) == 1, outputs
    assert sum("built by another portico" in o for o in outputs) == 1, outputs
    binary = tmp_path / "cache" / "bin" / "portico-render"
    done = subprocess.run([str(binary)], capture_output=True, text=True)
    assert done.returncode == 2 and "-chart is required" in done.stderr
    assert not list((tmp_path / "cache" / "bin").glob(".portico-render.tmp*"))
