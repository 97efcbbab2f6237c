"""Markdown summary of a drift run (evals/matrix.py `latest`, `latest-dagster`) that failed:
which versions ran against which the lock pins, which cases failed, and for each the first
output that differs from what the case expects: the harness's own message (expected vs
found) and the first error line of the command output; then the component schema diff.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

ERROR_LINE = re.compile(r"(Error|Exception|Traceback|FAILED|failed|error:|No module named)")


def first_error_line(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    for line in lines:
        if ERROR_LINE.search(line) and not line.startswith("Traceback"):
            return line
    return lines[0] if lines else ""


def _cell(text: str, limit: int = 400) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def summary(
    set_name: str,
    versions: dict[str, str],
    locked: dict[str, str],
    notes: list[str],
    report: dict | None,
    exit_code: int,
    schema_diff: str,
) -> str:
    lines = [f"## Drift: evals with the `{set_name}` releases", ""]
    lines += ["| package | lock | this run |", "| --- | --- | --- |"]
    for name, version in versions.items():
        mark = "" if locked.get(name) == version else " (new)"
        lines.append(f"| {name} | {locked.get(name, '')} | {version}{mark} |")
    lines += [""] + [f"- {note}" for note in notes] + [""]
    if report is None:
        lines += [f"The evals wrote no report (exit {exit_code}): see the job log.", ""]
    else:
        failed = [case for case in report["cases"] if not case["passed"]]
        lines.append(f"{report['passed']} passed, {report['failed']} failed (exit {exit_code})")
        if failed:
            lines += [
                "",
                "| case | stage | what differed | first error in the output |",
                "| --- | --- | --- | --- |",
            ]
            for case in failed:
                lines.append(
                    f"| {_cell(case['name'])} | {case['stage']} | {_cell(case['message'])} "
                    f"| {_cell(first_error_line(case['output']))} |"
                )
        lines.append("")
    lines += ["### DltLoadCollectionComponent schema", ""]
    if schema_diff:
        lines += ["Differs from evals/snapshots/:", "", "```diff", schema_diff.rstrip(), "```", ""]
    else:
        lines += ["Unchanged.", ""]
    return "\n".join(lines)


def load_report(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError):
        return None
