"""The four stages of a case: render -> check -> materialize -> assert.

Each stage takes the CaseRun and either returns or raises StageFailure with a message
that names the file to look at (a rendered file and its template, or the case file).
"""

from __future__ import annotations

import json
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from evals.cases import Case
from evals.commands import CommandResult, run_command
from evals.project import Project, create_project, isolated_env
from evals.skill import templating

STAGES = ("render", "check", "materialize", "assert")
OUTPUT_TAIL_LINES = 60


class StageFailure(Exception):
    def __init__(self, message: str, output: str = ""):
        super().__init__(message)
        self.message = message
        self.output = output


@dataclass
class CaseRun:
    """Everything one case's stages share; lives in its own temp folder."""

    case: Case
    workdir: Path
    templates_dir: Path
    base_url: str | None = None
    project: Project | None = None
    env: dict[str, str] = field(default_factory=dict)
    rendered: list[templating.RenderedFile] = field(default_factory=list)
    deadline: float = 0.0

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise StageFailure(f"case timed out after {self.case.timeout:g}s")
        return left


def dg(*args: str) -> list[str]:
    """The dg CLI of the interpreter running the harness."""
    return [str(Path(sys.executable).parent / "dg"), *args]


def render(run: CaseRun) -> None:
    case = run.case
    variables = dict(case.vars)
    if run.base_url is not None:
        variables["base_url"] = run.base_url
    try:
        run.rendered = templating.render(case.template, variables, run.templates_dir)
    except templating.TemplateError as exc:
        raise StageFailure(f"{case.path}: cannot render template {case.template!r}: {exc}") from exc
    run.project = create_project(run.workdir / "project", "evalproj")
    run.env = isolated_env(run.project, run.workdir)
    for rendered in run.rendered:
        target = run.project.defs_dir / rendered.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rendered.text, encoding="utf-8")


def check(run: CaseRun) -> None:
    _run_dg(run, dg("check", "defs"))


def materialize(run: CaseRun) -> None:
    _run_dg(run, dg("launch", "--assets", run.case.launch_assets))


def assert_tables(run: CaseRun) -> None:
    case = run.case
    problems = []
    for expected in case.tables:
        database = run.project.root / expected.database
        if not database.is_file():
            found = sorted(p.name for p in run.project.root.rglob("*.duckdb"))
            problems.append(f"no DuckDB file {expected.database} (found: {', '.join(found) or 'none'})")
            continue
        schema, table = expected.table.split(".", 1)
        with duckdb.connect(str(database), read_only=True) as con:
            tables = {
                f"{s}.{t}"
                for s, t in con.execute(
                    "select table_schema, table_name from information_schema.tables"
                ).fetchall()
            }
            if expected.table not in tables:
                user_tables = sorted(t for t in tables if not t.split(".", 1)[1].startswith("_dlt"))
                found = ", ".join(user_tables) or "none"
                problems.append(f"{expected.database}: no table {expected.table} (found: {found})")
                continue
            rows = con.execute(f'select count(*) from "{schema}"."{table}"').fetchone()[0]
        if rows != expected.rows:
            problems.append(
                f"{expected.database}: {expected.table} has {rows} rows, expected {expected.rows}"
            )
    if case.asset_keys is not None:
        problems.extend(_asset_key_problems(run))
    if problems:
        raise StageFailure(f"{case.path}: " + "; ".join(problems))


def _asset_key_problems(run: CaseRun) -> list[str]:
    result = run_command(dg("list", "defs", "--json"), run.project.root, run.env, run.remaining())
    if result.returncode != 0:
        raise StageFailure(f"{run.case.path}: dg list defs failed", _tail(result.output))
    start = result.output.find("{")
    listed = json.loads(result.output[start:])
    actual = {tuple(a["asset_key_parts"]) for a in listed["assets"] if a.get("is_executable", True)}
    expected = set(run.case.asset_keys)
    problems = []
    if expected - actual:
        problems.append(f"missing asset keys {sorted(expected - actual)}")
    if actual - expected:
        problems.append(f"unexpected asset keys {sorted(actual - expected)}")
    return problems


def _run_dg(run: CaseRun, args: list[str]) -> CommandResult:
    result = run_command(args, run.project.root, run.env, run.remaining())
    if result.timed_out:
        raise StageFailure(f"`{_short(result)}` timed out after {result.seconds:.0f}s", _tail(result.output))
    if result.returncode != 0:
        raise StageFailure(
            f"`{_short(result)}` failed (exit {result.returncode}){_culprit(run, result.output)}",
            _tail(result.output),
        )
    return result


def _short(result: CommandResult) -> str:
    return " ".join(["dg", *result.args[1:]])


def _culprit(run: CaseRun, output: str) -> str:
    """Name the rendered file the output points at, and the template it came from."""
    for rendered in run.rendered:
        target = run.project.defs_dir / rendered.path
        relative = target.relative_to(run.project.root)
        if str(target) in output or str(relative) in output:
            return f" in {relative} (rendered from {_display(rendered.template)})"
    for rendered in run.rendered:
        if Path(rendered.path).name in output:
            return f" in {Path(rendered.path).name} (rendered from {_display(rendered.template)})"
    return ""


def _display(path: Path) -> str:
    try:
        return str(path.relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _tail(output: str) -> str:
    return "\n".join(output.splitlines()[-OUTPUT_TAIL_LINES:])
