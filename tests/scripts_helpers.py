"""Shared helpers for the tests of scripts/: run a script, hash a tree."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

from evals.project import Project, create_project, isolated_env
from evals.skill import SKILL_ROOT

SCRIPTS = SKILL_ROOT / "scripts"


def new_project(tmp_path: Path, name: str = "userproj") -> tuple[Project, dict[str, str]]:
    project = create_project(tmp_path / name, name)
    return project, isolated_env(project, tmp_path / f"{name}-case")


def run_script(script: str, *args: str, cwd: Path, env: dict[str, str] | None = None, **kwargs):
    return subprocess.run(
        [sys.executable, str(SCRIPTS / script), *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        **kwargs,
    )


def tree_hash(root: Path) -> str:
    """Hash of every path, mode and file content below root (symlinks by their target)."""
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*")):
        digest.update(str(path.relative_to(root)).encode())
        if path.is_symlink():
            digest.update(str(path.readlink()).encode())
        elif path.is_file():
            digest.update(oct(path.stat().st_mode).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()
