from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evals.skill import SKILL_ROOT, templating

CASES_DIR = SKILL_ROOT / "evals" / "cases"


@pytest.fixture
def templates_copy(tmp_path: Path) -> Path:
    """A private copy of assets/templates that a test may break."""
    target = tmp_path / "templates"
    shutil.copytree(templating.TEMPLATES_DIR, target)
    return target


@pytest.fixture
def cases_copy(tmp_path: Path) -> Path:
    """A private copy of evals/cases that a test may break."""
    target = tmp_path / "cases"
    shutil.copytree(CASES_DIR, target)
    return target


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")
