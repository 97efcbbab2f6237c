"""Prose claims of references/scale-out.md, run against the installed packages and the real dg.

The blocks themselves run as eval cases (`doc-scale-out-*`); these tests prove what the
prose around them says: where executor config is checked, which step names a k8s per-step
override uses, that `fork` is no start method, what the run queue config loads as, and
that `dg launch` does not go through the queue.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from evals import snippets
from evals.instance_config import instance_problems, plus_settings_problems
from evals.project import create_project, isolated_env
from evals.skill import SKILL_ROOT

DOC = SKILL_ROOT / "references" / "scale-out.md"
DG = str(Path(sys.executable).parent / "dg")


def file_block(group: str) -> str:
    """The text of the one file block of scale-out.md in `group`."""
    (text,) = [
        b.text
        for b in snippets.extract(DOC)
        if b.marker and b.marker.get("group") == group and "file" in b.marker
    ]
    return text


def project_with(tmp_path: Path, code: str):
    project = create_project(tmp_path / "project", "scaleproj")
    (project.defs_dir / "crm.py").write_text(code, encoding="utf-8")
    return project, isolated_env(project, tmp_path)


def run(args: list[str], project, env) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=project.root, env=env, capture_output=True, text=True, timeout=600)


MULTIPROCESS_CONFIGURED = """
import dagster as dg


@dg.asset
def one():
    return 1


job = dg.define_asset_job(
    "job", selection=[one], executor_def=dg.multiprocess_executor.configured({"max_concurent": 3})
)
defs = dg.Definitions(assets=[one], jobs=[job])
"""


@pytest.mark.slow
def test_configured_executor_settings_are_checked_only_when_a_run_starts(tmp_path):
    """Claim: "`multiprocess_executor.configured({...})` is checked only when a run starts"."""
    project, env = project_with(tmp_path, MULTIPROCESS_CONFIGURED)
    checked = run([DG, "check", "defs"], project, env)
    assert "All definitions loaded successfully." in checked.stdout + checked.stderr
    launched = run([DG, "launch", "--job", "job"], project, env)
    assert launched.returncode != 0
    assert 'Received unexpected config entry "max_concurent"' in launched.stdout + launched.stderr


@pytest.mark.slow
def test_job_run_config_is_checked_by_dg_check_defs(tmp_path):
    """The same misspelling in the job's `config` (run config), as the reference writes it, fails at load."""
    code = file_block("multiprocess").replace('"max_concurrent": 3', '"max_concurent": 3')
    assert '"max_concurent": 3' in code
    project, env = project_with(tmp_path, code)
    checked = run([DG, "check", "defs"], project, env)
    assert checked.returncode != 0
    assert 'Received unexpected config entry "max_concurent"' in checked.stdout + checked.stderr


@pytest.mark.slow
def test_each_dlt_assets_is_one_step_named_by_its_name(tmp_path):
    """One step per `@dlt_assets`, keyed by its `name=`: the keys `per_step_k8s_config` takes."""
    project, env = project_with(tmp_path, file_block("multiprocess"))
    probe = (
        "from dagster._core.execution.api import create_execution_plan\n"
        "from scaleproj.defs.crm import defs\n"
        "plan = create_execution_plan(defs.resolve_job_def('crm_job'))\n"
        "print(' '.join(sorted(plan.step_keys_to_execute)))\n"
    )
    done = run([sys.executable, "-c", probe], project, env)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split() == ["crm_contacts", "crm_deals", "crm_notes"]
    k8s = file_block("k8s")
    assert set(re.findall(r'"(crm_\w+)": \{"container_config"', k8s)) <= set(done.stdout.split())
    assert "crm_deals" in k8s


def test_fork_is_not_a_start_method():
    from dagster._config import validate_config
    from dagster._core.definitions.executor_definition import MULTI_PROC_CONFIG

    def valid(start_method: dict) -> bool:
        return validate_config(MULTI_PROC_CONFIG.config_type, {"start_method": start_method}).success

    assert valid({"forkserver": {}}) and valid({"spawn": {}})
    assert not valid({"fork": {}})


