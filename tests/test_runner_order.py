"""The runner starts the longest-looking cases first and still reports in case order."""

from __future__ import annotations

from pathlib import Path

from evals import runner
from evals.cases import case_from_data
from evals.runner import CaseResult

TABLE = {"database": "x.duckdb", "table": "raw.x", "rows": 1}


def _case(name: str, launches: int, without_packages: list[str] | None = None):
    data = {
        "name": name,
        "files": {"x.py": "import dagster\n"},
        "steps": [{"launch": {}}] * launches + [{"expect": {"tables": [TABLE]}}],
    }
    if without_packages:
        data["without_packages"] = without_packages
    return case_from_data(data, Path(f"{name}.yaml"))


def test_expected_cost_counts_launches_and_a_fresh_environment():
    assert _case("one", 1).expected_cost == 1
    assert _case("three", 3).expected_cost == 3
    assert _case("own-env", 1, ["pandas"]).expected_cost == 11


def _fake_run(started: list[str]):
    def run_case(case, options, postgres_server=None):
        started.append(case.name)
        return CaseResult(name=case.name, path=case.path, passed=True, stage="assert", message="")

    return run_case


def _run(monkeypatch, cases, jobs):
    started: list[str] = []
    monkeypatch.setattr(runner, "run_case", _fake_run(started))
    results = runner.run_cases(cases, jobs=jobs, faithful=True)
    return started, [r.name for r in results]


def test_with_several_jobs_long_cases_start_first_and_results_keep_case_order(monkeypatch):
    cases = [_case("short", 1), _case("own-env", 1, ["pandas"]), _case("long", 3), _case("short-2", 1)]
    started, reported = _run(monkeypatch, cases, jobs=2)
    assert set(started[:2]) == {"own-env", "long"}
    assert sorted(started[2:]) == ["short", "short-2"]
    assert reported == ["short", "own-env", "long", "short-2"]


def test_one_job_runs_cases_in_their_own_order(monkeypatch):
    cases = [_case("short", 1), _case("long", 3)]
    started, reported = _run(monkeypatch, cases, jobs=1)
    assert started == reported == ["short", "long"]
