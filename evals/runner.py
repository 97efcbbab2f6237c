"""Run cases through the stages in order and collect one result per case."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from evals import fast, stages
from evals.cases import Case
from evals.project import clean_env
from evals.rest_server import RestApiServer
from evals.skill import templating

STEP_STAGES = {stages.Launch: "materialize", stages.AddRecords: "materialize", stages.Expect: "assert"}
STEP_FUNCTIONS = {
    stages.Launch: stages.launch,
    stages.AddRecords: stages.add_records,
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


def _plan(case: Case) -> list[tuple[str, Callable[[stages.CaseRun], None]]]:
    """The case as (stage name, action) pairs in the order they run."""
    plan: list[tuple[str, Callable[[stages.CaseRun], None]]] = [
        ("render", stages.render),
        ("check", stages.check),
    ]
    for step in case.steps:
        function = STEP_FUNCTIONS[type(step)]
        plan.append((STEP_STAGES[type(step)], lambda run, f=function, s=step: f(run, s)))
    return plan


def run_case(
    case: Case,
    templates_dir: Path = templating.TEMPLATES_DIR,
    keep: bool = False,
    faithful: bool = False,
) -> CaseResult:
    """Run one case in its own temp folder; fast mode unless `faithful` (real dg per command)."""
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
            )
            if case.server is not None:
                run.server = stack.enter_context(
                    RestApiServer(case.server["resources"], page_size=case.server.get("page_size", 2))
                )
            for stage_name, action in _plan(case):
                result.stage = stage_name
                action_start = time.monotonic()
                try:
                    action(run)
                except stages.StageFailure as failure:
                    result.message = failure.message
                    result.output = failure.output
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


def run_cases(
    cases: Iterable[Case],
    templates_dir: Path = templating.TEMPLATES_DIR,
    keep: bool = False,
    on_result: Callable[[CaseResult], None] | None = None,
    jobs: int = 1,
    faithful: bool = False,
    on_start: Callable[[Case], None] | None = None,
) -> list[CaseResult]:
    """Run cases, `jobs` at a time; results come back in the order of `cases`."""
    cases = list(cases)
    if not faithful and cases:
        fast.warm_up(clean_env())  # before any thread starts

    def run_one(case: Case) -> CaseResult:
        if on_start:
            on_start(case)
        return run_case(case, templates_dir, keep, faithful)

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = [pool.submit(run_one, case) for case in cases]
        for future in as_completed(futures):
            if on_result:
                on_result(future.result())
        return [f.result() for f in futures]
