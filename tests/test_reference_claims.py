"""Claims the references make in prose (not in a code block), each run against the packages.

Code blocks are executed by the evals (evals/snippets.py); a sentence such as "overriding
get_asset_key still works but warns" is checked here instead. Each test names the passage.
"""

# No `from __future__ import annotations`: dagster reads the context annotation at runtime.

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


def test_parquet_needs_pyarrow(pipeline):
    """pythonic.md, Passing options to pipeline.run: "`loader_file_format="parquet"` also
    needs pyarrow installed" (the harness environment has no pyarrow)."""
    with pytest.raises(ModuleNotFoundError):
        import pyarrow  # noqa: F401
    with pytest.raises(Exception, match="pyarrow"):
        pipeline.run(shop(), loader_file_format="parquet")


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
