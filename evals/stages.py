"""The four stages of a case: render -> check -> materialize -> assert.

render and check run once; then each step runs in order, reported under the stage it
belongs to: launch and add_records under materialize, expect under assert. Each function
either returns or raises StageFailure with a message that names the file to look at (a
rendered file and its template, or the case file).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: dagster depends on tomli
    import tomli as tomllib

from evals import environments, fast
from evals.cases import POSTGRES, AddRecords, Case, ChangeData, Expect, Launch
from evals.commands import DEFAULT_MAX_FILE_BYTES, CommandResult, run_command
from evals.load_formats import load_format_problems
from evals.project import Project, create_project, isolated_env
from evals.rest_server import RestApiServer
from evals.services import postgres
from evals.skill import SKILL_ROOT, templating

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
    server: RestApiServer | None = None
    project: Project | None = None
    env: dict[str, str] = field(default_factory=dict)
    rendered: list[templating.RenderedFile] = field(default_factory=list)
    deadline: float = 0.0
    requests_seen: int = 0  # API requests logged before the latest launch
    faithful: bool = False  # True: the real dg executable per command; False: fast mode
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES
    prebuilt: Path | None = None  # grade this existing project instead of building one
    venv_bin: Path | None = None  # the case's own environment (without/with_packages), if it has one
    postgres_server: postgres.SharedServer | None = None  # where a `postgres` case gets its database
    postgres: postgres.Database | None = None  # the case's own database, once render made it

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise StageFailure(f"case timed out after {self.case.timeout:g}s")
        return left


DG = str(Path(sys.executable).parent / "dg")  # the dg CLI of the interpreter running the harness


def run_dg(run: CaseRun, args: list[str], env: dict[str, str] | None = None) -> CommandResult:
    """`dg ARGS` in the project: the real executable (faithful) or a warm fork (fast)."""
    env = env or run.env
    if run.venv_bin is not None:  # an environment of its own is always run by its real dg
        if not run.faithful:
            args = fast.fast_args(args)  # but, as in fast mode, plain launches run in-process
        return run_command(
            [str(run.venv_bin / "dg"), *args], run.project.root, env, run.remaining(), run.max_file_bytes
        )
    if run.faithful:
        return run_command([DG, *args], run.project.root, env, run.remaining(), run.max_file_bytes)
    return fast.run_dg(args, run.project.root, env, run.remaining(), run.max_file_bytes)


SCAFFOLD_SCRIPT = SKILL_ROOT / "scripts" / "scaffold.py"


def expand(text: str, run: CaseRun) -> str:
    """Fill in the run's own places: {base_url} (the loopback API), {data_dir} (case data),
    {project_dir} (the project's root), {postgres_url} etc. (the case's PostgreSQL database)."""
    text = text.replace("{data_dir}", str(run.workdir / "data"))
    text = text.replace("{project_dir}", str(run.workdir / "project"))
    if run.server is not None:
        text = text.replace("{base_url}", run.server.url)
    if run.postgres is not None:
        for name, value in run.postgres.placeholders().items():
            text = text.replace("{" + name + "}", value)
    return text


def _expand_all(value, run: CaseRun):
    """expand() every string in nested variables (a source_config's base_url, say)."""
    if isinstance(value, str):
        return expand(value, run)
    if isinstance(value, dict):
        return {k: _expand_all(v, run) for k, v in value.items()}
    if isinstance(value, list):
        return [_expand_all(v, run) for v in value]
    return value


def _write_data(run: CaseRun) -> None:
    data_dir = run.workdir / "data"
    data_dir.mkdir(exist_ok=True)
    for relative, text in run.case.data_files.items():
        target = data_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(expand(text, run), encoding="utf-8")
    if run.case.sqlite is not None:
        with sqlite3.connect(data_dir / run.case.sqlite["file"]) as connection:
            connection.executescript(run.case.sqlite["sql"])


def _project_env(run: CaseRun) -> dict[str, str]:
    env = {**isolated_env(run.project, run.workdir), **{k: expand(v, run) for k, v in run.case.env.items()}}
    if run.server is not None:
        env["EVAL_API_BASE_URL"] = run.server.url
    return env


def render(run: CaseRun) -> None:
    """Lay out a fresh project and write the case's files into its defs folder."""
    case = run.case
    _write_data(run)
    _make_database(run)
    if run.prebuilt is not None:
        _copy_prebuilt(run)
        return
    if case.scaffold is not None:
        _scaffold(run)
        make_environment(run)
        return
    if case.template is not None:
        variables = _expand_all(case.vars, run)
        if run.server is not None:
            variables.setdefault("base_url", run.server.url)
        try:
            run.rendered = templating.render(case.template, variables, run.templates_dir)
        except templating.TemplateError as exc:
            raise StageFailure(f"{case.path}: cannot render template {case.template!r}: {exc}") from exc
    else:
        run.rendered = [
            templating.RenderedFile(path=path, text=text, template=case.path)
            for path, text in case.files.items()
        ]
    run.project = create_project(run.workdir / "project", "evalproj")
    run.env = _project_env(run)
    for rendered in run.rendered:
        target = run.project.defs_dir / rendered.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(rendered.text, encoding="utf-8")
    make_environment(run)


def _make_database(run: CaseRun) -> None:
    """A `postgres` case's own database (and its `sql` script), on the run's shared server."""
    if run.case.postgres is None:
        return
    if run.postgres_server is None:
        raise StageFailure(f"{run.case.path}: the case needs PostgreSQL but the run has no server")
    try:
        run.postgres = run.postgres_server.database(run.case.name)
    except postgres.PostgresUnavailable as exc:
        raise StageFailure(f"{run.case.path}: needs PostgreSQL, which cannot start here: {exc}") from exc
    script = run.case.postgres.get("sql")
    if script:
        _run_sql(run, script, "postgres.sql")


def _run_sql(run: CaseRun, script: str, where: str) -> None:
    try:
        run.postgres.execute(script)
    except postgres.psycopg2.Error as exc:
        raise StageFailure(f"{run.case.path}: {where} failed: {str(exc).strip()}") from exc


def make_environment(run: CaseRun) -> None:
    """Give a case that names `without_packages` or `with_packages` its own environment
    (evals/environments.py)."""
    case = run.case
    if not case.own_environment:
        return
    try:
        run.venv_bin = environments.build(
            run.workdir / "venv",
            without=list(case.without_packages),
            with_=list(case.with_packages),
            timeout=run.remaining(),
        )
    except (environments.EnvironmentBuildError, subprocess.TimeoutExpired) as exc:
        field = "without_packages" if case.without_packages else "with_packages"
        raise StageFailure(f"{case.path}: {field}: {exc}") from exc
    run.env["PATH"] = f"{run.venv_bin}{os.pathsep}{run.env.get('PATH', '')}"
    run.env["VIRTUAL_ENV"] = str(run.venv_bin.parent)


def _scaffold(run: CaseRun) -> None:
    """Run the skill's own scaffold script in the fresh project, as an agent would."""
    case = run.case
    run.project = create_project(run.workdir / "project", "evalproj")
    run.env = _project_env(run)
    for arguments in case.scaffold:
        args = [expand(a, run) for a in arguments]
        before = set(run.project.root.rglob("*"))
        result = run_command(
            [sys.executable, str(SCAFFOLD_SCRIPT), *args],
            run.project.root,
            run.env,
            run.remaining(),
            run.max_file_bytes,
        )
        shown = " ".join(["scaffold.py", *args])
        if case.scaffold_fails_with is not None:
            if result.returncode == 0 or case.scaffold_fails_with not in result.output:
                raise StageFailure(
                    f"{case.path}: `{shown}` was expected to fail with {case.scaffold_fails_with!r}"
                    f" (exit {result.returncode})",
                    _tail(result.output),
                )
            if set(run.project.root.rglob("*")) != before:
                raise StageFailure(
                    f"{case.path}: `{shown}` refused but still changed the project", _tail(result.output)
                )
            return
        if result.returncode != 0:
            raise StageFailure(
                f"{case.path}: `{shown}` failed (exit {result.returncode})", _tail(result.output)
            )
    _list_rendered(run, SCAFFOLD_SCRIPT)


def _copy_prebuilt(run: CaseRun) -> None:
    """Grade a project made elsewhere (e.g. by a coding agent), in a copy of it."""
    root = run.workdir / "project"
    shutil.copytree(run.prebuilt, root, symlinks=True, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    pyproject = tomllib.loads((root / "pyproject.toml").read_text(encoding="utf-8"))
    run.project = Project(root=root, name=pyproject["tool"]["dg"]["project"]["root_module"])
    run.env = _project_env(run)
    _list_rendered(run, run.prebuilt)


def _list_rendered(run: CaseRun, origin: Path) -> None:
    """Record the project's defs files (for naming the culprit of a failure)."""
    run.rendered = [
        templating.RenderedFile(path=str(p.relative_to(run.project.defs_dir)), text="", template=origin)
        for p in sorted(run.project.defs_dir.rglob("*"))
        if p.is_file()
    ]


# What the real commands print when they really finished: an exit code of 0 alone is not
# proof, since project code may call sys.exit(0) or os._exit(0) half-way.
CHECK_SUCCESS = "All definitions loaded successfully."
LAUNCH_SUCCESS = "RUN_SUCCESS"


def check(run: CaseRun) -> None:
    _run_dg(run, ["check", "defs"], fails_with=run.case.check_fails_with, success_text=CHECK_SUCCESS)


def launch(run: CaseRun, step: Launch) -> None:
    args = ["launch"]
    for flag, value in (
        ("--assets", step.assets if step.assets or step.job else "*"),
        ("--job", step.job),
        ("--partition", step.partition),
        ("--partition-range", step.partition_range),
    ):
        if value is not None:
            args += [flag, value]
    if step.config is not None:
        args += ["--config-json", json.dumps(step.config)]
    if run.server is not None:
        run.requests_seen = len(run.server.requests)
    env = {**run.env, **{k: expand(v, run) for k, v in step.env.items()}}
    _run_dg(run, args, env=env, fails_with=step.fails_with, success_text=LAUNCH_SUCCESS)


def add_records(run: CaseRun, step: AddRecords) -> None:
    for resource, count in step.counts.items():
        run.server.add_records(resource, count)


def change_data(run: CaseRun, step: ChangeData) -> None:
    data_dir = run.workdir / "data"
    for relative, text in step.files.items():
        (data_dir / relative).parent.mkdir(parents=True, exist_ok=True)
        (data_dir / relative).write_text(expand(text, run), encoding="utf-8")
    if step.sql is not None and run.case.sqlite is not None:
        with sqlite3.connect(data_dir / run.case.sqlite["file"]) as connection:
            connection.executescript(step.sql)
    elif step.sql is not None:
        _run_sql(run, step.sql, "change_data sql")


def expect(run: CaseRun, step: Expect) -> None:
    problems = _table_problems(run, step)
    if step.asset_keys is not None:
        problems.extend(_asset_key_problems(run, step))
    problems.extend(_request_problems(run, step))
    if step.loads:
        problems.extend(load_format_problems(Path(run.env["DLT_DATA_DIR"]), list(step.loads)))
    if problems:
        raise StageFailure(f"{run.case.path}: " + "; ".join(problems))


def _table_problems(run: CaseRun, step: Expect) -> list[str]:
    problems = []
    for expected in step.tables:
        if expected.database == POSTGRES:
            problems.extend(_postgres_table_problems(run, expected))
            continue
        database = run.project.root / expected.database
        if not database.is_file():
            found = sorted(str(p.relative_to(run.project.root)) for p in run.project.root.rglob("*.duckdb"))
            problems.append(f"no DuckDB file {expected.database} (found: {', '.join(found) or 'none'})")
            continue
        schema, table = expected.table.split(".", 1)
        with duckdb.connect(str(database), read_only=True) as con:
            tables = table_names(con)
            if expected.table not in tables:
                user_tables = sorted(t for t in tables if not t.split(".", 1)[1].startswith("_dlt"))
                found = ", ".join(user_tables) or "none"
                problems.append(f"{expected.database}: no table {expected.table} (found: {found})")
                continue
            where = f" where {expected.where}" if expected.where else ""
            try:
                rows = con.execute(f'select count(*) from "{schema}"."{table}"{where}').fetchone()[0]
            except duckdb.Error as exc:
                problems.append(f"{expected.database}: cannot count {expected.table}{where}: {exc}")
                continue
        if rows != expected.rows:
            problems.append(
                f"{expected.database}: {expected.table}{where} has {rows} rows, expected {expected.rows}"
            )
    return problems


def _postgres_table_problems(run: CaseRun, expected) -> list[str]:
    where = f" where {expected.where}" if expected.where else ""
    try:
        tables = run.postgres.table_names()
        if expected.table not in tables:
            found = (
                ", ".join(sorted(t for t in tables if not t.split(".", 1)[1].startswith("_dlt"))) or "none"
            )
            return [f"postgres: no table {expected.table} (found: {found})"]
        rows = run.postgres.count(*expected.table.split(".", 1), expected.where)
    except postgres.psycopg2.Error as exc:
        return [f"postgres: cannot count {expected.table}{where}: {str(exc).strip()}"]
    if rows != expected.rows:
        return [f"postgres: {expected.table}{where} has {rows} rows, expected {expected.rows}"]
    return []


def table_names(con: duckdb.DuckDBPyConnection) -> set[str]:
    """Every table of an open DuckDB database, as "schema.table"."""
    rows = con.execute("select table_schema, table_name from information_schema.tables").fetchall()
    return {f"{schema}.{table}" for schema, table in rows}


def _request_problems(run: CaseRun, step: Expect) -> list[str]:
    if not (step.requests or step.absent_requests):
        return []
    if run.server is None:
        return ["request expectations need a server"]
    latest = run.server.requests[run.requests_seen :]

    def matches(wanted) -> bool:
        return any(
            r.path == wanted.path and all(r.query.get(k) == v for k, v in wanted.query.items())
            for r in latest
        )

    seen = [f"{r.path}?{r.query}" for r in latest]
    problems = [
        f"no request to {w.path} with {w.query} in the latest launch (seen: {seen})"
        for w in step.requests
        if not matches(w)
    ]
    problems += [
        f"unexpected request to {w.path} with {w.query} in the latest launch"
        for w in step.absent_requests
        if matches(w)
    ]
    return problems


def _asset_key_problems(run: CaseRun, step: Expect) -> list[str]:
    result = run_dg(run, ["list", "defs", "--json"])
    if result.returncode != 0:
        raise StageFailure(f"{run.case.path}: dg list defs failed", _tail(result.output))
    actual = {_key_parts(a) for a in _listed_assets(result.output) if a.get("is_executable", True)}
    expected = set(step.asset_keys)
    problems = []
    if expected - actual:
        problems.append(f"missing asset keys {sorted(expected - actual)}")
    if actual - expected:
        problems.append(f"unexpected asset keys {sorted(actual - expected)}")
    return problems


def _listed_assets(output: str) -> list[dict]:
    """The assets in `dg list defs --json` output, which log lines may surround.

    dg 1.13 prints {"assets": [...], "resources": [...], ...}; dg 1.11 prints one list
    of assets ({"key": "a/b", "kinds": [...], ...}) and resources ({"name", "type"}).
    """
    lines = output.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() in ("{", "[")), None)
    if start is None:
        raise ValueError(f"no JSON in dg list defs output:\n{output[-2000:]}")
    listed, _ = json.JSONDecoder().raw_decode("".join(lines[start:]))
    if isinstance(listed, dict):
        return listed["assets"]
    return [entry for entry in listed if "key" in entry and "kinds" in entry]


