"""Throwaway Dagster projects laid out exactly as `create-dagster project` 1.13.27 lays them.

The files that `dg` reads (pyproject.toml, src/<name>/...) are byte-identical to what
create-dagster writes; tests/test_project_skeleton.py runs the real create-dagster and
compares. Left out, because neither `dg check defs` nor `dg launch` reads them: README.md,
.gitignore, .dg/telemetry.yaml, uv.lock and the project's own .venv. Instead of a venv
per project, the harness runs its own interpreter with src/ on PYTHONPATH, which is
what the editable install in a create-dagster venv amounts to.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path

SKELETON = Path(__file__).parent / "project_skeleton"
# The version matrix (evals/matrix.py) points this at the files an older create-dagster writes.
SKELETON_ENV = "DLT_DAGSTER_EVALS_SKELETON"


def skeleton_dir() -> Path:
    override = os.environ.get(SKELETON_ENV)
    return Path(override) if override else SKELETON


# Variables that would leak the caller's configuration into a case.
LEAKY_ENV_PREFIXES = (
    "DAGSTER_",
    "DLT_",
    "SOURCES__",
    "DESTINATION__",
    "RUNTIME__",
    "NORMALIZE__",
    "LOAD__",
    "EXTRACT__",
)
LEAKY_ENV_NAMES = ("PYTHONPATH", "VIRTUAL_ENV")


@dataclass(frozen=True)
class Project:
    root: Path
    name: str

    @property
    def package_dir(self) -> Path:
        return self.root / "src" / self.name

    @property
    def defs_dir(self) -> Path:
        return self.package_dir / "defs"


def create_project(root: Path, name: str) -> Project:
    """Write a fresh project named `name` into the empty or missing folder `root`."""
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty")
    project = Project(root=root, name=name)
    project.defs_dir.mkdir(parents=True)
    (root / "tests").mkdir()
    skeleton = skeleton_dir()
    pyproject = (skeleton / "pyproject.toml").read_text(encoding="utf-8")
    (root / "pyproject.toml").write_text(pyproject.replace("{name}", name), encoding="utf-8")
    (project.package_dir / "definitions.py").write_bytes((skeleton / "definitions.py").read_bytes())
    for init in (project.package_dir, project.defs_dir, root / "tests"):
        (init / "__init__.py").write_text("\n", encoding="utf-8")
    return project


def clean_env() -> dict[str, str]:
    """The caller's environment without anything that configures Dagster, dlt or imports."""
    return {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(LEAKY_ENV_PREFIXES) and key not in LEAKY_ENV_NAMES
    }


def isolated_env(project: Project, case_dir: Path) -> dict[str, str]:
    """Environment for one case: its own DAGSTER_HOME, dlt data dir, HOME, TMPDIR, import path."""
    env = clean_env()
    dagster_home = case_dir / "dagster_home"
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    dlt_data = case_dir / "dlt_data"
    home = case_dir / "home"
    tmp = case_dir / "tmp"
    for folder in (dlt_data, home, tmp):
        folder.mkdir(exist_ok=True)
    env.update(
        DAGSTER_HOME=str(dagster_home),
        DLT_DATA_DIR=str(dlt_data),
        # ~/.dagster (user telemetry ids, logs) and ~/.dlt land in the case, not the user's home
        HOME=str(home),
        TMPDIR=str(tmp),
        # dlt's telemetry writes .anonymous_id into its machine-wide folder (/var/dlt as root)
        RUNTIME__DLTHUB_TELEMETRY="false",
        PYTHONPATH=str(project.root / "src"),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        PYTHONUNBUFFERED="1",
        NO_COLOR="1",
    )
    return env
