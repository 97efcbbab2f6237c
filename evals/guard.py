"""Detect files a case wrote outside its own temp folder.

Each case gets its own HOME, TMPDIR, DAGSTER_HOME and DLT_DATA_DIR, so nothing it does
legitimately lands elsewhere. The guard snapshots the places a stray write would hit
(the skill checkout, the harness's working directory, the user's ~/.dlt, dlt's
machine-wide /var/dlt and /tmp/dlt) before a case and compares after it.

Other programs write there too while a case runs (the user's own dlt pipelines, `dg dev`,
an editor saving a file, another case), so a change is blamed on the case only when the
case names it: a change under dlt's `pipelines/<name>/` when <name> is one of the case's
pipelines, any other change when its file name is. The case names what appears as a word
in its project's files (the code that would write there spells out the path, or the
pipeline name) or as a pipeline in its own dlt data folder. A write whose name the case
computes at run time from parts is missed; a write by another program to a pipeline that
the case also names is still blamed on the case.

~/.dagster is not watched: any `dg` run on the machine appends to its telemetry log, and
cases get their own HOME, so their ~/.dagster is inside their temp folder
(tests/test_faults.py checks HOME per case).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from evals.skill import SKILL_ROOT

SKIP_DIRS = {".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", "node_modules", ".cache"}
MAX_FILES = 20000  # a bound on the walk; watched places are small
MAX_TEXT_BYTES = 1 << 20  # files read for the case's names: text the case wrote, not data
WORD = re.compile(r"[A-Za-z0-9_.\-]+")


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


def names_of_case(project_root: Path, dlt_data_dir: Path) -> set[str]:
    """The words of the case's project files, and the pipelines in its own dlt data folder."""
    names: set[str] = set()
    for path in project_root.rglob("*"):
        if SKIP_DIRS.intersection(path.relative_to(project_root).parts) or not path.is_file():
            continue
        if path.stat().st_size <= MAX_TEXT_BYTES:
            names.update(WORD.findall(path.read_text(encoding="utf-8", errors="replace")))
    pipelines = dlt_data_dir / "pipelines"
    if pipelines.is_dir():
        names.update(p.name for p in pipelines.iterdir())
    return names


def named_part(path: str) -> str:
    """What names a changed file: its pipeline under dlt's pipelines/<name>/, else its name."""
    parts = Path(path).parts
    if "pipelines" in parts[:-2]:
        return parts[parts.index("pipelines") + 1]
    return parts[-1]


def case_writes(changed: list[str], case_names: set[str]) -> list[str]:
    """The changes the case made (see the module docstring)."""
    return [path for path in changed if named_part(path) in case_names]
