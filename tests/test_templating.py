"""Template variables are validated before anything is rendered."""

from __future__ import annotations

import ast

import pytest
import yaml

from evals.skill import templating

BASE = {"pipeline_name": "shop", "dataset_name": "raw"}


OPTIONS = {
    "plain": {},
    "incremental": {"incremental_cursor": "updated_at"},
    "schedule": {"schedule": "0 2 * * *"},
    "parallel": {"parallel": 2, "resources": ["a", "b"]},
}


@pytest.mark.parametrize("approach", templating.APPROACHES)
@pytest.mark.parametrize("source_kind", ["custom", "rest_api", "sql_database", "filesystem"])
@pytest.mark.parametrize("destination", ["duckdb", "snowflake"])
@pytest.mark.parametrize("option", OPTIONS)
def test_every_combination_renders_valid_python_and_yaml(approach, source_kind, destination, option):
    variables = {**BASE, "source_kind": source_kind, "destination": destination, **OPTIONS[option]}
    if source_kind == "rest_api":
        variables["base_url"] = "http://127.0.0.1:8000/"
    if option == "incremental" and source_kind in ("sql_database", "filesystem"):
        with pytest.raises(templating.TemplateError, match="incremental_cursor"):
            templating.render(approach, variables)
        return
    if option == "parallel" and approach == "asset":
        with pytest.raises(templating.TemplateError, match="parallel needs dlt assets"):
            templating.render(approach, variables)
        return
    rendered_files = templating.render(approach, variables)
    assert any(f.path.endswith("_jobs.py") for f in rendered_files) == (option in ("schedule", "parallel"))
    for rendered in rendered_files:
        if rendered.path.endswith(".py"):
            ast.parse(rendered.text, filename=rendered.path)
        else:
            yaml.safe_load(rendered.text)
        assert "\n\n\n\n" not in rendered.text


def test_defaults_are_derived_from_the_pipeline_name():
    resolved = templating.resolve_variables(BASE)
    assert resolved["defs_name"] == "shop"
    assert resolved["source_name"] == "shop"
    assert resolved["group_name"] == "shop"
    assert resolved["duckdb_file"] == "shop.duckdb"
    assert resolved["destination"] == "duckdb"


def test_duckdb_path_is_explicit_and_not_the_working_directory():
    text = templating.render("component", BASE)[0].text
    assert 'shop_pipeline_duckdb = PROJECT_ROOT / "shop.duckdb"' in text
    assert "dlt.destinations.duckdb(str(shop_pipeline_duckdb))" in text


def test_non_duckdb_destination_keeps_credentials_out_of_the_file():
    text = templating.render("asset", {**BASE, "destination": "snowflake"})[0].text
    assert 'destination="snowflake"' in text
    assert "DESTINATION__SNOWFLAKE__CREDENTIALS" in text  # the comment that points at env vars
    assert "password" not in text.lower()


@pytest.mark.parametrize(
    ("variables", "message"),
    [
        ({"pipeline_name": "shop"}, "'dataset_name' is a required property"),
        ({**BASE, "pipeline_name": "my-shop"}, "pipeline_name"),
        ({**BASE, "destination": "oracle9"}, "destination"),
        ({**BASE, "duckdb_file": "../outside.duckdb"}, "duckdb_file"),
        ({**BASE, "source_kind": "rest_api"}, "'base_url' is a required property"),
        ({**BASE, "base_url": "http://x/"}, "base_url"),
        ({**BASE, "colour": "blue"}, "Additional properties are not allowed"),
    ],
)
def test_invalid_variables_are_rejected_with_the_field_named(variables, message):
    with pytest.raises(templating.TemplateError, match="invalid template variables") as info:
        templating.resolve_variables(variables)
    assert message in str(info.value)


def test_unknown_approach_is_rejected():
    with pytest.raises(templating.TemplateError, match="unknown approach 'dbt'"):
        templating.render("dbt", BASE)
