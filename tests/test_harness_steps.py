"""Literal-file cases and steps: expected failures, and a wrong expectation caught."""

from __future__ import annotations

from pathlib import Path

import pytest

from evals.cases import CaseError, case_from_data
from evals.runner import run_case

FAILING_ASSET = """\
import dagster as dg


@dg.asset
def exploding(context: dg.AssetExecutionContext) -> None:
    raise RuntimeError("boom from the asset")
"""


def failing_case(fails_with: str) -> dict:
    return {"files": {"exploding.py": FAILING_ASSET}, "steps": [{"launch": {"fails_with": fails_with}}]}


@pytest.mark.slow
def test_expected_launch_failure_passes_and_wrong_text_fails(tmp_path):
    where = tmp_path / "case.yaml"
    ok = run_case(case_from_data(failing_case("boom from the asset"), where))
    assert ok.passed, ok.message + ok.output

    wrong = run_case(case_from_data(failing_case("a different error"), where))
    assert not wrong.passed and wrong.stage == "materialize"
    assert "failed without the expected text 'a different error'" in wrong.message
    assert str(where) in wrong.message


SILENCED_ASSET = """\
import os
import signal
import sys
from pathlib import Path

import dagster as dg


@dg.asset
def silenced() -> None:
    # Stop dagster's `tail -F` that copies this run's captured output to the terminal, as a
    # busy machine does by ending it too early (dagster#23336): the error reaches only the file.
    home = os.environ["DAGSTER_HOME"]
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            argv = (proc / "cmdline").read_bytes().split(b"\\0")
        except OSError:
            continue
        if argv[:2] == [b"tail", b"-F"] and home.encode() in argv[-2]:
            os.kill(int(proc.name), signal.SIGKILL)
    # dagster 1.13 repeats the exception under RUN_FAILURE (1.11 does not): print the text
    print("words only the compute log holds", file=sys.stderr, flush=True)
    raise RuntimeError("boom")
"""


@pytest.mark.slow
def test_an_expected_failure_is_found_in_the_compute_logs_when_the_terminal_missed_it(tmp_path):
    launch = {"launch": {"fails_with": "words only the compute log holds"}}
    data = {"files": {"silenced.py": SILENCED_ASSET}, "steps": [launch]}
    result = run_case(case_from_data(data, tmp_path / "case.yaml"))
    assert result.passed, result.message + result.output


def _expecting(table: dict) -> dict:
    return {"files": {"a.py": ""}, "expect": {"tables": [{"database": "x.duckdb", "table": "s.t", **table}]}}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"files": {"a.py": ""}, "template": "asset", "vars": {}, "expect": {"tables": []}},
            "exactly one of template",
        ),
        ({"files": {"a.py": ""}}, "either steps"),
        ({"files": {"a.py": ""}, "steps": [{"add_records": {"items": 1}}]}, "add_records needs a server"),
        ({"files": {"../a.py": ""}, "steps": [{"launch": {}}]}, "files"),
        ({"files": {"a.py": ""}, "steps": [{"launch": {}, "expect": {}}]}, "steps/0"),
        (_expecting({"rows": 1, "absent": True}), "give rows (and optionally where), or absent: true alone"),
        (_expecting({}), "give rows (and optionally where), or absent: true alone"),
        (_expecting({"absent": True, "where": "id = 1"}), "or absent: true alone"),
    ],
)
def test_malformed_cases_are_refused_with_a_reason(data, message):
    with pytest.raises(CaseError) as info:
        case_from_data(data, Path("where.yaml"))
    assert "where.yaml" in str(info.value) and message in str(info.value)


NUMBERS_ASSET = """\
from pathlib import Path

import dagster as dg
import dlt

PROJECT_ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())


@dg.asset
def numbers() -> None:
    pipeline = dlt.pipeline(
        pipeline_name="numbers",
        dataset_name="raw",
        destination=dlt.destinations.duckdb(str(PROJECT_ROOT / "numbers.duckdb")),
    )
    pipeline.run([{"id": i} for i in range(5)], table_name="numbers").raise_on_failed_jobs()
"""


@pytest.mark.slow
def test_a_table_expectation_with_where_counts_only_matching_rows(tmp_path):
    def case(where: str, rows: int) -> dict:
        table = {"database": "numbers.duckdb", "table": "raw.numbers", "where": where, "rows": rows}
        return {"files": {"numbers.py": NUMBERS_ASSET}, "expect": {"tables": [table]}}

    path = tmp_path / "case.yaml"
    ok = run_case(case_from_data(case("id >= 3", 2), path))
    assert ok.passed, ok.message + ok.output

    wrong = run_case(case_from_data(case("id >= 3", 5), path))
    assert not wrong.passed and wrong.stage == "assert"
    assert "raw.numbers where id >= 3 has 2 rows, expected 5" in wrong.message

    broken = run_case(case_from_data(case("no_such_column = 1", 0), path))
    assert not broken.passed and broken.stage == "assert"
    assert "cannot count raw.numbers where no_such_column = 1" in broken.message


def test_an_absent_table_expectation_fails_when_the_table_exists(tmp_path):
    import duckdb

    from evals.cases import TableExpectation
    from evals.expectations import table_problems

    with duckdb.connect(str(tmp_path / "x.duckdb")) as connection:
        connection.execute("create schema s; create table s.t as select 1 as id")
    there = TableExpectation(database="x.duckdb", table="s.t", absent=True)
    missing = TableExpectation(database="x.duckdb", table="s.other", absent=True)
    assert table_problems([there, missing], tmp_path) == [
        "x.duckdb: s.t exists (1 rows), expected no such table"
    ]
