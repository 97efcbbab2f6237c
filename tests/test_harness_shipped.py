"""The shipped templates pass every stage of the real-CLI harness."""

from __future__ import annotations

import json
import re

import pytest

from evals import scenarios, snippets
from evals.cases import discover
from evals.cli import main
from evals.stages import STAGES

pytestmark = pytest.mark.slow


def test_every_shipped_case_passes_all_stages(tmp_path, capsys):
    report_path = tmp_path / "report.json"
    exit_code = main(["--json", str(report_path)])
    printed = capsys.readouterr().out

    report = json.loads(report_path.read_text())
    failures = [f"{c['name']} at {c['stage']}: {c['message']}" for c in report["cases"] if not c["passed"]]
    assert exit_code == 0, "\n".join(failures)
    expected = {c.name for c in [*discover(), *snippets.plan().cases, *scenarios.load_cases()]}
    assert {c["name"] for c in report["cases"]} == expected
    for case in report["cases"]:
        assert case["stage"] == "assert"
        assert list(case["stage_seconds"]) == list(STAGES)
    # every template is covered by at least one shipped case
    assert {c.template for c in discover()} == {"component", "pythonic", "asset"}
    assert f"{len(report['cases'])} passed, 0 failed" in printed
    assert re.search(
        r"doc blocks: (\d+) found, \d+ executed, \d+ schema-checked, \d+ skipped, 0 failed", printed
    )
