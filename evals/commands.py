"""Run one CLI command for a case: hard timeout, bounded file size, killable process tree.

Every command runs in its own session (process group). Live groups are tracked so an
interrupted run can kill them all (kill_all), and each command's files are capped with
RLIMIT_FSIZE so a runaway case cannot fill the disk: a write past the cap kills the
command with SIGXFSZ.
"""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import threading
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MAX_FILE_BYTES = 1 << 30  # 1 GiB per file written by a case's commands

_live_groups: set[int] = set()
_live_lock = threading.Lock()
cancelled = threading.Event()  # set when the run is interrupted: no new command starts


class Cancelled(Exception):
    """The run was interrupted; the command was not started or was killed."""


@dataclass(frozen=True)
class CommandResult:
    args: tuple[str, ...]
    returncode: int | None  # None: killed at the timeout; negative: killed by that signal
    output: str  # stdout and stderr, interleaved as printed (stdout alone with stderr_apart)
    seconds: float
    stderr: str = ""  # with stderr_apart only

    @property
    def timed_out(self) -> bool:
        return self.returncode is None

    def death(self, max_file_bytes: int) -> str:
        """Why the command died, when a signal killed it ('' otherwise)."""
        if self.returncode is None or self.returncode >= 0:
            return ""
        name = signal.Signals(-self.returncode).name
        if -self.returncode == signal.SIGXFSZ:
            return f"killed by {name}: a file grew past the {max_file_bytes // (1 << 20)} MiB limit"
        return f"killed by {name}"


def register(pgid: int) -> None:
    with _live_lock:
        _live_groups.add(pgid)


def unregister(pgid: int) -> None:
    with _live_lock:
        _live_groups.discard(pgid)


def kill_all() -> None:
    """Kill every live command's process group (used when the run is interrupted)."""
    cancelled.set()
    with _live_lock:
        groups = list(_live_groups)
    for pgid in groups:
        try:
            os.killpg(pgid, signal.SIGKILL)
        except ProcessLookupError:  # not a group leader yet: kill the process itself
            try:
                os.kill(pgid, signal.SIGKILL)
            except ProcessLookupError:
                pass


def limit_file_size(max_file_bytes: int) -> None:
    resource.setrlimit(resource.RLIMIT_FSIZE, (max_file_bytes, max_file_bytes))


def run_command(
    args: list[str],
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    *,
    stdin_text: str | None = None,
    stderr_apart: bool = False,
    as_user: dict | None = None,
) -> CommandResult:
    """Run args to completion or the timeout (then its whole process group is killed).

    stdin_text is fed to its stdin (otherwise /dev/null); stderr_apart keeps stderr out of
    `output` (for commands whose stdout is parsed); as_user holds Popen's user/group/cwd
    arguments for a command that must run as another user.
    """
    if cancelled.is_set():
        raise Cancelled()
    start = time.monotonic()
    popen_args = {"cwd": cwd, **(as_user or {})}
    proc = subprocess.Popen(
        args,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE if stderr_apart else subprocess.STDOUT,
        stdin=subprocess.DEVNULL if stdin_text is None else subprocess.PIPE,
        text=True,
        errors="replace",
        start_new_session=True,  # its own process group, so a timeout kills the children too
        preexec_fn=lambda: limit_file_size(max_file_bytes),
        **popen_args,
    )
    register(proc.pid)
    try:
        try:
            output, errors = proc.communicate(input=stdin_text, timeout=timeout)
            returncode: int | None = proc.returncode
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output, errors = proc.communicate()
            returncode = None
    finally:
        unregister(proc.pid)
    if cancelled.is_set():
        raise Cancelled()
    return CommandResult(tuple(args), returncode, output or "", time.monotonic() - start, errors or "")
