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

from evals import fast, guard, masking, stages
from evals.cases import Case, Launch
from evals.commands import DEFAULT_MAX_FILE_BYTES, Cancelled, cancelled, kill_all
from evals.project import clean_env
from evals.rest_server import RestApiServer
from evals.services import postgres
from evals.skill import templating

STEP_STAGES = {
    stages.Launch: "materialize",
    stages.AddRecords: "materialize",
    stages.ChangeData: "materialize",
    stages.Expect: "assert",
}
STEP_FUNCTIONS = {
    stages.Launch: stages.launch,
    stages.AddRecords: stages.add_records,
    stages.ChangeData: stages.change_data,
    stages.Expect: stages.expect,
}


@dataclass
class CaseResult:
    name: str
    path: Path
    passed: bool = False
    stage: str = ""  # the last stage reached: where it failed, or "assert" when it passed
    message: str = ""
    output: str = ""
    seconds: float = 0.0
    stage_seconds: dict[str, float] = field(default_factory=dict)


def _plan(case: Case, grading_prebuilt: bool = False) -> list[tuple[str, Callable[[stages.CaseRun], None]]]:
    """The case as (stage name, action) pairs in the order they run."""
    plan: list[tuple[str, Callable[[stages.CaseRun], None]]] = [("render", stages.render)]
    if case.scaffold_fails_with is not None and not grading_prebuilt:
        return plan  # the case proves a refusal: nothing to check or run
    plan.append(("check", stages.check))
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
    templates_dir: Path = templating.TEMPLATES_DIR,
    keep: bool = False,
    faithful: bool = False,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
    prebuilt: Path | None = None,
    postgres_server: postgres.SharedServer | None = None,
) -> CaseResult:
    """Run one case in its own temp folder; fast mode unless `faithful` (real dg per command).

    With `prebuilt`, the case grades a copy of that project instead of building one. A case
    that asks for PostgreSQL gets a database on `postgres_server` (without one, on a server
    of its own, stopped when it ends).
    """
    roots = guard.watched_roots()
    before = guard.snapshot(roots)
    run_secrets: list[str] = []
    with ExitStack() as stack:
        if case.postgres is not None and postgres_server is None:
            postgres_server = stack.enter_context(postgres.SharedServer())
        result = _run_case(
            case, templates_dir, keep, faithful, max_file_bytes, prebuilt, postgres_server, run_secrets
        )
    strays = guard.changes(before, guard.snapshot(roots))
    if strays and result.passed:
        result.passed, result.stage = False, "assert"
        where = ", ".join(strays[:10])
        result.message = (
            f"{case.path}: something wrote outside the case's temp folder while this case ran: {where}"
        )
    secrets = masking.secret_values(
        os.environ, case.env, *(s.env for s in case.steps if isinstance(s, Launch))
    )
    secrets = sorted({*secrets, *run_secrets}, key=len, reverse=True)
    result.message = masking.mask(result.message, secrets)
    result.output = masking.mask(result.output, secrets)
    return result


def _run_case(
    case: Case,
    templates_dir: Path,
    keep: bool,
    faithful: bool,
    max_file_bytes: int,
    prebuilt: Path | None,
    postgres_server: postgres.SharedServer | None,
    run_secrets: list[str],
) -> CaseResult:
    """`run_secrets` receives the values to mask that only the run knows (expanded env, passwords)."""
    result = CaseResult(name=case.name, path=case.path)
    start = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix=f"dlt-dagster-eval-{case.name}-"))
    try:
        with ExitStack() as stack:
            run = stages.CaseRun(
                case=case,
                workdir=workdir,
                templates_dir=templates_dir,
                deadline=start + case.timeout,
                faithful=faithful,
                max_file_bytes=max_file_bytes,
                prebuilt=prebuilt,
                postgres_server=postgres_server,
            )
            if case.server is not None:
                run.server = stack.enter_context(RestApiServer.from_spec(case.server))
            # Registered after the server, so it runs first, while {base_url} still expands.
            stack.callback(_collect_secrets, run, run_secrets)
            for stage_name, action in _plan(case, prebuilt is not None):
                result.stage = stage_name
                action_start = time.monotonic()
                try:
                    action(run)
                except stages.StageFailure as failure:
                    result.message = failure.message
                    result.output = failure.output
                    return result
                except Cancelled:
                    result.message = "interrupted"
                    return result
                finally:
                    elapsed = time.monotonic() - action_start
                    result.stage_seconds[stage_name] = result.stage_seconds.get(stage_name, 0.0) + elapsed
            result.passed = True
            return result
    finally:
        result.seconds = time.monotonic() - start
        if keep:
            result.output += f"\n(kept case folder: {workdir})"
        else:
            shutil.rmtree(workdir, ignore_errors=True)


def _collect_secrets(run: stages.CaseRun, run_secrets: list[str]) -> None:
    launch_envs = [
        {k: stages.expand(v, run) for k, v in s.env.items()} for s in run.case.steps if isinstance(s, Launch)
    ]
    run_secrets.extend(masking.secret_values(run.env, *launch_envs))
    if run.postgres is not None:
        run_secrets.append(run.postgres.password)


def run_cases(
    cases: Iterable[Case],
    templates_dir: Path = templating.TEMPLATES_DIR,
    keep: bool = False,
    on_result: Callable[[CaseResult], None] | None = None,
    jobs: int = 1,
    faithful: bool = False,
    on_start: Callable[[Case], None] | None = None,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> list[CaseResult]:
    """Run cases, `jobs` at a time; results come back in the order of `cases`.

    With more than one job, the longest-looking cases (Case.expected_cost) start first, so
    that one long case does not run alone at the end while the other cores sit idle.

    On Ctrl-C every running command's process group is killed, cases not yet started are
    dropped, each running case cleans up its temp folder, and Interrupted carries the
    results of the cases that had finished.
    """
    cases = list(cases)
    if not faithful and cases:
        fast.warm_up(clean_env())  # before any thread starts
    cancelled.clear()

    shared_postgres = postgres.SharedServer()  # started by the first case that asks for it

    def run_one(case: Case) -> CaseResult:
        if on_start:
            on_start(case)
        return run_case(case, templates_dir, keep, faithful, max_file_bytes, postgres_server=shared_postgres)

    pool = ThreadPoolExecutor(max_workers=max(1, jobs))
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
        raise Interrupted([r for r in finished if r.message != "interrupted"]) from None
    finally:
        pool.shutdown(wait=True)
        shared_postgres.stop()
    return [f.result() for f in futures]
