"""The incremental case fails when the behaviour it proves is broken."""

from __future__ import annotations

import pytest

from evals.cases import CASES_DIR, load_case
from evals.runner import run_case

pytestmark = pytest.mark.slow


def test_second_run_loads_only_new_records_and_fails_without_the_incremental_hint(templates_copy):
    case = load_case(CASES_DIR / "component-rest-api-incremental.yaml")
    assert run_case(case).passed

    # drop the cursor binding: the second run asks for everything again
    source = templates_copy / "_partials" / "source.py.j2"
    text = source.read_text()
    start = text.index("{% if incremental_cursor %}\n                    # The cursor")
    end = text.index("{% endif %}", start) + len("{% endif %}")
    source.write_text(text[:start] + text[end:])
    broken = run_case(case, templates_dir=templates_copy)
    assert not broken.passed and broken.stage == "assert"
    assert "no request to /events with {'updated_since': '1970-01-01T00:00:00+00:00'}" in broken.message
