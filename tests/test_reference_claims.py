"""Claims the references make in prose (not in a code block), each run against the packages.

Code blocks are executed by the evals (evals/snippets.py); a sentence such as "overriding
get_asset_key still works but warns" is checked here instead. Each test names the passage.
"""

# No `from __future__ import annotations`: dagster reads the context annotation at runtime.

import os
import subprocess
import sys

import dlt
import pytest
from dagster import (
    AssetExecutionContext,
    AssetKey,
    BackfillPolicy,
    DagsterInvariantViolationError,
    DailyPartitionsDefinition,
)
from dagster_dlt import DagsterDltResource, DagsterDltTranslator, build_dlt_asset_specs, dlt_assets
from dagster_dlt.translator import DltResourceTranslatorData


@dlt.source
def shop():
    @dlt.resource
    def orders():
        yield [{"id": 1}]

    return orders


@pytest.fixture
def pipeline(tmp_path, monkeypatch):
    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    return dlt.pipeline(
        pipeline_name="claims",
        dataset_name="shop_raw",
        destination=dlt.destinations.duckdb(str(tmp_path / "claims.duckdb")),
        pipelines_dir=str(tmp_path / "pipelines"),
    )


class GroupingTranslator(DagsterDltTranslator):
    def get_asset_spec(self, data: DltResourceTranslatorData):
        return super().get_asset_spec(data).replace_attributes(group_name="shop")


def test_group_name_with_a_translator_that_sets_groups_is_refused(pipeline):
    """pythonic.md, @dlt_assets parameters: "`group_name` cannot be combined with a translator
    that sets groups itself (dagster-dlt raises `DagsterInvariantViolationError`)"."""
    with pytest.raises(DagsterInvariantViolationError, match="Cannot set group_name"):

        @dlt_assets(
            dlt_source=shop(),
            dlt_pipeline=pipeline,
            group_name="other",
            dagster_dlt_translator=GroupingTranslator(),
        )
        def assets(context: AssetExecutionContext, dlt: DagsterDltResource): ...


def test_a_time_window_partitions_def_gets_a_single_run_backfill_policy(pipeline):
    """pythonic.md: "A time-window `partitions_def` without a `backfill_policy` gets
    `BackfillPolicy.single_run()`"."""

    @dlt_assets(
        dlt_source=shop(),
        dlt_pipeline=pipeline,
        partitions_def=DailyPartitionsDefinition(start_date="2026-01-01"),
    )
    def assets(context: AssetExecutionContext, dlt: DagsterDltResource): ...

    assert assets.backfill_policy == BackfillPolicy.single_run()


def test_overriding_a_superseded_get_method_still_works_but_warns(pipeline):
    """pythonic.md, DagsterDltTranslator: "The older `get_asset_key`, ... methods are
    superseded: overriding them still works but warns"."""

    class OldStyle(DagsterDltTranslator):
        def get_asset_key(self, resource):
            return AssetKey(["old", resource.name])

    with pytest.warns(Warning, match="override DagsterDltTranslator.get_asset_spec"):
        specs = build_dlt_asset_specs(
            dlt_source=shop(), dlt_pipeline=pipeline, dagster_dlt_translator=OldStyle()
        )
    assert [spec.key for spec in specs] == [AssetKey(["old", "orders"])]


def test_deps_set_in_get_asset_spec_replace_the_default_upstream(pipeline):
    """pythonic.md, Upstream and downstream assets: each dlt asset depends on
    `<source>_<resource>` by default; `spec.replace_attributes(deps=[AssetKey("raw_export")])`
    hangs it under a real asset instead."""

    class Upstream(DagsterDltTranslator):
        def get_asset_spec(self, data: DltResourceTranslatorData):
            return super().get_asset_spec(data).replace_attributes(deps=[AssetKey("raw_export")])

    (default,) = build_dlt_asset_specs(dlt_source=shop(), dlt_pipeline=pipeline)
    assert [dep.asset_key for dep in default.deps] == [AssetKey("shop_orders")]
    (custom,) = build_dlt_asset_specs(
        dlt_source=shop(), dlt_pipeline=pipeline, dagster_dlt_translator=Upstream()
    )
    assert [dep.asset_key for dep in custom.deps] == [AssetKey("raw_export")]