def schema_block(kind: str) -> dict:
    (text,) = [b.text for b in snippets.extract(DOC) if b.marker and b.marker.get("schema") == kind]
    return yaml.safe_load(text)


def test_instance_run_queue_loads_as_the_limits_it_names(tmp_path):
    from dagster import DagsterInstance

    (tmp_path / "dagster.yaml").write_text(yaml.safe_dump(schema_block("dagster_instance")))
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == 4
        assert [(t["key"], t["value"], t["limit"]) for t in queue.tag_concurrency_limits] == [
            ("dlt/destination", "warehouse", 2)
        ]
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"


def test_the_run_queue_is_the_default_coordinator_without_any_file(tmp_path):
    """scale-out.md: the queue, 10 runs at once, is the default; the file sets other limits."""
    from dagster import DagsterInstance

    (tmp_path / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    with DagsterInstance.from_config(str(tmp_path)) as instance:
        assert type(instance.run_coordinator).__name__ == "QueuedRunCoordinator"
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 10


def test_the_schema_kinds_reject_a_misspelt_or_unchecked_key():
    instance = schema_block("dagster_instance")
    instance["concurrency"]["runs"]["max_concurent_runs"] = instance["concurrency"]["runs"].pop(
        "max_concurrent_runs"
    )
    assert 'unexpected config entry "max_concurent_runs"' in instance_problems(instance)
    settings = schema_block("dagster_plus_settings")
    assert plus_settings_problems(settings) is None
    settings["concurrency"]["runs"]["max_concurrent_runs"] = "ten"
    assert "max_concurrent_runs" in plus_settings_problems(settings)
    assert plus_settings_problems(
        {**schema_block("dagster_plus_settings"), "run_retries": {"max_retries": 1}}
    ) == ("no schema to check run_retries against (only concurrency)")


TAGGED_JOB = """
import dagster as dg


@dg.asset
def one():
    return 1


job = dg.define_asset_job("job", selection=[one], tags={"dlt/destination": "warehouse"})
defs = dg.Definitions(assets=[one], jobs=[job])
"""


@pytest.mark.slow
def test_dg_launch_runs_past_the_queue_and_the_run_carries_the_job_tags(tmp_path):
    """With `max_concurrent_runs: 0` (no run may start from the queue) `dg launch` still runs."""
    from dagster import DagsterInstance

    project, env = project_with(tmp_path, TAGGED_JOB)
    home = Path(env["DAGSTER_HOME"])
    config = schema_block("dagster_instance")
    config["concurrency"]["runs"]["max_concurrent_runs"] = 0
    (home / "dagster.yaml").write_text(yaml.safe_dump({**config, "telemetry": {"enabled": False}}))
    done = run([DG, "launch", "--job", "job"], project, env)
    assert "RUN_SUCCESS" in done.stdout + done.stderr, done.stderr[-2000:]
    with DagsterInstance.from_config(str(home)) as instance:
        (record,) = instance.get_runs()
        assert record.tags["dlt/destination"] == "warehouse"
        assert instance.get_concurrency_config().run_queue_config.max_concurrent_runs == 0


def test_which_destinations_store_state():
    """Claim: "a destination that stores state (the SQL warehouses, DuckDB, filesystem buckets)"; a
    custom `@dlt.destination` that stores none: the clients dlt restores state from."""
    from dlt.common.destination.client import WithStateSync
    from dlt.destinations.impl.destination.destination import DestinationClient
    from dlt.destinations.impl.duckdb.duck import DuckDbClient
    from dlt.destinations.impl.filesystem.filesystem import FilesystemClient
    from dlt.destinations.job_client_impl import SqlJobClientBase

    assert issubclass(SqlJobClientBase, WithStateSync) and issubclass(DuckDbClient, SqlJobClientBase)
    assert issubclass(FilesystemClient, WithStateSync)
    assert not issubclass(DestinationClient, WithStateSync)
