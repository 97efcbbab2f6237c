"""What an installed copy of the skill must hold, and what it must not.

The `skills` CLI (1.7.4) copies the whole skill folder. For a GitHub source it copies a
shallow `git clone`, so only committed files; for a local path it copies the folder as it
is. Its only exclusions are hard-coded (dist/cli.mjs, `copyDirectory`): folders named
.git, __pycache__ or __pypackages__ and files named metadata.json. It reads no ignore file
(.gitignore, .gitattributes export-ignore, or a list of its own), so nothing in the repository
can keep evals/, tests/ or pyproject.toml out of an install while the repository root is
the skill root. What keeps virtual envs, caches and DuckDB files out is that they are
not committed: `clean_checkout` copies exactly what a clone would hold.
"""

from __future__ import annotations

import fnmatch
import shutil
import subprocess
from pathlib import Path

# Excluded by the skills CLI itself (see the module docstring).
CLI_EXCLUDED_DIRS = {".git", "__pycache__", "__pypackages__"}
CLI_EXCLUDED_FILES = {"metadata.json"}

# Must never ship: virtual envs, tool caches, databases, build output, local secrets.
UNWANTED_DIRS = {
    ".venv",
    "venv",
    "node_modules",
    "__pycache__",
    ".pytest_cache",
    ".ruff_cache",
    ".mypy_cache",
    ".tox",
    ".nox",
    "build",
    "dist",
    "eval-reports",
    "dagster_home",
    ".dagster",
}
UNWANTED_FILE_PATTERNS = ("*.duckdb", "*.duckdb.wal", "*.pyc", "*.egg-info", ".env", "secrets.toml", "*.bak")


def unwanted_files(installed: Path) -> list[str]:
    """Paths (relative to `installed`) of things that must not ship."""
    found = []
    for path in sorted(installed.rglob("*")):
        relative = path.relative_to(installed)
        if path.is_dir() and path.name in UNWANTED_DIRS:
            found.append(f"{relative}/")
        elif any(fnmatch.fnmatch(path.name, pattern) for pattern in UNWANTED_FILE_PATTERNS):
            found.append(str(relative))
    # report a folder once, not every file inside it
    return [p for p in found if not any(p != q and p.startswith(q) for q in found if q.endswith("/"))]


def files_under(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def expected_install(source: Path) -> set[str]:
    """The files the skills CLI copies from `source`, by its own exclusion rules."""
    return {
        name
        for name in files_under(source)
        if not CLI_EXCLUDED_DIRS.intersection(Path(name).parts[:-1])
        and Path(name).name not in CLI_EXCLUDED_FILES
    }


def clean_checkout(repo: Path, target: Path) -> Path:
    """Copy what a clone of `repo`'s work tree would hold (tracked and unignored files) to target.

    Uncommitted edits are included, so the install test sees the work tree as it is; ignored
    files (.venv, caches, *.duckdb, ...) are not, exactly as in a clone.
    """
    done = subprocess.run(
        ["git", "-C", str(repo), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"{repo} is not a git checkout, so what a clone holds is unknown: {done.stderr.decode()}"
        )
    listed = done.stdout.decode()
    target.mkdir(parents=True)
    for name in filter(None, listed.split("\0")):
        source = repo / name
        if not source.is_file():  # deleted in the work tree but not yet in the index
            continue
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target / name)
    return target
