"""The harness's throwaway projects match what the real create-dagster 1.13.27 writes."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from evals.project import create_project

pytestmark = pytest.mark.slow

# Files create-dagster writes that neither `dg check defs` nor `dg launch` reads.
NOT_READ_BY_DG = {"README.md", ".gitignore", ".dg/telemetry.yaml"}


def test_skeleton_is_identical_to_create_dagster(tmp_path):
    uvx = shutil.which("uvx")
    if uvx is None:
        pytest.skip("uvx is not on PATH")
    real = tmp_path / "real" / "evalproj"
    real.parent.mkdir()
    done = subprocess.run(
        [uvx, "create-dagster@1.13.27", "project", "evalproj", "--no-uv-sync"],
        cwd=real.parent,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    ours = create_project(tmp_path / "ours", "evalproj")

    def files(root):
        return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}

    real_files = files(real) - NOT_READ_BY_DG
    assert files(ours.root) == real_files
    for name in sorted(real_files):
        assert (ours.root / name).read_bytes() == (real / name).read_bytes(), name
