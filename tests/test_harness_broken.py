"""A deliberately broken template or case fails at the matching stage, naming the file."""

from __future__ import annotations

import pytest

from evals.cases import load_case
from evals.runner import run_case
from tests.conftest import replace_in

pytestmark = pytest.mark.slow


def test_wrong_import_fails_at_check_naming_the_file(templates_copy, cases_copy):
    replace_in(
        templates_copy / "pythonic" / "assets.py.j2",
        "from dagster_dlt import DagsterDltResource, dlt_assets",
        "from dagster_dlt import DagsterDltResource, dlt_asset",
    )
    result = run_case(load_case(cases_copy / "pythonic-custom.yaml"), templates_dir=templates_copy)

    assert not result.passed
    assert result.stage == "check"
    assert "dg check defs" in result.message
    assert "src/evalproj/defs/crm.py" in result.message
    assert "pythonic/assets.py.j2" in result.message
    assert "cannot import name 'dlt_asset'" in result.output


def test_wrong_yaml_key_fails_at_check_naming_the_file(templates_copy, cases_copy):
    replace_in(templates_copy / "component" / "defs.yaml.j2", "  loads:", "  load:")
    result = run_case(load_case(cases_copy / "component-rest-api.yaml"), templates_dir=templates_copy)

    assert not result.passed
    assert result.stage == "check"
    assert "src/evalproj/defs/shop/defs.yaml" in result.message
    assert "component/defs.yaml.j2" in result.message
    assert "load" in result.output


def test_wrong_table_in_assertion_fails_at_assert_naming_the_case(templates_copy, cases_copy):
    case_file = cases_copy / "pythonic-custom.yaml"
    replace_in(case_file, "table: crm_raw.deals", "table: crm_raw.dealz")
    result = run_case(load_case(case_file), templates_dir=templates_copy)

    assert not result.passed
    assert result.stage == "assert"
    assert str(case_file) in result.message
    assert "no table crm_raw.dealz" in result.message
    assert "crm_raw.deals" in result.message  # what was found instead


def test_wrong_row_count_fails_at_assert(templates_copy, cases_copy):
    case_file = cases_copy / "pythonic-custom.yaml"
    replace_in(case_file, "table: crm_raw.deals, rows: 4", "table: crm_raw.deals, rows: 5")
    result = run_case(load_case(case_file), templates_dir=templates_copy)

    assert result.stage == "assert" and not result.passed
    assert "crm_raw.deals has 4 rows, expected 5" in result.message


def test_undefined_template_variable_fails_at_render(templates_copy, cases_copy):
    replace_in(templates_copy / "asset" / "assets.py.j2", "{{ group_name }}", "{{ group_nme }}")
    result = run_case(load_case(cases_copy / "asset-rest-api.yaml"), templates_dir=templates_copy)

    assert result.stage == "render" and not result.passed
    assert "asset/assets.py.j2" in result.message
    assert "group_nme" in result.message
