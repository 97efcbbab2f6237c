"""scripts/validate.py agrees with `agentskills validate` and checks this skill's budgets."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from evals.skill import SKILL_ROOT
from tests.scripts_helpers import run_script, tree_hash

AGENTSKILLS = Path(sys.executable).parent / "agentskills"

GOOD = "---\nname: {name}\ndescription: Does one thing well. Use when testing.\n---\n\n# Body\n"
FIXTURES = {
    # folder name: (SKILL.md text, valid?)
    "good-skill": (GOOD.format(name="good-skill"), True),
    "Bad-Case": (GOOD.format(name="Bad-Case"), False),
    "double--hyphen": (GOOD.format(name="double--hyphen"), False),
    "-leading": (GOOD.format(name="-leading"), False),
    "too-long": ("---\nname: too-long\ndescription: " + "x" * 1025 + "\n---\n", False),
    "no-description": ("---\nname: no-description\n---\n", False),
    "extra-field": (GOOD.format(name="extra-field").replace("---\n\n", "color: red\n---\n\n", 1), False),
    "mismatch": (GOOD.format(name="other-name"), False),
    "metadata-number": (
        GOOD.format(name="metadata-number").replace("---\n\n", "metadata:\n  version: 1\n---\n\n", 1),
        True,
    ),
    "no-frontmatter": ("# Just a body\n", False),
    "unclosed": ("---\nname: unclosed\ndescription: Does one thing.\n", False),
    "list-frontmatter": ("---\n- a\n- b\n---\n", False),
    "a" * 65: (GOOD.format(name="a" * 65), False),
    "empty-description": ("---\nname: empty-description\ndescription: ''\n---\n", False),
    "long-compat": (
        GOOD.format(name="long-compat").replace("---\n\n", f"compatibility: {'c' * 501}\n---\n\n", 1),
        False,
    ),
    "trailing-": (GOOD.format(name="trailing-"), False),
    "number-name": ("---\nname: 123\ndescription: Does one thing.\n---\n", False),
    "with-tools": (
        GOOD.format(name="with-tools").replace("---\n\n", "allowed-tools: Bash Read\n---\n\n", 1),
        True,
    ),
    "with-extras": (
        GOOD.format(name="with-extras").replace(
            "---\n\n", "license: MIT\ncompatibility: Python 3.11\nmetadata:\n  version: '1'\n---\n\n", 1
        ),
        True,
    ),
}


# Accepted by skills-ref 0.1, which does not check these fields' types, but refused here because
# the Agent Skills spec gives their types (license: a string; metadata: string keys to string values).
STRICTER_THAN_SKILLS_REF = {
    "metadata-not-a-mapping": ("metadata: hello\n", "frontmatter metadata: 'hello' is not of type 'object'"),
    "metadata-nested": ("metadata:\n  a:\n    b: c\n", "frontmatter metadata/a: {'b': 'c'} is not of type"),
    "license-a-number": ("license: 3\n", "frontmatter license: 3 is not of type 'string'"),
}


def make(tmp_path: Path, name: str, text: str) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    (folder / "SKILL.md").write_text(text)
    return folder


@pytest.mark.skipif(not AGENTSKILLS.exists(), reason="skills-ref needs Python >= 3.11")
@pytest.mark.parametrize("name", FIXTURES)
def test_agrees_with_agentskills_validate(tmp_path, name):
    text, valid = FIXTURES[name]
    folder = make(tmp_path, name, text)
    before = tree_hash(tmp_path)
    ours = run_script("validate.py", str(folder), cwd=tmp_path)
    reference = subprocess.run([str(AGENTSKILLS), "validate", str(folder)], capture_output=True, text=True)
    assert (ours.returncode == 0) == (reference.returncode == 0) == valid, ours.stdout + reference.stdout
    assert tree_hash(tmp_path) == before  # validating writes nothing


@pytest.mark.skipif(not AGENTSKILLS.exists(), reason="skills-ref needs Python >= 3.11")
@pytest.mark.parametrize("name", STRICTER_THAN_SKILLS_REF)
def test_refuses_field_types_that_skills_ref_lets_through(tmp_path, name):
    extra, message = STRICTER_THAN_SKILLS_REF[name]
    folder = make(tmp_path, name, GOOD.format(name=name).replace("---\n\n", extra + "---\n\n", 1))
    ours = run_script("validate.py", str(folder), cwd=tmp_path)
    reference = subprocess.run([str(AGENTSKILLS), "validate", str(folder)], capture_output=True, text=True)
    assert reference.returncode == 0, reference.stdout + reference.stderr
    assert ours.returncode == 1 and message in ours.stdout, ours.stdout


def copy_of_this_skill(tmp_path: Path) -> Path:
    target = tmp_path / "dlt-dagster"
    target.mkdir()
    shutil.copy(SKILL_ROOT / "SKILL.md", target)
    shutil.copytree(SKILL_ROOT / "references", target / "references")
    shutil.copytree(SKILL_ROOT / "scripts", target / "scripts")
    shutil.copytree(SKILL_ROOT / "assets", target / "assets")
    return target


def test_this_skill_is_valid(tmp_path):
    done = run_script("validate.py", str(copy_of_this_skill(tmp_path)), cwd=tmp_path)
    assert done.returncode == 0, done.stdout


def test_broken_link_unlinked_reference_deep_folder_and_missing_contents_are_reported(tmp_path):
    skill = copy_of_this_skill(tmp_path)
    first = sorted((skill / "references").glob("*.md"))[0]
    first.write_text(first.read_text() + "\nSee [nowhere](missing.md).\n")
    (skill / "references" / "orphan.md").write_text("# Orphan\n")
    (skill / "references" / "deeper").mkdir()
    (skill / "references" / "long.md").write_text("# Long\n" + "line\n" * 120)
    done = run_script("validate.py", str(skill), "--json", cwd=tmp_path)
    assert done.returncode == 1
    out = done.stdout
    assert f"references/{first.name}" in out and "missing.md does not resolve" in out
    assert "references/orphan.md is not linked from SKILL.md" in out
    assert "references/deeper: references must be one level deep" in out
    assert "references/long.md has over 100 lines but no Contents section" in out


def test_size_budget(tmp_path):
    skill = copy_of_this_skill(tmp_path)
    skill_md = skill / "SKILL.md"
    skill_md.write_text(skill_md.read_text() + "filler line\n" * 500)
    done = run_script("validate.py", str(skill), cwd=tmp_path)
    assert done.returncode == 1 and "keep it under 500" in done.stdout


def test_not_a_skill_folder(tmp_path):
    done = run_script("validate.py", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 2 and "no SKILL.md" in done.stdout
