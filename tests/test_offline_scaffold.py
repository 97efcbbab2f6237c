"""The offline failure of a verified-source scaffold, as troubleshooting.md describes it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.scripts_helpers import new_project

pytestmark = pytest.mark.slow


def dg_scaffold(tmp_path, name: str, source: str):
    """The real `dg scaffold defs` for the dlt component, in a fresh project."""
    project, env = new_project(tmp_path)
    dg = Path(sys.executable).parent / "dg"
    args = [
        "scaffold",
        "defs",
        "dagster_dlt.DltLoadCollectionComponent",
        name,
        "--source",
        source,
        "--destination",
        "duckdb",
    ]
    done = subprocess.run(
        [str(dg), *args],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        stdin=subprocess.DEVNULL,
    )
    return project, done


def test_dg_scaffold_with_a_verified_source_fails_offline_and_leaves_an_empty_folder(tmp_path):
    project, done = dg_scaffold(tmp_path, "gh", "github")
    output = done.stdout + done.stderr
    if done.returncode == 0:
        pytest.skip("this machine reached github.com, so the offline failure cannot be shown")
    assert "Could not resolve host: github.com" in output
    assert "Command '['dlt', 'init', 'github', 'duckdb']' returned non-zero exit status" in output
    folder = project.defs_dir / "gh"
    assert folder.is_dir() and not any(folder.iterdir())


def test_dg_scaffold_with_a_core_source_works_offline_and_leaves_the_hello_world_loads(tmp_path):
    project, done = dg_scaffold(tmp_path, "rest", "rest_api")
    assert done.returncode == 0, done.stdout + done.stderr
    folder = project.defs_dir / "rest"
    # (the scaffolder runs `ruff format` on loads.py when ruff is on PATH, leaving a .ruff_cache)
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == ["defs.yaml", "loads.py"]
    loads = (folder / "loads.py").read_text()
    assert 'dlt.pipeline(destination="duckdb")' in loads  # unnamed: replace it
    assert "hello_world" in loads


def test_after_deleting_the_empty_folder_a_core_source_scaffolds_offline(tmp_path):
    """troubleshooting.md, Could not resolve host: github.com: the fix, in the same project
    (delete the empty folder, scaffold a core source under the same name, check)."""
    project, env = new_project(tmp_path)
    dg = str(Path(sys.executable).parent / "dg")

    def run(*args):
        return subprocess.run(
            [dg, *args],
            cwd=project.root,
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
            stdin=subprocess.DEVNULL,
        )

    component = ["scaffold", "defs", "dagster_dlt.DltLoadCollectionComponent", "gh"]
    failed = run(*component, "--source", "github", "--destination", "duckdb")
    if failed.returncode == 0:
        pytest.skip("this machine reached github.com, so the offline failure cannot be shown")
    assert "Could not resolve host: github.com" in failed.stdout + failed.stderr
    (project.defs_dir / "gh").rmdir()  # empty, as the entry says: rmdir refuses anything else
    scaffolded = run(*component, "--source", "rest_api", "--destination", "duckdb")
    assert scaffolded.returncode == 0, scaffolded.stdout + scaffolded.stderr
    checked = run("check", "defs")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "All definitions loaded successfully." in checked.stdout + checked.stderr
