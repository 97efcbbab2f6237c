"""Scenario evals: format, deterministic grading, a wrong decision caught, agent runner plumbing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from evals import scenarios
from evals.agent_runner import run_agents
from evals.runner import run_cases

FIXTURES = Path(__file__).parent / "fixtures"


def test_evals_json_is_in_the_agent_skills_eval_format_and_every_scenario_has_a_decision():
    assert scenarios.EVALS_JSON == Path(__file__).parents[1] / "evals" / "evals.json"
    data = json.loads(scenarios.EVALS_JSON.read_text())
    assert data["skill_name"] == "dlt-dagster"
    assert len(data["evals"]) >= 15
    for entry in data["evals"]:
        assert set(entry) == {"id", "prompt", "expected_output", "files", "assertions"}
        assert entry["prompt"] and entry["expected_output"] and entry["assertions"]
    assert set(scenarios.decisions()) == {e["id"] for e in data["evals"]}


def test_decisions_cover_every_branch_of_the_decision_tree():
    chosen = [entry["decision"] for entry in scenarios.decisions().values()]
    assert {d.get("approach") for d in chosen if "approach" in d} >= {"component", "pythonic", "asset"}
    assert any(d.get("compute") == "external" for d in chosen)
    assert any("ask" in d for d in chosen)
    assert {d.get("source") for d in chosen} >= {"custom", "rest_api", "sql_database", "filesystem"}


def test_trigger_evals_are_balanced_queries():
    queries = json.loads((scenarios.SCENARIOS_DIR / "trigger_evals.json").read_text())
    assert len(queries) >= 20
    assert all(set(q) == {"query", "should_trigger"} for q in queries)
    positives = sum(q["should_trigger"] for q in queries)
    assert 0.35 <= positives / len(queries) <= 0.65


@pytest.mark.slow
def test_every_scenario_grades_green():
    results = run_cases(scenarios.load_cases(), jobs=2)
    assert all(r.passed for r in results), [
        f"{r.name}: {r.stage}: {r.message}" for r in results if not r.passed
    ]


@pytest.mark.slow
def test_a_wrong_decision_fails_its_grading(monkeypatch):
    entries = scenarios.decisions()
    wrong = {
        **entries[2],
        "decision": {**entries[2]["decision"], "approach": "component"},
    }  # asked for Pythonic
    case = scenarios.scenario_case(2, wrong)
    result = run_cases([case])[0]
    assert not result.passed and result.stage == "assert"
    assert "missing asset keys" in result.message


@pytest.mark.slow
def test_agent_runner_plumbing_with_a_scripted_agent():
    chosen = [c for c in scenarios.load_cases() if c.name in ("scenario-02", "scenario-04")]
    agent = f"{sys.executable} {FIXTURES / 'scripted_agent.py'} {{prompt}} {{workdir}}"
    results = {(r.scenario, r.with_skill): r for r in run_agents(chosen, agent, timeout=300)}
    assert results[("scenario-02", True)].passed, results[("scenario-02", True)].detail
    assert not results[("scenario-02", False)].passed  # without the skill nothing gets built
    assert results[("scenario-04", True)].passed and results[("scenario-04", False)].passed
    assert all(r.tokens == 120 and r.seconds > 0 for r in results.values())


@pytest.mark.slow
def test_scripted_agent_is_graded_against_the_one_server_it_was_told_about():
    """The agent builds against the API URL it is given; the request checks must read that
    server's log, served with the scenario's page_size (10 here: one page for 10 records)."""
    entry = scenarios.decisions()[5]
    window = entry["steps"][0]
    expect = {
        "tables": [{"database": "events.duckdb", "table": "events_raw.events", "rows": 10}],
        "requests": [{"path": "/events"}],
        "absent_requests": [{"path": "/events", "query": {"page": "2"}}],
    }
    case = scenarios.scenario_case(5, {**entry, "steps": [window, {"expect": expect}]})
    agent = f"{sys.executable} {FIXTURES / 'scripted_agent.py'} {{prompt}} {{workdir}}"
    graded = {r.with_skill: r for r in run_agents([case], agent, timeout=300)}
    assert graded[True].passed, graded[True].detail


@pytest.mark.slow
def test_the_agent_finds_the_users_own_source_in_its_project():
    """Scenario 19's project holds the user's source before the agent starts (project_files,
    {package} filled in with the agent project's name); scaffold.py refuses a module it cannot
    find, so the scripted agent's run passes only if the file is there."""
    (case,) = [c for c in scenarios.load_cases() if c.name == "scenario-19"]
    agent = f"{sys.executable} {FIXTURES / 'scripted_agent.py'} {{prompt}} {{workdir}}"
    graded = {r.with_skill: r for r in run_agents([case], agent, timeout=300)}
    assert graded[True].passed, graded[True].detail
    assert not graded[False].passed
