"""Run the evals CLI as a child, wait until a case's asset writes its marker file, then Ctrl-C it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from evals.skill import SKILL_ROOT


def interrupt_when_started(
    cli_args: list[str], marker: Path, tmpdir: Path, on_started=None, wait: float = 120
) -> tuple[int, str]:
    """`python -m evals.cli CLI_ARGS` (TMPDIR=tmpdir) until `marker` exists; then `on_started()`
    if given, SIGINT, and the child's exit code and output."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "evals.cli", *cli_args],
        cwd=SKILL_ROOT,
        env={**os.environ, "TMPDIR": str(tmpdir)},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + wait
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert marker.exists(), f"the hanging asset never wrote {marker}"
        if on_started is not None:
            on_started()
        proc.send_signal(signal.SIGINT)
        output, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    return proc.returncode, output
