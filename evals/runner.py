"""Run cases through the stages in order and collect one result per case."""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from evals import cli_runners, fast, guard, masking, stages
from evals.cases import AddRecords, Case, ChangeData, Expect, Launch, Stage
from evals.commands import Cancelled, cancelled, kill_all
from evals.kinds import kind_of
from evals.options import RunOptions
from evals.project import clean_env
from evals.rest_server import RestApiServer
from evals.services import postgres

STEP_STAGES = {
    Launch: Stage.MATERIALIZE,
    AddRecords: Stage.MATERIALIZE,
    ChangeData: Stage.MATERIALIZE,
    Expect: Stage.ASSERT,
}
STEP_FUNCTIONS = {
    Launch: stages.launch,
    AddRecords: stages.add_records,
    ChangeData: stages.change_data,
    Expect: stages.expect,
}


@dataclass
class CaseResult:
    name: str
    path: Path
    passed: bool = False
    stage: Stage = Stage.RENDER  # the last stage reached: where it failed, or "assert" when it passed
    message: str = ""
    output: str = ""
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)
    interrupted: bool = False  # the run was interrupted (Ctrl-C) while this case ran


def _plan(case: Case, grading_prebuilt: bool = False) -> list[tuple[Stage, Callable[[stages.CaseRun], None]]]:
    """The case as (stage, action) pairs in the order they run."""
    plan: list[tuple[Stage, Callable[[stages.CaseRun], None]]] = [(Stage.RENDER, stages.render)]
    if case.scaffold_fails_with is not None and not grading_prebuilt:
        return plan  # the case proves a refusal: nothing to check or run
    plan.append((Stage.CHECK, stages.check))
    for step in case.steps:
        function = STEP_FUNCTIONS[type(step)]
        plan.append((STEP_STAGES[type(step)], lambda run, f=function, s=step: f(run, s)))
    return plan


class Interrupted(Exception):
    """The run was interrupted (Ctrl-C); `results` holds the cases that had finished."""

    def __init__(self, results: list[CaseResult]):
        super().__init__("interrupted")
        self.results = results


def run_case(
    case: Case,
    options: RunOptions | None = None,
    prebuilt: Path | None = None,
    server: RestApiServer | None = None,
    postgres_server: postgres.SharedServer | None = None,
    **option_fields,
) -> CaseResult:
    """Run one case in its own temp folder, as `options` say (or RunOptions(**option_fields)).

    With `prebuilt`, the case grades a copy of that project instead of building one; with
    `server`, the case's API is that running server (the one a coding agent was told about)
    instead of a new one. A case that asks for PostgreSQL gets a database on
    `postgres_server` (without one, on a server of its own, stopped when it ends).
    """
    options = options or RunOptions(**option_fields)
    start = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix=f"dlt-dagster-eval-{case.name}-"))
    roots = guard.watched_roots()
    before = guard.snapshot(roots)
    run_secrets: list[str] = []
    try:
        with ExitStack() as stack:
            if case.postgres is not None and postgres_server is None:
                postgres_server = stack.enter_context(postgres.SharedServer())
            result = _run_stages(case, options, workdir, prebuilt, server, postgres_server, run_secrets)
        result.seconds = time.monotonic() - start
        _blame_stray_writes(result, guard.changes(before, guard.snapshot(roots)), workdir)
    finally:
        if not options.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    if options.keep:
        result.output += f"\n(kept case folder: {workdir})"
    secrets = masking.secret_values(
        os.environ, case.env, *(s.env for s in case.steps if isinstance(s, Launch))
    )
    secrets = sorted({*secrets, *run_secrets}, key=len, reverse=True)
    result.message = masking.mask(result.message, secrets)
    result.output = masking.mask(result.output, secrets)
    return result


def _blame_stray_writes(result: CaseResult, changed: list[str], workdir: Path) -> None:
    """Fail a passing case for what it wrote outside its folder (evals/guard.py)."""
    if not changed or not result.passed:
        return
    strays = guard.case_writes(changed, guard.names_of_case(workdir / "project", workdir / "dlt_data"))
    if strays:
        result.passed, result.stage = False, Stage.ASSERT
        where = ", ".join(strays[:10])
        result.message = f"{result.path}: the case wrote outside its temp folder: {where}"


