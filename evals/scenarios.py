"""Scenario evals: what an agent should decide for a user's request, graded by execution.

evals/evals.json holds the requests in the Agent Skills eval format (the path that format
names); evals/scenarios/decisions.yaml the expected decision for each and its grading. A decision
becomes scripts/scaffold.py arguments, run in a fresh project, then `dg check defs`,
launches and expectations like any eval case. Decisions to refer elsewhere or to ask the
user are graded by scaffold.py refusing to guess.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from evals.cases import Case, case_from_data

SCENARIOS_DIR = Path(__file__).parent / "scenarios"
EVALS_JSON = Path(__file__).parent / "evals.json"
DECISIONS = SCENARIOS_DIR / "decisions.yaml"
GRADING_KEYS = ("server", "env", "data_files", "project_files", "sqlite", "expect", "steps", "project_kind")
SOURCE_CONFIG_FILE = "source_config.yaml"  # a decision's source_config, for scaffold.py --source-config


def prompts() -> dict[int, str]:
    data = json.loads(EVALS_JSON.read_text(encoding="utf-8"))
    return {entry["id"]: entry["prompt"] for entry in data["evals"]}


def decisions() -> dict[int, dict[str, Any]]:
    return yaml.safe_load(DECISIONS.read_text(encoding="utf-8"))


def scaffold_runs(decision: dict[str, Any]) -> list[list[str]]:
    """The scaffold.py invocations that carry out a decision."""
    if "ask" in decision:
        # the user has not chosen: scaffold.py must not guess an approach
        return [["--pipeline-name", "undecided", "--dataset-name", "undecided"]]
    common = [
        "--compute",
        decision.get("compute", "dagster"),
        "--approach",
        decision.get("approach", "component"),
    ]
    options = {
        "--source": decision.get("source"),
        "--destination": decision.get("destination"),
        "--resources": ",".join(decision["resources"]) if "resources" in decision else None,
        "--incremental-cursor": decision.get("incremental_cursor"),
        "--schedule": decision.get("schedule"),
        "--parallel": str(decision["parallel"]) if "parallel" in decision else None,
        "--source-module": decision.get("source_module"),
    }
    if "source_config" in decision:  # written to the data folder by scenario_case
        options["--source-config"] = "{data_dir}/" + SOURCE_CONFIG_FILE
    elif decision.get("source") == "rest_api":
        options["--base-url"] = "{base_url}"
    for flag, value in options.items():
        if value is not None:
            common += [flag, value]
    loads = decision.get("loads") or [
        {"pipeline": decision.get("pipeline", "p"), "dataset": decision.get("dataset", "d")}
    ]
    runs = []
    for load in loads:
        names = ["--pipeline-name", load["pipeline"], "--dataset-name", load["dataset"]]
        if "defs" in load:
            names += ["--defs-name", load["defs"]]
        runs.append([*common, *names])
    return runs


def refusal_text(decision: dict[str, Any]) -> str | None:
    if "ask" in decision:
        return "the following arguments are required: --approach"
    if decision.get("refer") == "dagster-expert":
        return "Use the dagster-expert skill"
    if decision.get("refer") == "network":
        return "clones it from GitHub, which needs network access"
    return None


def scenario_case(scenario_id: int, entry: dict[str, Any]) -> Case:
    decision = entry["decision"]
    data: dict[str, Any] = {
        "name": f"scenario-{scenario_id:02d}",
        "scenario": scenario_id,
        "scaffold": scaffold_runs(decision),
        **{key: entry[key] for key in GRADING_KEYS if key in entry},
    }
    if "source_config" in decision:
        config = yaml.safe_dump(decision["source_config"], sort_keys=False)
        data["data_files"] = {**data.get("data_files", {}), SOURCE_CONFIG_FILE: config}
    refusal = refusal_text(decision)
    if refusal:
        data["scaffold_fails_with"] = refusal
    return case_from_data(data, Path(f"{DECISIONS.relative_to(SCENARIOS_DIR.parent.parent)}#{scenario_id}"))


def load_cases() -> list[Case]:
    return [scenario_case(sid, entry) for sid, entry in sorted(decisions().items())]
