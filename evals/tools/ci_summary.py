"""Markdown summary of pytest's JUnit XML and the quick-start walkthrough's JSON, for CI.

Used by .github/workflows/evals.yml to fill the job summary ($GITHUB_STEP_SUMMARY); the
evals write their own (dlt-dagster-evals --summary). A report that is missing (its step
did not run) is listed as missing, not skipped over silently.
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def _cell(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split()).replace("|", "\\|")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def pytest_section(path: Path) -> list[str]:
    lines = ["## Tests (pytest)", ""]
    if not path.is_file():
        return lines + [f"No JUnit report at `{path}`: the test step did not finish.", ""]
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    totals = {
        key: sum(int(s.get(key, 0)) for s in suites) for key in ("tests", "failures", "errors", "skipped")
    }
    passed = totals["tests"] - totals["failures"] - totals["errors"] - totals["skipped"]
    failed, errors, skipped = totals["failures"], totals["errors"], totals["skipped"]
    lines.append(f"{passed} passed, {failed} failed, {errors} errors, {skipped} skipped")
    problems = []
    for case in root.iter("testcase"):
        for kind in ("failure", "error"):
            element = case.find(kind)
            if element is not None:
                name = f"{case.get('classname', '')}::{case.get('name', '')}"
                problems.append(f"| {kind} | `{_cell(name)}` | {_cell(element.get('message', ''))} |")
    if problems:
        lines += ["", "| result | test | message |", "| --- | --- | --- |", *problems]
    return lines + [""]


def walkthrough_section(path: Path) -> list[str]:
    lines = ["## Quick-start walkthrough", ""]
    if not path.is_file():
        return lines + [f"No walkthrough report at `{path}`: the walkthrough step did not finish.", ""]
    result = json.loads(path.read_text(encoding="utf-8"))
    lines += [("Passed: " if result["passed"] else "**Failed**: ") + _cell(result["message"], 1000), ""]
    lines += ["| # | command | exit | seconds |", "| ---: | --- | ---: | ---: |"]
    for number, step in enumerate(result["steps"], 1):
        lines.append(
            f"| {number} | `{_cell(step['command'])}` | {step['returncode']} | {step['seconds']:.1f} |"
        )
    return lines + [""]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dlt-dagster-evals summary", description=__doc__.splitlines()[0])
    parser.add_argument("--junit", type=Path, action="append", default=[], help="pytest --junitxml file")
    parser.add_argument("--walkthrough", type=Path, help="dlt-dagster-evals walkthrough --json file")
    parser.add_argument("--title", default="dlt-dagster CI", help="top heading")
    args = parser.parse_args(argv)
    lines = [f"# {args.title}", ""]
    for path in args.junit:
        lines += pytest_section(path)
    if args.walkthrough:
        lines += walkthrough_section(args.walkthrough)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