def _run_stages(
    case: Case,
    options: RunOptions,
    workdir: Path,
    prebuilt: Path | None,
    server: RestApiServer | None,
    postgres_server: postgres.SharedServer | None,
    run_secrets: list[str],
) -> CaseResult:
    """`run_secrets` receives the values to mask that only the run knows (expanded env, passwords)."""
    result = CaseResult(name=case.name, path=case.path)
    start = time.monotonic()
    timeout = options.case_timeout(case.timeout)
    kind = kind_of(case)
    with ExitStack() as stack:
        run = stages.CaseRun(
            case=case,
            workdir=workdir,
            options=options,
            kind=kind,
            cli=cli_runners.runner_for(options, kind),
            deadline=start + timeout,
            timeout=timeout,
            prebuilt=prebuilt,
            postgres_server=postgres_server,
        )
        if server is not None:
            run.server = server
        elif case.server is not None:
            run.server = stack.enter_context(RestApiServer.from_spec(case.server))
        # Registered after the server, so it runs first, while {base_url} still expands.
        stack.callback(_collect_secrets, run, run_secrets)
        for stage, action in _plan(case, prebuilt is not None):
            result.stage = stage
            action_start = time.monotonic()
            try:
                action(run)
            except stages.StageFailure as failure:
                result.message = failure.message
                result.output = failure.output
                return result
            except Cancelled:
                result.message, result.interrupted = "interrupted", True
                return result
            finally:
                elapsed = time.monotonic() - action_start
                result.stage_seconds[stage] = result.stage_seconds.get(stage, 0.0) + elapsed
        result.passed = True
        return result


def _collect_secrets(run: stages.CaseRun, run_secrets: list[str]) -> None:
    launch_envs = [
        {k: stages.expand(v, run) for k, v in s.env.items()} for s in run.case.steps if isinstance(s, Launch)
    ]
    run_secrets.extend(masking.secret_values(run.env, *launch_envs))
    if run.postgres is not None:
        run_secrets.append(run.postgres.password)


def run_cases(
    cases: Iterable[Case],
    options: RunOptions | None = None,
    on_start: Callable[[Case], None] | None = None,
    on_result: Callable[[CaseResult], None] | None = None,
    **option_fields,
) -> list[CaseResult]:
    """Run cases, `options.jobs` at a time (options: `options`, or RunOptions(**option_fields));
    results come back in the order of `cases`.

    With more than one job, the longest-looking cases (Case.expected_cost) start first, so
    that one long case does not run alone at the end while the other cores sit idle.

    On Ctrl-C every running command's process group is killed, cases not yet started are
    dropped, each running case cleans up its temp folder, and Interrupted carries the
    results of the cases that had finished.
    """
    options = options or RunOptions(**option_fields)
    cases = list(cases)
    if not options.faithful and cases:
        fast.warm_up(clean_env())  # before any thread starts
    cancelled.clear()

    shared_postgres = postgres.SharedServer()  # started by the first case that asks for it

    def run_one(case: Case) -> CaseResult:
        if on_start:
            on_start(case)
        return run_case(case, options, postgres_server=shared_postgres)

    jobs = max(1, options.jobs)
    pool = ThreadPoolExecutor(max_workers=jobs)
    order = range(len(cases))
    if jobs > 1:
        order = sorted(order, key=lambda index: -cases[index].expected_cost)
    submitted = {index: pool.submit(run_one, cases[index]) for index in order}
    futures = [submitted[index] for index in range(len(cases))]
    try:
        for future in as_completed(futures):
            if on_result:
                on_result(future.result())
    except KeyboardInterrupt:
        kill_all()
        for future in futures:
            future.cancel()
        pool.shutdown(wait=True)
        finished = [f.result() for f in futures if f.done() and not f.cancelled()]
        raise Interrupted([r for r in finished if not r.interrupted]) from None
    finally:
        pool.shutdown(wait=True)
        shared_postgres.stop()
    return [f.result() for f in futures]
