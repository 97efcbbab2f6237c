"""Reports: a text table for people, JSON for tools."""

from __future__ import annotations

import json
from pathlib import Path

from evals.runner import CaseResult


def result_line(result: CaseResult) -> str:
    verdict = "PASS" if result.passed else "FAIL"
    stages = " ".join(f"{name} {seconds:.1f}s" for name, seconds in result.stage_seconds.items())
    return f"{verdict}  {result.name:<40} {result.stage:<12} {result.seconds:6.1f}s  ({stages})"


def text_report(results: list[CaseResult]) -> str:
    lines = [f"{'':6}{'case':<40} {'stage':<12} {'time':>7}"]
    lines += [result_line(r) for r in results]
    failures = [r for r in results if not r.passed]
    for r in failures:
        lines += ["", f"--- {r.name} failed at {r.stage}: {r.message}"]
        if r.output.strip():
            lines += ["    " + line for line in r.output.strip().splitlines()]
    passed = len(results) - len(failures)
    lines += ["", f"{passed} passed, {len(failures)} failed"]
    return "\n".join(lines)


def json_report(results: list[CaseResult]) -> str:
    return json.dumps(
        {
            "passed": sum(r.passed for r in results),
            "failed": sum(not r.passed for r in results),
            "cases": [
                {
                    "name": r.name,
                    "case_file": str(r.path),
                    "passed": r.passed,
                    "stage": r.stage,
                    "message": r.message,
                    "output": r.output,
                    "seconds": round(r.seconds, 3),
                    "stage_seconds": {k: round(v, 3) for k, v in r.stage_seconds.items()},
                }
                for r in results
            ],
        },
        indent=2,
    )


def write_json(results: list[CaseResult], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json_report(results) + "\n", encoding="utf-8")
