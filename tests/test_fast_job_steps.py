"""Fast mode forks a job's step processes from the warm child; a job's own start_method wins."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from evals.cases import case_from_data
from evals.runner import run_cases
from evals.skill import SKILL_ROOT

pytestmark = pytest.mark.slow

STEP_PROCESS_JOB = """\
import multiprocessing
from pathlib import Path

import dlt
import dagster as dg

PROJECT_ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())


@dg.asset
def step_process() -> None:
    pipeline = dlt.pipeline(
        pipeline_name="step_process",
        dataset_name="raw",
        destination=dlt.destinations.duckdb(str(PROJECT_ROOT / "steps.duckdb")),
    )
    row = {"name": multiprocessing.current_process().name}
    pipeline.run([row], table_name="steps").raise_on_failed_jobs()


step_job = dg.define_asset_job("step_job", selection=[step_process]EXECUTOR)
"""

SPAWN_EXECUTOR = ', executor_def=dg.multiprocess_executor.configured({"start_method": {"spawn": {}}})'


def _case(name: str, executor: str, process_prefix: str):
    data = {
        "name": name,
        "files": {"steps.py": STEP_PROCESS_JOB.replace("EXECUTOR", executor)},
        "steps": [
            {"launch": {"job": "step_job"}},
            {
                "expect": {
                    "tables": [
                        {
                            "database": "steps.duckdb",
                            "table": "raw.steps",
                            "where": f"name LIKE '{process_prefix}%'",
                            "rows": 1,
                        }
                    ]
                }
            },
        ],
    }
    return case_from_data(data, Path(f"{name}.yaml"))


def _check(results) -> None:
    for result in results:
        assert result.passed, f"{result.name}: {result.stage}: {result.message}\n{result.output[-3000:]}"


def test_fast_mode_forks_steps_of_a_job_that_leaves_start_method_unset():
    _check(run_cases([_case("default-executor", "", "ForkProcess")], jobs=1))


def test_fast_mode_keeps_a_start_method_the_job_sets():
    _check(run_cases([_case("spawn-executor", SPAWN_EXECUTOR, "SpawnProcess")], jobs=1))


def test_faithful_mode_spawns_steps_as_dagster_does():
    _check(run_cases([_case("faithful-default", "", "SpawnProcess")], faithful=True))


SINGLE_THREADED_PROBE = """\
import threading
from evals import fast

print(fast._single_threaded())
stop = threading.Event()
thread = threading.Thread(target=stop.wait)
thread.start()
print(fast._single_threaded())
stop.set()
thread.join()
"""


def test_single_threaded_is_true_in_a_fresh_process_and_false_with_a_second_thread():
    # In a fresh interpreter: this pytest process may run threads of its own libraries.
    done = subprocess.run(
        [sys.executable, "-c", SINGLE_THREADED_PROBE],
        cwd=SKILL_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.split() == ["True", "False"]
