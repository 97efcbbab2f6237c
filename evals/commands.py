"""Run one CLI command for a case, with a hard timeout that kills its whole process tree."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class CommandResult:
    args: tuple[str, ...]
    returncode: int | None  # None: killed at the timeout
    output: str  # stdout and stderr, interleaved as printed
    seconds: float

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    @property
    def display(self) -> str:
        return " ".join(self.args)


def run_command(args: list[str], cwd: Path, env: dict[str, str], timeout: float) -> CommandResult:
    start = time.monotonic()
    proc = subprocess.Popen(
        args,
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        text=True,
        errors="replace",
        start_new_session=True,  # its own process group, so a timeout kills the children too
    )
    try:
        output, _ = proc.communicate(timeout=timeout)
        returncode: int | None = proc.returncode
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        output, _ = proc.communicate()
        returncode = None
    return CommandResult(tuple(args), returncode, output or "", time.monotonic() - start)
