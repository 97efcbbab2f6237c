"""Stop a server whose owner died without stopping it (SIGKILL, OOM kill, a crashed CI job).

`python orphan_watch.py PGID FOLDER` reads its stdin, a pipe whose only writer is the
owner. The read ends (end of file) when the owner closes it, and the kernel closes it when
the owner dies, however it dies. An owner that stopped the server itself writes `stopped`
first, and the watcher just exits. Otherwise it ends process group PGID (SIGINT, then
SIGKILL after 10 s) and deletes FOLDER.

atexit and signal handlers cannot do this: nothing runs in a process that got SIGKILL.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import sys
import time
from pathlib import Path

GRACE_SECONDS = 10.0
STOPPED = b"stopped"  # what an owner that stopped the server itself writes


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def end_group(pgid: int) -> None:
    """SIGINT to the group (PostgreSQL's fast shutdown), SIGKILL if it outlives the grace."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGINT)
    deadline = time.monotonic() + GRACE_SECONDS
    while _group_alive(pgid) and time.monotonic() < deadline:
        time.sleep(0.1)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def main(argv: list[str]) -> int:
    pgid, folder = int(argv[0]), Path(argv[1])
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a Ctrl-C is the owner's to handle
    said = sys.stdin.buffer.read()  # returns at end of file: the owner closed it, or died
    if said.strip() == STOPPED:
        return 0
    if _group_alive(pgid):
        end_group(pgid)
    shutil.rmtree(folder, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
