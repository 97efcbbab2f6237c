"""Run cases through the stages in order and collect one result per case."""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Callable, Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

from evals import stages
from evals.cases import Case
from evals.rest_server import RestApiServer
from evals.skill import templating

STAGE_FUNCTIONS: dict[str, Callable[[stages.CaseRun], None]] = {
    "render": stages.render,
    "check": stages.check,
    "materialize": stages.materialize,
    "assert": stages.assert_tables,
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


def run_case(case: Case, templates_dir: Path = templating.TEMPLATES_DIR, keep: bool = False) -> CaseResult:
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
            )
            if case.server is not None:
                server = stack.enter_context(
                    RestApiServer(case.server["resources"], page_size=case.server.get("page_size", 2))
                )
                run.base_url = server.url
            for name, stage in STAGE_FUNCTIONS.items():
                result.stage = name
                stage_start = time.monotonic()
                try:
                    stage(run)
                except stages.StageFailure as failure:
                    result.message = failure.message
                    result.output = failure.output
                    return result
                finally:
                    result.stage_seconds[name] = time.monotonic() - stage_start
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
) -> list[CaseResult]:
    results = []
    for case in cases:
        result = run_case(case, templates_dir, keep)
        results.append(result)
        if on_result:
            on_result(result)
    return results
