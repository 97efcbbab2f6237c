"""evals/tools/ci_summary.py turns real pytest JUnit XML and the walkthrough's JSON report into Markdown."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from evals.tools.ci_summary import main


def real_junit(tmp_path: Path) -> Path:
    """JUnit XML from a real pytest run with one passing, one failing and one skipped test."""
    tests = tmp_path / "suite" / "test_demo.py"
    tests.parent.mkdir()
    tests.write_text(
        "import pytest\n\ndef test_ok():\n    pass\n\n"
        "def test_bad():\n    assert 1 == 2, 'one is not two'\n\n"
        "@pytest.mark.skip(reason='no')\ndef test_skipped():\n    pass\n",
        encoding="utf-8",
    )
    junit = tmp_path / "pytest.xml"
    subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}", str(tests)],
        cwd=tests.parent,
        capture_output=True,
    )
    return junit


def test_summary_reports_tests_and_walkthrough(tmp_path, capsys):
    junit = real_junit(tmp_path)
    walkthrough = tmp_path / "walkthrough.json"
    walkthrough.write_text(
        json.dumps(
            {
                "passed": False,
                "message": "SKILL.md: quick-start command 2 `cd nowhere` failed (exit 1)",
                "steps": [
                    {"command": "mkdir a", "returncode": 0, "seconds": 0.0},
                    {"command": "cd nowhere", "returncode": 1, "seconds": 0.1},
                ],
            }
        ),
        encoding="utf-8",
    )
    assert main(["--junit", str(junit), "--walkthrough", str(walkthrough)]) == 0
    markdown = capsys.readouterr().out
    assert "1 passed, 1 failed, 0 errors, 1 skipped" in markdown
    assert "test_bad" in markdown and "one is not two" in markdown
    assert "**Failed**: SKILL.md: quick-start command 2 `cd nowhere` failed (exit 1)" in markdown
    assert "| 2 | `cd nowhere` | 1 | 0.1 |" in markdown


def test_summary_says_when_a_report_is_missing(tmp_path, capsys):
    main(["--junit", str(tmp_path / "none.xml"), "--walkthrough", str(tmp_path / "none.json")])
    markdown = capsys.readouterr().out
    assert "No JUnit report" in markdown
    assert "No walkthrough report" in markdown
