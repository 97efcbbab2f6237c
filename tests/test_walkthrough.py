"""SKILL.md's quick start, run literally (evals/walkthrough.py), and proof that the walk can fail."""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import duckdb
import pytest

from evals.skill import SKILL_ROOT
from evals.walkthrough import QuickStartError, read_quick_start, run_walkthrough, split_commands
from tests.conftest import replace_in
from tests.support.shipping import clean_checkout


def write_skill(
    folder: Path,
    block: str,
    result: str = "a DuckDB file `out.duckdb` at the project root with table `main_raw.items`",
) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SKILL.md").write_text(
        "---\nname: demo\ndescription: demo\n---\n\n# Demo\n\n## Quick start (demo)\n\n"
        f"```bash\n{textwrap.dedent(block).strip()}\n```\n\nThe result is {result}.\n\n"
        "## Next section\n\n```bash\necho not part of the quick start\n```\n",
        encoding="utf-8",
    )
    with duckdb.connect(str(folder / "fixture.duckdb")) as con:
        con.execute("create schema main_raw")
        con.execute("create table main_raw.items as select range as id from range(3)")
    return folder


def test_split_commands_keeps_continued_lines_as_one_command():
    block = 'mkdir a\n\n# a comment\ncd a\nuv run python "$X/s.py" --one \\\n  --two\nls\n'
    assert split_commands(block) == ["mkdir a", "cd a", 'uv run python "$X/s.py" --one \\\n  --two', "ls"]


def test_shipped_quick_start_is_read_from_skill_md():
    quick_start = read_quick_start(SKILL_ROOT / "SKILL.md")
    assert quick_start.commands[0].startswith("uvx create-dagster@")
    assert any(c.startswith("cd ") for c in quick_start.commands)
    assert any("$SKILL_DIR/scripts/scaffold.py" in c and "\\\n" in c for c in quick_start.commands)
    assert quick_start.database.endswith(".duckdb")
    assert "." in quick_start.table


def test_walkthrough_runs_each_command_where_the_previous_left_off(tmp_path):
    skill = write_skill(
        tmp_path / "skill",
        """
        mkdir -p my_project/sub
        cd my_project
        cp "$SKILL_DIR/fixture.duckdb" \\
          out.duckdb
        test -n "$DAGSTER_HOME" && test -n "$DLT_DATA_DIR"
        """,
    )
    result = run_walkthrough(skill)
    assert result.passed, result.message
    assert result.rows == 3
    assert [s.returncode for s in result.steps] == [0, 0, 0, 0]
    assert Path(result.project_dir).name == "my_project"


def test_walkthrough_stops_at_the_first_failing_command(tmp_path):
    skill = write_skill(
        tmp_path / "skill", 'mkdir p\ncd p\nls no-such-file\ncp "$SKILL_DIR/fixture.duckdb" out.duckdb'
    )
    result = run_walkthrough(skill)
    assert not result.passed
    assert len(result.steps) == 3
    assert "quick-start command 3 `ls no-such-file` failed (exit 2)" in result.message
    assert "no-such-file" in result.steps[-1].output


def test_walkthrough_fails_when_the_promised_table_is_missing(tmp_path):
    skill = write_skill(
        tmp_path / "skill",
        'cp "$SKILL_DIR/fixture.duckdb" out.duckdb',
        result="a DuckDB file `out.duckdb` at the project root with table `main_raw.orders`",
    )
    result = run_walkthrough(skill)
    assert not result.passed
    assert "out.duckdb has no table main_raw.orders (found: main_raw.items)" in result.message


def test_walkthrough_fails_when_the_promised_database_is_missing(tmp_path):
    skill = write_skill(tmp_path / "skill", "echo nothing here")
    result = run_walkthrough(skill)
    assert not result.passed
    assert "no DuckDB file out.duckdb" in result.message


def test_a_quick_start_that_names_no_result_is_an_error(tmp_path):
    skill = write_skill(tmp_path / "skill", "echo hi", result="something")
    with pytest.raises(QuickStartError, match="does not say which DuckDB file"):
        read_quick_start(skill / "SKILL.md")
    assert "does not say which DuckDB file" in run_walkthrough(skill).message


@pytest.mark.slow
def test_shipped_quick_start_passes_as_written():
    result = run_walkthrough(SKILL_ROOT)
    failed = result.steps[-1].output if result.steps else ""
    assert result.passed, f"{result.message}\n{failed}"
    assert result.rows > 0


@pytest.mark.slow
def test_walkthrough_fails_when_a_shipped_quick_start_command_breaks(tmp_path):
    """A copy of the skill whose quick start asks scaffold.py for an approach that does not exist."""
    skill = clean_checkout(SKILL_ROOT, tmp_path / "dlt-dagster")
    replace_in(
        skill / "SKILL.md",
        "--approach component --defs-name ingest",
        "--approach components --defs-name ingest",
    )
    result = run_walkthrough(skill)
    assert not result.passed
    assert "--approach components" in result.message and "failed (exit 2)" in result.message
    assert [s.returncode for s in result.steps[:-1]] == [0] * (len(result.steps) - 1)


def test_walkthrough_cli_writes_json_and_exits_non_zero_on_failure(tmp_path, capsys):
    from evals.walkthrough import main

    skill = write_skill(tmp_path / "skill", "mkdir p\ncd p\nfalse")
    report = tmp_path / "walkthrough.json"
    assert main(["--skill-dir", str(skill), "--json", str(report)]) == 1
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["passed"] is False
    assert [s["command"] for s in data["steps"]] == ["mkdir p", "cd p", "false"]
    assert "[3] FAILED" in capsys.readouterr().out
