"""Detect files a case wrote outside its own temp folder.

Each case gets its own HOME, TMPDIR, DAGSTER_HOME and DLT_DATA_DIR, so nothing it does
legitimately lands elsewhere. The guard snapshots the places a stray write would hit
(the skill checkout, the harness's working directory, the user's ~/.dlt, dlt's
machine-wide /var/dlt and /tmp/dlt) before a case and compares after it.

~/.dagster is not watched: any `dg` run on the machine appends to its telemetry log, so it
would blame a case for another program's write. Cases get their own HOME, so their
~/.dagster is inside their temp folder (tests/test_faults.py checks HOME per case).
A write by another program into a watched place while a case runs is reported too: the
message says "while this case ran".
"""

from __future__ import annotations

import os
from pathlib import Path

from evals.skill import SKILL_ROOT

SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "node_modules", ".cache"}
MAX_FILES = 20000  # a bound on the walk; watched places are small


def watched_roots() -> list[Path]:
    home = Path(os.environ.get("HOME", "~")).expanduser()
    roots = [SKILL_ROOT, Path.cwd(), home / ".dlt", Path("/var/dlt"), Path("/tmp/dlt")]
    unique: list[Path] = []
    for root in roots:
        if root.exists() and root not in unique:
            unique.append(root)
    return unique


Snapshot = dict[str, tuple[int, int]]


def snapshot(roots: list[Path]) -> Snapshot:
    state: Snapshot = {}
    for root in roots:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [
                d for d in dirnames if d not in SKIP_DIRS and not d.startswith("dlt-dagster-eval-")
            ]
            for name in filenames:
                path = os.path.join(dirpath, name)
                try:
                    info = os.lstat(path)
                except OSError:
                    continue
                state[path] = (info.st_mtime_ns, info.st_size)
                if len(state) >= MAX_FILES:
                    return state
    return state


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """Paths created or modified between two snapshots (deletions are not writes we flag)."""
    return sorted(path for path, stamp in after.items() if before.get(path) != stamp)
