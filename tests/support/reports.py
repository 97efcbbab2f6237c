"""Assertions on a case result's reports, shared by the masking tests."""

from __future__ import annotations

from evals import report


def assert_nowhere(secret: str, result) -> None:
    """The secret is in no message, output or report (JSON, JUnit, Markdown) of the result."""
    for text in (
        result.message,
        result.output,
        report.json_report([result]),
        report.junit_report([result]),
        report.markdown_summary([result]),
    ):
        assert secret not in text
