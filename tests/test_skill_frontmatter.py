"""SKILL.md's frontmatter passes the Agent Skills reference validator (PyPI skills-ref)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from evals.skill import SKILL_ROOT

AGENTSKILLS = Path(sys.executable).parent / "agentskills"
needs_validator = pytest.mark.skipif(
    not AGENTSKILLS.exists(), reason="skills-ref needs Python >= 3.11; not installed on this interpreter"
)


def validate(skill_dir: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(AGENTSKILLS), "validate", str(skill_dir)], capture_output=True, text=True, timeout=60
    )


def copy_skill(tmp_path: Path, dir_name: str) -> Path:
    target = tmp_path / dir_name
    target.mkdir()
    shutil.copy(SKILL_ROOT / "SKILL.md", target / "SKILL.md")
    return target


@needs_validator
def test_skill_md_passes_agentskills_validate(tmp_path):
    result = validate(copy_skill(tmp_path, "dlt-dagster"))
    assert result.returncode == 0, result.stdout + result.stderr


@needs_validator
def test_validator_rejects_a_directory_that_does_not_match_the_name(tmp_path):
    result = validate(copy_skill(tmp_path, "dlt_dagster"))
    assert result.returncode != 0
    assert "must match skill name" in result.stdout + result.stderr


def test_frontmatter_names_the_skill_and_stays_within_limits():
    text = (SKILL_ROOT / "SKILL.md").read_text(encoding="utf-8")
    _, frontmatter, body = text.split("---\n", 2)
    meta = yaml.safe_load(frontmatter)
    assert meta["name"] == "dlt-dagster"
    assert 0 < len(meta["description"]) <= 1024
    assert len(text.splitlines()) < 500
    assert "dagster-integrations" not in body.replace("replaced `dagster-integrations`", "")
