"""Walk SKILL.md's "Quick start" literally: every command of its bash block, as written, in order.

The block is read from SKILL.md with markdown-it-py, so when the text changes the walkthrough
runs the new text. Lines joined by a trailing backslash form one command; each command runs
in its own `bash -c` in the folder the previous one left (so `cd` carries over), with
SKILL_DIR set to the folder that holds SKILL.md (as SKILL.md defines it) and a private
DAGSTER_HOME and DLT_DATA_DIR. After the last command, the DuckDB file and table that the
section's prose names ("a DuckDB file `F` at the project root with table `S.T`") must
exist in the folder the commands ended in, with at least one row.

The commands use the network the way a user's machine does: `uvx create-dagster` and
`uv add` fetch from PyPI (through uv's cache).
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from markdown_it import MarkdownIt

from evals.commands import run_command
from evals.expectations import TablesMissing, open_duckdb, user_tables
from evals.project import clean_env
from evals.skill import SKILL_ROOT

SECTION = "Quick start"
RESULT_SENTENCE = re.compile(
    r"DuckDB file\s+`(?P<database>[^`]+)`\s+at the project root\s+with table\s+`(?P<table>[^`.]+\.[^`]+)`"
)
COMMAND_TIMEOUT = 900.0
OUTPUT_TAIL_LINES = 60


class QuickStartError(Exception):
    """SKILL.md has no quick start the walkthrough can run."""


@dataclass(frozen=True)
class QuickStart:
    commands: list[str]
    database: str  # relative to the folder the commands end in
    table: str  # schema.table


@dataclass
class Step:
    command: str
    cwd: str
    returncode: int | None
    seconds: float
    output: str


@dataclass
class WalkthroughResult:
    skill_md: str
    passed: bool = False
    message: str = ""
    steps: list[Step] = field(default_factory=list)
    rows: int | None = None
    project_dir: str = ""
    seconds: float = 0.0


def read_quick_start(skill_md: Path) -> QuickStart:
    tokens = MarkdownIt("commonmark").parse(skill_md.read_text(encoding="utf-8"))
    start = next(
        (
            i
            for i, token in enumerate(tokens)
            if token.type == "heading_open" and tokens[i + 1].content.strip().startswith(SECTION)
        ),
        None,
    )
    if start is None:
        raise QuickStartError(f'{skill_md}: no heading starting with "{SECTION}"')
    level = tokens[start].tag
    section = []
    for token in tokens[start + 3 :]:
        if token.type == "heading_open" and token.tag <= level:
            break
        section.append(token)
    fence = next((t for t in section if t.type == "fence" and t.info.strip() == "bash"), None)
    if fence is None:
        raise QuickStartError(f"{skill_md}: the {SECTION} section has no ```bash block")
    prose = " ".join(t.content for t in section if t.type == "inline")
    found = RESULT_SENTENCE.search(" ".join(prose.split()))
    if found is None:
        raise QuickStartError(
            f"{skill_md}: the {SECTION} section does not say which DuckDB file and table it creates "
            f'(expected a sentence like "a DuckDB file `x.duckdb` at the project root with table `s.t`")'
        )
    return QuickStart(split_commands(fence.content), found["database"], found["table"])


def split_commands(block: str) -> list[str]:
    """One command per line; a line ending in a backslash continues on the next, as in bash.

    A command keeps its text exactly, continuation backslashes and all: bash joins the lines.
    """
    commands, pending = [], []
    for line in block.splitlines():
        pending.append(line)
        if line.endswith("\\"):
            continue
        command = "\n".join(pending).strip()
        pending = []
        if command and not command.startswith("#"):
            commands.append(command)
    if pending and "\n".join(pending).strip():
        commands.append("\n".join(pending).strip())
    return commands


def one_line(command: str) -> str:
    return " ".join(command.replace("\\\n", " ").split())


def walkthrough_env(skill_dir: Path, workdir: Path) -> dict[str, str]:
    env = clean_env()
    dagster_home = workdir / "dagster_home"
    dagster_home.mkdir(parents=True, exist_ok=True)
    (dagster_home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n", encoding="utf-8")
    (workdir / "dlt_data").mkdir(exist_ok=True)
    env.update(
        SKILL_DIR=str(skill_dir.resolve()),
        DAGSTER_HOME=str(dagster_home),
        DLT_DATA_DIR=str(workdir / "dlt_data"),
        PYTHONUNBUFFERED="1",
        NO_COLOR="1",
    )
    return env


def run_walkthrough(skill_dir: Path = SKILL_ROOT, keep: bool = False) -> WalkthroughResult:
    skill_md = skill_dir / "SKILL.md"
    result = WalkthroughResult(skill_md=str(skill_md))
    start = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="dlt-dagster-walkthrough-"))
    try:
        quick_start = read_quick_start(skill_md)
        env = walkthrough_env(skill_dir, workdir)
        cwd = workdir / "work"
        cwd.mkdir()
        cwd_file = workdir / ".cwd"
        for number, command in enumerate(quick_start.commands, 1):
            script = f'{command}\n__status=$?\npwd > "{cwd_file}"\nexit $__status\n'
            done = run_command(["bash", "-c", script], cwd, env, COMMAND_TIMEOUT)
            step = Step(command, str(cwd), done.returncode, round(done.seconds, 1), _tail(done.output))
            result.steps.append(step)
            if done.returncode != 0:
                why = "timed out" if done.timed_out else f"failed (exit {done.returncode})"
                result.message = f"{skill_md}: quick-start command {number} `{one_line(command)}` {why}"
                return result
            cwd = Path(cwd_file.read_text(encoding="utf-8").strip())
        result.project_dir = str(cwd)
        result.rows, result.message = check_table(cwd, quick_start.database, quick_start.table)
        if result.rows is not None:
            result.passed = True
            result.message = f"{quick_start.database}: {quick_start.table} has {result.rows} row(s)"
        else:
            result.message = f"{skill_md}: {result.message}"
        return result
    except QuickStartError as exc:
        result.message = str(exc)
        return result
    finally:
        result.seconds = round(time.monotonic() - start, 1)
        if keep:
            result.message += f" (kept: {workdir})"
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def check_table(project: Path, database: str, table: str) -> tuple[int | None, str]:
    """(row count, "") when the table exists with rows, else (None, what is wrong)."""
    try:
        with open_duckdb(project, database) as tables:
            names = tables.table_names()
            if table not in names:
                return (
                    None,
                    f"{database} has no table {table} (found: {', '.join(user_tables(names)) or 'none'})",
                )
            rows = tables.count(table)
    except TablesMissing as exc:
        return None, f"{exc} in {project}"
    if rows == 0:
        return None, f"{database}: {table} is empty"
    return rows, ""


def _tail(output: str) -> str:
    return "\n".join(output.splitlines()[-OUTPUT_TAIL_LINES:])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="dlt-dagster-evals walkthrough", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--skill-dir", type=Path, default=SKILL_ROOT, help="folder that holds SKILL.md")
    parser.add_argument("--json", type=Path, dest="json_path", help="also write the result here as JSON")
    parser.add_argument("--keep", action="store_true", help="keep the walkthrough's temp folder")
    args = parser.parse_args(argv)
    result = run_walkthrough(args.skill_dir, keep=args.keep)
    for number, step in enumerate(result.steps, 1):
        status = "ok" if step.returncode == 0 else "FAILED"
        print(f"[{number}] {status} {step.seconds:6.1f}s  {one_line(step.command)}", flush=True)
    if not result.passed and result.steps and result.steps[-1].returncode != 0:
        print(result.steps[-1].output)
    print(("PASSED: " if result.passed else "FAILED: ") + result.message)
    if args.json_path:
        args.json_path.parent.mkdir(parents=True, exist_ok=True)
        args.json_path.write_text(json.dumps(asdict(result), indent=2) + "\n", encoding="utf-8")
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