def test_parquet_needs_pyarrow(tmp_path):
    """pythonic.md, Passing options to pipeline.run: "`loader_file_format="parquet"` also
    needs pyarrow installed". The harness has pyarrow (the templates' fast defaults need it),
    so a fresh interpreter hides it (`sys.modules["pyarrow"] = None`) and runs the load."""
    probe = f"""
import sys
sys.modules["pyarrow"] = None  # as if pyarrow were not installed
import dlt

@dlt.resource
def orders():
    yield [{{"id": 1}}]

pipeline = dlt.pipeline(
    pipeline_name="parquet_probe",
    pipelines_dir={str(tmp_path / "pipelines")!r},
    destination=dlt.destinations.duckdb({str(tmp_path / "probe.duckdb")!r}),
)
try:
    pipeline.run(orders(), loader_file_format="parquet")
except Exception as exc:
    print("FAILED:", exc)
else:
    print("LOADED")
"""
    env = {**os.environ, "DLT_DATA_DIR": str(tmp_path / "dlt"), "RUNTIME__DLTHUB_TELEMETRY": "false"}
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=300, env=env, cwd=tmp_path
    )
    assert "FAILED:" in done.stdout, done.stdout + done.stderr[-2000:]
    assert "pyarrow" in done.stdout


def test_launch_selections_group_and_slash_key_resolve_to_the_dlt_assets(pipeline):
    """jobs-and-schedules.md, Launching from the CLI: `dg launch --assets` takes `'*'`, a key
    such as `crm_raw/contacts` or `'group:crm'`. dg resolves --assets with
    AssetSelection.from_coercible(value.split(",")) (dagster/_cli/asset.py), run here."""
    from dagster import AssetSelection, Definitions

    class Keyed(DagsterDltTranslator):
        def get_asset_spec(self, data: DltResourceTranslatorData):
            return (
                super().get_asset_spec(data).replace_attributes(key=AssetKey(["crm_raw", data.resource.name]))
            )

    @dlt_assets(dlt_source=shop(), dlt_pipeline=pipeline, group_name="crm", dagster_dlt_translator=Keyed())
    def crm_assets(context: AssetExecutionContext, dlt: DagsterDltResource): ...

    graph = Definitions(assets=[crm_assets], resources={"dlt": DagsterDltResource()}).resolve_asset_graph()
    for selection in ("group:crm", "crm_raw/orders", "*"):
        keys = AssetSelection.from_coercible(selection.split(",")).resolve(graph)
        assert keys == {AssetKey(["crm_raw", "orders"])}, selection


def test_a_schedule_can_start_running_by_default():
    """jobs-and-schedules.md: "set `default_status=dg.DefaultScheduleStatus.RUNNING`"."""
    import dagster as dg

    job = dg.define_asset_job("crm_job", selection=dg.AssetSelection.groups("crm"))
    schedule = dg.ScheduleDefinition(
        job=job, cron_schedule="0 * * * *", default_status=dg.DefaultScheduleStatus.RUNNING
    )
    assert schedule.default_status == dg.DefaultScheduleStatus.RUNNING


def test_component_translation_takes_the_asset_attributes_component_md_lists():
    """component.md, Translation: `key_prefix`, `key`, `group_name`, ... and "the other asset
    attributes of Dagster's component models: `deps`, `owners`, `tags`, `kinds`,
    `code_version`, `automation_condition`" (the component's own model schema)."""
    from dagster_dlt import DltLoadCollectionComponent

    schema = DltLoadCollectionComponent.get_model_cls().model_json_schema()
    translation = schema["$defs"]["AssetSpecUpdateKwargsModel"]["properties"]
    listed = {"key", "key_prefix", "group_name", "description", "metadata", "deps", "owners", "tags"}
    listed |= {"kinds", "code_version", "automation_condition"}
    assert listed <= set(translation), sorted(listed - set(translation))
    load = schema["$defs"]["DltLoadSpecModelModel"]["properties"]
    assert {"source", "pipeline", "translation", "partitions_def", "backfill_policy"} <= set(load)


def test_skill_md_says_which_blocks_are_not_executed():
    """SKILL.md's opening: blocks that are only schema-checked, run by a named test or
    skipped exist, so SKILL.md must not claim that every command is executed."""
    from evals import snippets
    from evals.skill import SKILL_ROOT

    plan = snippets.plan()
    assert plan.coverage.skipped and plan.schema_blocks
    text = (SKILL_ROOT / "SKILL.md").read_text(encoding="utf-8")
    opening = text[text.index("# dlt on Dagster") : text.index("## Decide first")]
    assert "Every command" not in opening
    for kind in ("schema-checked", "named test", "skipped"):
        assert kind in opening, kind


STEP_PIDS = """\
import os
from pathlib import Path

import dagster as dg


def record(name):
    @dg.asset(name=name)
    def step() -> None:
        Path(os.environ["PIDS_DIR"], name).write_text(f"{os.getpid()} {os.getppid()}")

    return step


defs = dg.Definitions(assets=[record("first"), record("second")])
"""


