"""The four stages of a case: render -> check -> materialize -> assert.

render and check run once; then each step runs in order, reported under the stage it
belongs to: launch and add_records under materialize, expect under assert. Each function
either returns or raises StageFailure with a message that names the file to look at (a
rendered file and its template, or the case file).

The stages spell out no CLI: the case's project kind (evals/kinds.py) says which command
creates, checks, launches or lists its project, and the case's runner (evals/cli_runners.py)
runs it. What an expect step asserts lives in evals/expectations.py.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from evals import cli_runners, data_files, environments, expectations, run_logs
from evals.cases import AddRecords, Case, ChangeData, Expect, Launch
from evals.cli_runners import CommandRunner
from evals.commands import CommandResult, run_command
from evals.kinds import ProjectKind
from evals.load_formats import load_format_problems
from evals.options import RunOptions
from evals.project import Project, isolated_env
from evals.rest_server import RestApiServer
from evals.services import postgres
from evals.skill import SKILL_ROOT, templating

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
    options: RunOptions
    kind: ProjectKind
    cli: CommandRunner  # runs the kind's CLI (evals/cli_runners.py)
    server: RestApiServer | None = None
    project: Project | None = None
    env: dict[str, str] = field(default_factory=dict)
    rendered: list[templating.RenderedFile] = field(default_factory=list)
    deadline: float = 0.0
    timeout: float = 0.0  # the case's time limit (the case's own, or the run's --timeout)
    requests_seen: int = 0  # API requests logged before the latest launch
    prebuilt: Path | None = None  # grade this existing project instead of building one
    postgres_server: postgres.SharedServer | None = None  # where a `postgres` case gets its database
    postgres: postgres.Database | None = None  # the case's own database, once render made it

    def remaining(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise StageFailure(f"case timed out after {self.timeout:g}s")
        return left


SCAFFOLD_SCRIPT = SKILL_ROOT / "scripts" / "scaffold.py"


def expand(text: str, run: CaseRun) -> str:
    """Fill in the run's own places: {base_url} (the loopback API), {data_dir} (case data),
    {project_dir} (the project's root), {package} (its package's name), {postgres_url} etc.
    (the case's PostgreSQL database)."""
    text = text.replace("{data_dir}", str(run.workdir / "data"))
    text = text.replace("{project_dir}", str(run.workdir / "project"))
    if run.project is not None:
        text = text.replace("{package}", run.project.name)
    if run.server is not None and "{base_url}" in text:  # the server may have stopped (secrets at exit)
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
    data_files.write_all(data_dir, run.case.data_files, lambda text: expand(text, run))
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
            run.rendered = templating.render(case.template, variables, run.options.templates_dir)
        except templating.TemplateError as exc:
            raise StageFailure(f"{case.path}: cannot render template {case.template!r}: {exc}") from exc
    else:
        run.rendered = [
            templating.RenderedFile(path=path, text=text, template=case.path)
            for path, text in case.files.items()
        ]
    run.project = run.kind.create(run.workdir / "project", "evalproj")
    _write_project_files(run)
    run.env = _project_env(run)
    run.kind.install(run.project, run.rendered)
    make_environment(run)


def _write_project_files(run: CaseRun) -> None:
    """The user's own code in the project (project_files), before anything is generated."""
    write_project_files(run.project, run.case, lambda text: expand(text, run))


def write_project_files(project, case: Case, expand_text=lambda text: text) -> None:
    """The case's project_files under the project's root, {package} in paths and texts filled in
    (then `expand_text`, the run's other placeholders)."""
    files = {path.replace("{package}", project.name): text for path, text in case.project_files.items()}
    data_files.write_all(
        project.root, files, lambda text: expand_text(text.replace("{package}", project.name))
    )


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
        venv_bin = environments.build(
            run.workdir / "venv",
            without=list(case.without_packages),
            with_=list(case.with_packages),
            timeout=run.remaining(),
        )
    except environments.EnvironmentBuildError as exc:
        field = "without_packages" if case.without_packages else "with_packages"
        raise StageFailure(f"{case.path}: {field}: {exc}") from exc
    run.cli = cli_runners.runner_for(run.options, run.kind, venv_bin)
    run.env["PATH"] = f"{venv_bin}{os.pathsep}{run.env.get('PATH', '')}"
    run.env["VIRTUAL_ENV"] = str(venv_bin.parent)


def _scaffold(run: CaseRun) -> None:
    """Run the skill's own scaffold script in the fresh project, as an agent would."""
    case = run.case
    run.project = run.kind.create(run.workdir / "project", "evalproj")
    _write_project_files(run)
    run.env = _project_env(run)
    for arguments in case.scaffold:
        args = [expand(a, run) for a in arguments]
        before = set(run.project.root.rglob("*"))
        result = run_command(
            [sys.executable, str(SCAFFOLD_SCRIPT), *args],
            run.project.root,
            run.env,
            run.remaining(),
            run.options.max_file_bytes,
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
    run.project = run.kind.load(root)
    run.env = _project_env(run)
    _list_rendered(run, run.prebuilt)


def _list_rendered(run: CaseRun, origin: Path) -> None:
    """Record the project's defs files (for naming the culprit of a failure)."""
    run.rendered = [
        templating.RenderedFile(path=str(p.relative_to(run.project.defs_dir)), text="", template=origin)
        for p in sorted(run.project.defs_dir.rglob("*"))
        if p.is_file()
    ]


def check(run: CaseRun) -> None:
    argv = run.kind.check_argv(run.project)
    run_cli(run, argv, fails_with=run.case.check_fails_with, success_text=run.kind.check_success)


def launch(run: CaseRun, step: Launch) -> None:
    if run.server is not None:
        run.requests_seen = len(run.server.requests)
    argv = run.kind.launch_argv(run.project, step)
    env = {**run.env, **{k: expand(v, run) for k, v in step.env.items()}}
    dagster_home = Path(env["DAGSTER_HOME"])
    before = run_logs.run_ids(dagster_home)
    run_cli(
        run,
        argv,
        env=env,
        fails_with=step.fails_with,
        success_text=run.kind.launch_success,
        recorded=lambda: run_logs.captured_output(dagster_home, before),
    )


def add_records(run: CaseRun, step: AddRecords) -> None:
    for resource, count in step.counts.items():
        run.server.add_records(resource, count)


def change_data(run: CaseRun, step: ChangeData) -> None:
    data_dir = run.workdir / "data"
    data_files.write_all(data_dir, step.files, lambda text: expand(text, run))
    if step.sql is not None and run.case.sqlite is not None:
        with sqlite3.connect(data_dir / run.case.sqlite["file"]) as connection:
            connection.executescript(step.sql)
    elif step.sql is not None:
        _run_sql(run, step.sql, "change_data sql")


def expect(run: CaseRun, step: Expect) -> None:
    """The assert stage: every problem of one expect step in one message (evals/expectations.py)."""
    problems = expectations.table_problems(step.tables, run.project.root, run.postgres)
    if step.asset_keys is not None:
        listed = run_cli(run, run.kind.list_assets_argv(run.project))
        actual = run.kind.asset_keys(listed.output)
        problems += expectations.asset_key_problems(step.asset_keys, actual)
    latest = None if run.server is None else run.server.requests[run.requests_seen :]
    problems += expectations.request_problems(step, latest)
    if step.loads:
        problems += load_format_problems(Path(run.env["DLT_DATA_DIR"]), list(step.loads))
    if problems:
        raise StageFailure(f"{run.case.path}: " + "; ".join(problems))


def run_cli(
    run: CaseRun,
    argv: list[str],
    env: dict[str, str] | None = None,
    fails_with: str | None = None,
    success_text: str | None = None,
    recorded: Callable[[], str] | None = None,
) -> CommandResult:
    """Run the kind's CLI in the project; StageFailure unless it did what was expected of it.

    It must exit 0 and print `success_text` (when given), or, with `fails_with`, exit
    non-zero printing that text, or recording it where `recorded` reads (a launch's compute
    logs: evals/run_logs.py says why the terminal can miss it). A timeout, a kill or a file
    past the size limit fails it.
    """
    max_file_bytes = run.options.max_file_bytes
    result = run.cli.run(argv, run.project.root, env or run.env, run.remaining(), max_file_bytes)
    shown = " ".join(argv)
    if result.timed_out:
        raise StageFailure(f"`{shown}` timed out after {result.seconds:.0f}s", _tail(result.output))
    death = result.death(max_file_bytes)
    if death:
        raise StageFailure(f"`{shown}` was {death}{_culprit(run, result.output)}", _tail(result.output))
    if fails_with is not None:
        if result.returncode == 0:
            raise StageFailure(
                f"{run.case.path}: `{shown}` succeeded, expected it to fail with {fails_with!r}",
                _tail(result.output),
            )
        if fails_with not in result.output and (recorded is None or fails_with not in recorded()):
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
        return f": a file grew past the {run.options.max_file_bytes >> 20} MiB limit"
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
