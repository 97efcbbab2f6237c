"""Fast and faithful modes agree on pass/fail and on the failing stage."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.cases import case_from_data
from evals.runner import run_cases

pytestmark = pytest.mark.slow

GOOD_ASSET = """\
from pathlib import Path

import dlt
import dagster as dg

PROJECT_ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())


@dg.asset
def numbers() -> None:
    pipeline = dlt.pipeline(
        pipeline_name="numbers",
        dataset_name="raw",
        destination=dlt.destinations.duckdb(str(PROJECT_ROOT / "numbers.duckdb")),
    )
    pipeline.run([{"id": i} for i in range(3)], table_name="numbers").raise_on_failed_jobs()
"""

TABLE = {"database": "numbers.duckdb", "table": "raw.numbers", "rows": 3}

CASES = {
    # name: (case data, expected stage, expected to pass)
    "passes": ({"files": {"numbers.py": GOOD_ASSET}, "expect": {"tables": [TABLE]}}, "assert", True),
    "fails-render": (
        {"template": "asset", "vars": {"pipeline_name": "x"}, "expect": {"tables": [TABLE]}},
        "render",
        False,
    ),
    "fails-check": (
        {"files": {"numbers.py": "import dagster_dlt.nope\n"}, "expect": {"tables": [TABLE]}},
        "check",
        False,
    ),
    "fails-materialize": (
        {
            "files": {"numbers.py": GOOD_ASSET.replace("range(3)", "range(3)] + [1 / 0")},
            "expect": {"tables": [TABLE]},
        },
        "materialize",
        False,
    ),
    "fails-assert": (
        {"files": {"numbers.py": GOOD_ASSET}, "expect": {"tables": [{**TABLE, "rows": 4}]}},
        "assert",
        False,
    ),
}


def test_fast_and_faithful_agree_at_every_stage():
    cases = [
        case_from_data({"name": name, **data}, Path(f"{name}.yaml")) for name, (data, _, _) in CASES.items()
    ]
    fast = run_cases(cases, jobs=2)
    faithful = run_cases(cases, faithful=True)
    for fast_result, faithful_result in zip(fast, faithful, strict=True):
        _, stage, passed = CASES[fast_result.name]
        for result in (fast_result, faithful_result):
            assert (result.passed, result.stage) == (passed, stage), f"{result.name}: {result.message}"
    assert "ZeroDivisionError" in dict((r.name, r.output) for r in fast)["fails-materialize"]
    assert "ZeroDivisionError" in dict((r.name, r.output) for r in faithful)["fails-materialize"]


HANGING_ASSET = """\
import time

import dagster as dg


@dg.asset
def hangs() -> None:
    time.sleep(600)
"""


@pytest.mark.parametrize("faithful", [False, True], ids=["fast", "faithful"])
def test_a_hanging_case_is_killed_at_its_timeout_and_the_run_goes_on(faithful):
    hanging = case_from_data(
        {"name": "hangs", "files": {"hangs.py": HANGING_ASSET}, "timeout": 25, "steps": [{"launch": {}}]},
        Path("hangs.yaml"),
    )
    after = case_from_data(
        {"name": "after", "files": {"numbers.py": GOOD_ASSET}, "expect": {"tables": [TABLE]}},
        Path("after.yaml"),
    )
    results = run_cases([hanging, after], faithful=faithful)
    assert not results[0].passed and results[0].stage == "materialize"
    assert "timed out" in results[0].message
    assert results[0].seconds < 60
    assert results[1].passed, results[1].message
