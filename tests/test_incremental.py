"""The incremental case fails when the behaviour it proves is broken."""

from __future__ import annotations

import dataclasses

import pytest

from evals.cases import CASES_DIR, load_case
from evals.runner import run_case

pytestmark = pytest.mark.slow


def test_second_run_loads_only_new_records_and_fails_without_the_incremental_hint():
    case = load_case(CASES_DIR / "component-rest-api-incremental.yaml")
    assert run_case(case).passed

    # the same case without the cursor binding: the second run asks for everything again
    unbound = dataclasses.replace(
        case, vars={k: v for k, v in case.vars.items() if k != "incremental_cursor"}
    )
    broken = run_case(unbound)
    assert not broken.passed and broken.stage == "assert"
    assert "no request to /events with {'updated_since': '1970-01-01T00:00:00+00:00'}" in broken.message
