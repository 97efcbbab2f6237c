"""Report formats parse as what they claim to be, and carry the facts of the run."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

from markdown_it import MarkdownIt

from evals import report
from evals.cli import write_reports
from evals.runner import CaseResult

RESULTS = [
    CaseResult(
        name="good",
        path=Path("good.yaml"),
        passed=True,
        stage="assert",
        seconds=1.5,
        stage_seconds={"render": 0.1, "check": 0.4, "materialize": 0.8, "assert": 0.2},
    ),
    CaseResult(
        name="bad | pipe",
        path=Path("bad.yaml"),
        passed=False,
        stage="check",
        seconds=0.7,
        message="`dg check defs` failed (exit 1) in src/x/defs/a.py",
        output="Traceback\nImportError: cannot import name 'x'",
        stage_seconds={"render": 0.1, "check": 0.6},
    ),
]


def test_junit_xml_counts_and_failures():
    suite = ET.fromstring(report.junit_report(RESULTS))
    assert suite.tag == "testsuite"
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    cases = {c.get("name"): c for c in suite.iter("testcase")}
    assert cases["good"].find("failure") is None
    failure = cases["bad | pipe"].find("failure")
    assert failure.get("type") == "check"
    assert "src/x/defs/a.py" in failure.get("message")
    assert "ImportError" in failure.text


def test_markdown_summary_is_a_table_with_one_row_per_case():
    tokens = MarkdownIt().enable("table").parse(report.markdown_summary(RESULTS))
    heading = next(
        t for i, t in enumerate(tokens) if tokens[i - 1].type == "heading_open" and t.type == "inline"
    )
    assert heading.content == "dlt-dagster evals: 1 passed, 1 failed"
    rows = [t for t in tokens if t.type == "tr_open"]
    assert len(rows) == 1 + len(RESULTS)  # header + one per case, the pipe in a name escaped
    fences = [t for t in tokens if t.type == "fence"]
    assert "ImportError" in fences[0].content


def test_write_reports_writes_every_format_and_the_github_step_summary(tmp_path, monkeypatch):
    step_summary = tmp_path / "step-summary.md"
    step_summary.write_text("earlier step\n")
    monkeypatch.setenv("GITHUB_STEP_SUMMARY", str(step_summary))

    class Args:
        json_path = tmp_path / "r.json"
        junit = tmp_path / "out" / "r.xml"
        summary = tmp_path / "r.md"

    write_reports(Args, RESULTS)
    assert json.loads(Args.json_path.read_text())["failed"] == 1
    ET.parse(Args.junit)
    assert Args.summary.read_text() in step_summary.read_text()
    assert step_summary.read_text().startswith("earlier step\n")