def _key_parts(asset: dict) -> tuple[str, ...]:
    """dg 1.13 lists `asset_key_parts`; dg 1.11-1.12 only `key`, the parts joined by "/"."""
    if "asset_key_parts" in asset:
        return tuple(asset["asset_key_parts"])
    return tuple(asset["key"].split("/"))


def _run_dg(
    run: CaseRun,
    args: list[str],
    env: dict[str, str] | None = None,
    fails_with: str | None = None,
    success_text: str | None = None,
) -> CommandResult:
    result = run_dg(run, args, env)
    shown = " ".join(["dg", *args])
    if result.timed_out:
        raise StageFailure(f"`{shown}` timed out after {result.seconds:.0f}s", _tail(result.output))
    death = result.death(run.max_file_bytes)
    if death:
        raise StageFailure(f"`{shown}` was {death}{_culprit(run, result.output)}", _tail(result.output))
    if fails_with is not None:
        if result.returncode == 0:
            raise StageFailure(
                f"{run.case.path}: `{shown}` succeeded, expected it to fail with {fails_with!r}",
                _tail(result.output),
            )
        if fails_with not in result.output:
            raise StageFailure(
                f"{run.case.path}: `{shown}` failed without the expected text {fails_with!r}"
                f"{_culprit(run, result.output)}",
                _tail(result.output),
            )
        return result
    if result.returncode != 0:
        raise StageFailure(
            f"`{shown}` failed (exit {result.returncode}){_culprit(run, result.output)}"
            f"{_file_limit_hint(run, result.output)}",
            _tail(result.output),
        )
    if success_text is not None and success_text not in result.output:
        raise StageFailure(
            f"`{shown}` exited 0 without printing {success_text!r}: something ended it early"
            f"{_culprit(run, result.output)}",
            _tail(result.output),
        )
    return result


def _file_limit_hint(run: CaseRun, output: str) -> str:
    """Python ignores SIGXFSZ, so a write past RLIMIT_FSIZE raises EFBIG instead of killing."""
    if "[Errno 27] File too large" in output:
        return f": a file grew past the {run.max_file_bytes >> 20} MiB limit"
    return ""


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
