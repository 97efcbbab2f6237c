"""The harness's classic code location matches what the real `dagster project scaffold` writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from evals.classic_project import create_classic_project

# Files `dagster project scaffold` writes that no `dagster` command reads.
NOT_READ_BY_DAGSTER = {"README.md", "evalproj_tests/__init__.py", "evalproj_tests/test_assets.py"}


def test_classic_skeleton_is_identical_to_dagster_project_scaffold(tmp_path):
    dagster = Path(sys.executable).parent / "dagster"
    done = subprocess.run(
        [str(dagster), "project", "scaffold", "--name", "evalproj"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    real = tmp_path / "evalproj"
    ours = create_classic_project(tmp_path / "ours", "evalproj")

    def files(root):
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}

    real_files = files(real) - NOT_READ_BY_DAGSTER
    assert files(ours.root) == real_files
    for name in sorted(real_files):
        assert (ours.root / name).read_bytes() == (real / name).read_bytes(), name
