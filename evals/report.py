"""Reports of a run: a text table (terminal), JSON, JUnit XML and a Markdown summary."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from evals.runner import CaseResult


def _stage_times(result: CaseResult) -> str:
    return " ".join(f"{name} {seconds:.1f}s" for name, seconds in result.stage_seconds.items())


def result_line(result: CaseResult) -> str:
    verdict = "PASS" if result.passed else "FAIL"
    return f"{verdict}  {result.name:<40} {result.stage:<12} {result.seconds:6.1f}s  ({_stage_times(result)})"


def totals_line(results: list[CaseResult]) -> str:
    failed = sum(not r.passed for r in results)
    return f"{len(results) - failed} passed, {failed} failed"


def text_report(results: list[CaseResult]) -> str:
    lines = [f"{'':6}{'case':<40} {'stage':<12} {'time':>7}"]
    lines += [result_line(r) for r in results]
    for r in results:
        if not r.passed:
            lines += ["", f"--- {r.name} failed at {r.stage}: {r.message}"]
            if r.output.strip():
                lines += ["    " + line for line in r.output.strip().splitlines()]
    lines += ["", totals_line(results)]
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


def junit_report(results: list[CaseResult], suite: str = "dlt-dagster-evals") -> str:
    failures = sum(not r.passed for r in results)
    testsuite = ET.Element(
        "testsuite",
        name=suite,
        tests=str(len(results)),
        failures=str(failures),
        errors="0",
        time=f"{sum(r.seconds for r in results):.3f}",
    )
    for r in results:
        case = ET.SubElement(
            testsuite, "testcase", classname=suite, name=r.name, file=str(r.path), time=f"{r.seconds:.3f}"
        )
        if not r.passed:
            failure = ET.SubElement(case, "failure", message=f"{r.stage}: {r.message}", type=r.stage)
            failure.text = r.output
        ET.SubElement(case, "system-out").text = _stage_times(r)
    return ET.tostring(testsuite, encoding="unicode", xml_declaration=True)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown_summary(results: list[CaseResult]) -> str:
    lines = [
        f"## dlt-dagster evals: {totals_line(results)}",
        "",
        "| result | case | stage | time | stages |",
        "| --- | --- | --- | ---: | --- |",
    ]
    for r in results:
        verdict = "✅ pass" if r.passed else "❌ fail"
        lines.append(f"| {verdict} | {_cell(r.name)} | {r.stage} | {r.seconds:.1f}s | {_stage_times(r)} |")
    for r in results:
        if not r.passed:
            lines += ["", f"### {r.name}: failed at {r.stage}", "", _cell(r.message)]
            if r.output.strip():
                tail = "\n".join(r.output.strip().splitlines()[-30:])
                lines += ["", "```text", tail.replace("```", "'''"), "```"]
    return "\n".join(lines) + "\n"


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")


def write_reports(
    results: list[CaseResult], json_path: Path | None, junit: Path | None, summary_path: Path | None
) -> str:
    """Write the reports asked for (JSON, JUnit XML, Markdown); return the Markdown summary."""
    if json_path:
        write(json_path, json_report(results) + "\n")
    if junit:
        write(junit, junit_report(results) + "\n")
    summary = markdown_summary(results)
    if summary_path:
        write(summary_path, summary)
    return summary
