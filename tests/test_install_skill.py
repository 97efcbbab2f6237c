"""The skill installs with the real `skills` CLI (npm) the way users install it, and works there."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from evals.skill import SKILL_ROOT
from evals.tools.links import broken_links
from tests.support.shipping import clean_checkout, expected_install, files_under, unwanted_files
from tests.support.skills_cli import InstallerError, RegistryUnreachable, ensure_skills_cli

pytestmark = pytest.mark.slow

AGENTSKILLS = Path(sys.executable).parent / "agentskills"
APPROACHES = ("component", "pythonic", "asset")


@pytest.fixture(scope="session")
def skills_cli():
    try:
        return ensure_skills_cli()
    except RegistryUnreachable as exc:
        pytest.skip(f"the npm registry cannot be reached, so the skills CLI cannot be installed: {exc}")
    except InstallerError as exc:
        pytest.fail(str(exc))


def add(
    skills_cli, source: Path | str, project: Path, home: Path, *extra: str
) -> subprocess.CompletedProcess:
    project.mkdir(parents=True, exist_ok=True)
    done = skills_cli.run(
        ["add", str(source), "--skill", "dlt-dagster", "-a", "claude-code", "-y", "--copy", *extra],
        cwd=project,
        home=home,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@pytest.fixture(scope="module")
def install(skills_cli, tmp_path_factory):
    """(source, installed): a clean checkout of this repository, and its copy installed by `skills add`."""
    base = tmp_path_factory.mktemp("install")
    source = clean_checkout(SKILL_ROOT, base / "checkout" / "dlt-dagster")
    project = base / "project"
    add(skills_cli, source, project, base / "home")
    installed = project / ".claude" / "skills" / "dlt-dagster"
    assert installed.is_dir(), f"skills add did not create {installed}: {sorted(files_under(project))[:20]}"
    return source, installed


def test_install_lands_skill_md_references_templates_and_scripts(install):
    source, installed = install
    assert (installed / "SKILL.md").read_bytes() == (source / "SKILL.md").read_bytes()
    references = sorted(p.name for p in (source / "references").glob("*.md"))
    assert references, "the checkout has no references/*.md"
    assert sorted(p.name for p in (installed / "references").glob("*.md")) == references
    for approach in APPROACHES:
        assert (installed / "assets" / "templates" / approach / "template.yaml").is_file(), approach
    assert (installed / "assets" / "templates" / "variables.schema.json").is_file()
    for script in ("templating.py", "scaffold.py", "doctor.py", "validate.py"):
        assert (installed / "scripts" / script).is_file(), script


def test_install_copies_exactly_the_checkout_less_what_the_cli_excludes(install):
    source, installed = install
    assert files_under(installed) == expected_install(source)


def test_nothing_that_should_not_ship_is_installed(install):
    _, installed = install
    assert unwanted_files(installed) == []


@pytest.mark.skipif(not AGENTSKILLS.exists(), reason="skills-ref needs Python >= 3.11; not installed here")
def test_installed_copy_passes_agentskills_validate(install):
    _, installed = install
    done = subprocess.run([str(AGENTSKILLS), "validate", str(installed)], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def test_installed_copy_passes_the_skills_own_validate_script(install):
    _, installed = install
    done = subprocess.run(
        [sys.executable, str(installed / "scripts" / "validate.py"), str(installed)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_relative_link_in_the_installed_copy_resolves(install):
    _, installed = install
    assert [str(link) for link in broken_links(installed)] == []


SKILL_PATH = re.compile(r"(?<![\w/.])(?:\$SKILL_DIR/)?((?:scripts|references|assets)/[\w./-]*[\w/])")


def paths_skill_md_names(skill_md: Path) -> set[str]:
    """Paths inside the skill that SKILL.md names in its text (links are checked separately).

    Placeholders in capitals (`scripts/NAME.py`) are not paths.
    """
    found = SKILL_PATH.findall(skill_md.read_text(encoding="utf-8"))
    return {path for path in found if not any(part.split(".")[0].isupper() for part in path.split("/"))}


def test_every_path_skill_md_names_is_in_the_installed_copy(install):
    _, installed = install
    named = paths_skill_md_names(installed / "SKILL.md")
    assert "scripts/scaffold.py" in named
    assert sorted(p for p in named if not (installed / p).exists()) == []


def test_path_check_finds_what_skill_md_names(tmp_path):
    skill_md = tmp_path / "SKILL.md"
    skill_md.write_text(
        'Run `uv run python "$SKILL_DIR/scripts/scaffold.py" --force`, see references/a.md.\n'
        "Templates in `assets/templates/`; not these: my_scripts/x.py, https://x.org/scripts/y.py, "
        "`scripts/NAME.py`\n",
        encoding="utf-8",
    )
    assert paths_skill_md_names(skill_md) == {"scripts/scaffold.py", "references/a.md", "assets/templates/"}


def test_list_shows_the_skill_and_its_description(skills_cli, tmp_path):
    done = skills_cli.run(["add", str(SKILL_ROOT), "--list"], cwd=tmp_path, home=tmp_path / "home")
    assert done.returncode == 0, done.stdout + done.stderr
    listed = " ".join(done.stdout.replace("│", " ").split())
    meta = yaml.safe_load((SKILL_ROOT / "SKILL.md").read_text(encoding="utf-8").split("---\n", 2)[1])
    assert re.search(r"\bdlt-dagster\b", listed), done.stdout
    assert " ".join(meta["description"].split()) in listed, done.stdout
    assert not (tmp_path / ".claude").exists(), "--list must not install anything"


def test_install_from_a_git_url_ships_the_committed_tree(skills_cli, tmp_path):
    """`skills add <owner>/<repo>` shallow-clones the repository; a file:// URL takes the same path."""
    git_dir = subprocess.run(
        ["git", "-C", str(SKILL_ROOT), "rev-parse", "--show-toplevel"], capture_output=True, text=True
    )
    if git_dir.returncode != 0:
        pytest.skip(f"{SKILL_ROOT} is not a git checkout")
    committed = subprocess.run(
        ["git", "-C", str(SKILL_ROOT), "ls-tree", "-r", "--name-only", "HEAD"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    done = add(skills_cli, f"file://{SKILL_ROOT}", tmp_path / "project", tmp_path / "home")
    assert "Repository cloned" in done.stdout, done.stdout
    installed = tmp_path / "project" / ".claude" / "skills" / "dlt-dagster"
    assert files_under(installed) == {
        name for name in committed if not {"__pycache__", "__pypackages__"}.intersection(Path(name).parts)
    }
    assert unwanted_files(installed) == []


# The checks above can fail: each is run here against a copy broken on purpose.


def test_link_checks_fail_on_a_broken_link_in_a_reference(install, tmp_path):
    """A reference that links to a file that does not exist: both link checks catch it."""
    _, installed = install
    broken = shutil.copytree(installed, tmp_path / "dlt-dagster")
    reference = broken / "references" / "component.md"
    with reference.open("a", encoding="utf-8") as out:
        out.write("\nSee [the old guide](component-guide.md) and [SKILL.md](../SKILL.md).\n")
    found = [(link.source.name, link.target) for link in broken_links(broken)]
    assert found == [("component.md", "component-guide.md")]
    done = subprocess.run(
        [sys.executable, str(broken / "scripts" / "validate.py"), str(broken)], capture_output=True, text=True
    )
    assert done.returncode == 1
    assert "component-guide.md" in done.stdout + done.stderr


def test_link_check_fails_when_a_linked_file_is_missing_or_outside(tmp_path):
    skill = tmp_path / "skill"
    (skill / "references").mkdir(parents=True)
    (skill / "references" / "a.md").write_text("# A\n", encoding="utf-8")
    (tmp_path / "outside.md").write_text("# outside\n", encoding="utf-8")
    (skill / "SKILL.md").write_text(
        "[a](references/a.md) [a#x](references/a.md#x) [b](references/b.md) [out](../outside.md)\n"
        "[web](https://example.org/x.md) [top](#top) ![img](assets/missing.png)\n"
        "[ref-style][r]\n\n[r]: references/c.md\n\n"
        "```\n[in code](references/not-a-link.md)\n```\n",
        encoding="utf-8",
    )
    targets = sorted(link.target for link in broken_links(skill))
    assert targets == ["../outside.md", "assets/missing.png", "references/b.md", "references/c.md"]


def test_cli_ships_whatever_a_dirty_folder_holds_and_the_check_reports_it(skills_cli, install, tmp_path):
    """Installing from a work tree with a venv and a DuckDB file ships them: the CLI excludes neither."""
    source, _ = install
    dirty = shutil.copytree(source, tmp_path / "dirty" / "dlt-dagster")
    (dirty / ".venv" / "bin").mkdir(parents=True)
    (dirty / ".venv" / "bin" / "python").write_text("", encoding="utf-8")
    (dirty / "ingest.duckdb").write_bytes(b"")
    (dirty / "scripts" / "__pycache__").mkdir()
    (dirty / "scripts" / "__pycache__" / "templating.cpython-311.pyc").write_bytes(b"")
    project = tmp_path / "project"
    add(skills_cli, dirty, project, tmp_path / "home")
    installed = project / ".claude" / "skills" / "dlt-dagster"
    assert unwanted_files(installed) == [".venv/", "ingest.duckdb"]  # __pycache__ is the CLI's own exclusion


def test_links_cli_exits_non_zero_on_a_broken_link(tmp_path):
    (tmp_path / "ok.md").write_text("[self](ok.md)\n", encoding="utf-8")
    run = [sys.executable, "-m", "evals.tools.links", str(tmp_path)]
    clean = subprocess.run(run, capture_output=True, text=True, cwd=SKILL_ROOT)
    assert clean.returncode == 0, clean.stderr
    (tmp_path / "bad.md").write_text("# Bad\n\n[gone](gone.md)\n", encoding="utf-8")
    broken = subprocess.run(run, capture_output=True, text=True, cwd=SKILL_ROOT)
    assert broken.returncode == 1
    assert f"broken link: {tmp_path / 'bad.md'}:3: gone.md" in broken.stderr
