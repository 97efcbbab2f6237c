"""One DuckDB file for several pipelines: fine one step at a time, the lock error when not."""

from __future__ import annotations

import dataclasses

import pytest

from evals.runner import run_case
from evals.snippets import plan

pytestmark = pytest.mark.slow

LOCK_ERROR = "Could not set lock on file"


def test_one_file_loads_with_max_concurrent_1_and_hits_the_lock_when_steps_run_at_once():
    (case,) = [c for c in plan().cases if c.name == "doc-incremental-backfill-parallel-one-file"]
    assert run_case(case).passed

    serial = '"max_concurrent": 1}'
    assert serial in case.files["crm.py"], (
        "the one-file snippet no longer caps the job at 1: update this test"
    )
    at_once = dataclasses.replace(
        case, files={"crm.py": case.files["crm.py"].replace(serial, '"max_concurrent": 3}')}
    )
    # Three steps that start together open the file within the same second; measured here
    # 3 of 3 runs failed with the lock error. Whether two opens overlap is still a matter of
    # timing, so up to three attempts: a DuckDB that took concurrent writers fails all three.
    attempts = []
    for _ in range(3):
        result = run_case(at_once)
        attempts.append(result)
        if not result.passed and result.stage == "materialize" and LOCK_ERROR in result.output:
            break
    else:
        pytest.fail(f"no attempt hit the DuckDB lock: {[(r.passed, r.stage, r.message) for r in attempts]}")


def test_launching_all_assets_of_two_pipelines_on_one_file_hits_the_lock():
    """troubleshooting.md, Could not set lock on file: `dg launch --assets '*'` runs the
    pipelines of one file at once with the assets' default (multiprocess) executor. The
    entry's own module, launched with that executor (`config: {}` keeps it in fast mode)."""
    from pathlib import Path

    from evals.cases import case_from_data
    from evals.snippets import extract
    from evals.troubleshooting import TROUBLESHOOTING

    name = "tests/test_one_writer.py::test_launching_all_assets_of_two_pipelines_on_one_file_hits_the_lock"
    module, command = [b for b in extract(TROUBLESHOOTING) if b.marker and b.marker.get("test") == name]
    assert "uv run dg launch --assets '*'   # fails: Could not set lock on file" in command.text
    case = case_from_data(
        {
            "name": "lock-all",
            "files": {"crm.py": module.text},
            "steps": [{"launch": {"assets": "*", "config": {}, "fails_with": LOCK_ERROR}}],
        },
        Path(module.where),
    )
    # Measured here: 3 of 4 launches collided. Up to five attempts; a DuckDB that let two
    # processes write one file would fail all five.
    attempts = []
    for _ in range(5):
        result = run_case(case)
        attempts.append(result)
        if result.passed:
            break
    else:
        pytest.fail(f"no attempt hit the DuckDB lock: {[(r.passed, r.stage, r.message) for r in attempts]}")