@pytest.mark.slow
def test_dg_launch_assets_runs_each_step_in_a_subprocess_of_dg(tmp_path):
    """jobs-and-schedules.md, Launching from the CLI: `dg launch --assets` steps run with the
    assets' default executor, multiprocess: each step in a subprocess of `dg`."""
    import subprocess
    import sys
    from pathlib import Path

    from evals.project import create_project, isolated_env

    project = create_project(tmp_path / "project", "evalproj")
    (project.defs_dir / "steps.py").write_text(STEP_PIDS)
    pids = tmp_path / "pids"
    pids.mkdir()
    env = {**isolated_env(project, tmp_path), "PIDS_DIR": str(pids)}
    dg = subprocess.Popen(
        [str(Path(sys.executable).parent / "dg"), "launch", "--assets", "*"],
        cwd=project.root,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output, _ = dg.communicate(timeout=300)
    assert dg.returncode == 0, output[-3000:]
    assert "Executing steps using multiprocess executor" in output
    seen = {p.name: tuple(map(int, p.read_text().split())) for p in pids.iterdir()}
    assert set(seen) == {"first", "second"}
    (first_pid, first_parent), (second_pid, second_parent) = seen["first"], seen["second"]
    assert len({first_pid, second_pid, dg.pid}) == 3  # two step processes, neither is dg
    assert first_parent == second_parent == dg.pid


def cursor_starts(tmp_path, monkeypatch, restore: bool, fresh_worker: bool) -> list:
    """Two runs of an incremental resource through DagsterDltResource; the cursor's start
    value in each. `fresh_worker` deletes the local pipelines folder after each run, as a new
    container or run worker would start without it."""
    import shutil

    from dagster import materialize

    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    monkeypatch.setenv("RESTORE_FROM_DESTINATION", "true" if restore else "false")
    starts = []

    @dlt.source
    def counter():
        @dlt.resource(primary_key="id", write_disposition="append")
        def items(cursor=dlt.sources.incremental("id", initial_value=0)):  # noqa: B008 (dlt idiom)
            starts.append(cursor.start_value)
            yield [{"id": i} for i in range(1, 4)]

        return items

    pipelines_dir = tmp_path / "pipelines"
    for _ in range(2):
        pipeline = dlt.pipeline(
            pipeline_name="cursor",
            dataset_name="raw",
            destination=dlt.destinations.duckdb(str(tmp_path / "cursor.duckdb")),
            pipelines_dir=str(pipelines_dir),
        )

        @dlt_assets(dlt_source=counter(), dlt_pipeline=pipeline, name="cursor")
        def assets(context: AssetExecutionContext, dlt: DagsterDltResource):
            yield from dlt.run(context=context, dlt_source=counter())

        assert materialize([assets], resources={"dlt": DagsterDltResource()}).success
        if fresh_worker:
            shutil.rmtree(pipelines_dir)
    return starts


@pytest.mark.parametrize(
    ("restore", "fresh_worker", "second_start"),
    [(True, True, 3), (True, False, 3), (False, False, 3), (False, True, 0)],
)
def test_incremental_cursors_survive_through_the_destination_or_the_local_folder(
    tmp_path, monkeypatch, restore, fresh_worker, second_start
):
    """pythonic.md, Passing options to pipeline.run: with `restore_from_destination` on (the
    default) the resource drops local state and dlt restores the cursor from the
    destination, so a fresh worker keeps it; with it off only pending packages are dropped,
    and the cursor lives only in the local pipelines folder (lost without it)."""
    assert cursor_starts(tmp_path, monkeypatch, restore, fresh_worker) == [0, second_start]


@pytest.mark.parametrize("defer", [False, True])
def test_sql_database_connects_when_called_unless_reflection_is_deferred(tmp_path, monkeypatch, defer):
    """component.md, loads.py and defs.yaml: "`sql_database(...)` connects to the database and
    reflects its tables when it is called, unless it gets `defer_table_reflect=True`". The
    database here is a SQLite file that does not exist yet: a connection creates it."""
    from dlt.sources.sql_database import sql_database

    monkeypatch.setenv("RUNTIME__DLTHUB_TELEMETRY", "false")
    database = tmp_path / "erp.db"
    credentials = f"sqlite:///{database}"
    if defer:
        source = sql_database(credentials=credentials, table_names=["customers"], defer_table_reflect=True)
        assert list(source.resources) == ["customers"]
        assert not database.exists()  # nothing connected
    else:
        with pytest.raises(Exception, match="Could not reflect"):
            sql_database(credentials=credentials, table_names=["customers"])
        assert database.exists()  # the call connected (and found no such table)
