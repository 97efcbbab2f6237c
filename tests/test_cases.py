"""Case files are validated, and a bad one is reported with its path."""

from __future__ import annotations

import pytest

from evals.cases import CaseError, discover, load_case
from evals.cli import main


def test_shipped_cases_load_in_file_name_order():
    cases = discover()
    assert [c.path.name for c in cases] == sorted(c.path.name for c in cases) and len(cases) >= 3


def test_malformed_yaml_names_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("template: [component\n")
    with pytest.raises(CaseError, match=str(bad)):
        load_case(bad)


def test_schema_violation_names_the_field(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("template: dbt\nvars: {}\nexpect: {tables: [{table: x}]}\n")
    with pytest.raises(CaseError) as info:
        load_case(bad)
    assert "template" in str(info.value) and "expect/tables" in str(info.value)


def test_cli_exits_2_on_a_bad_case_and_when_nothing_matches(tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text("nope: 1\n")
    assert main(["--cases", str(tmp_path)]) == 2
    assert "bad.yaml" in capsys.readouterr().err
    assert main(["-k", "no-such-case"]) == 2
    assert "no cases found" in capsys.readouterr().err
