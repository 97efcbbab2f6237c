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


def test_launch_flags_go_to_argv_and_back_through_one_table():
    from evals.cases import Launch

    step = Launch(assets="group:x", partition="2026-01-01", config={"ops": {}})
    argv = step.to_argv()
    assert argv == ["--assets", "group:x", "--partition", "2026-01-01", "--config-json", '{"ops": {}}']
    assert Launch.from_argv(argv) == step
    assert Launch().to_argv() == ["--assets", "*"]  # neither assets nor a job: every asset
    assert Launch(job="j").to_argv() == ["--job", "j"]
    with pytest.raises(ValueError, match="unknown dg launch option '--tags'"):
        Launch.from_argv(["--job", "j", "--tags", "{}"])
    with pytest.raises(ValueError, match="--job needs a value"):
        Launch.from_argv(["--job"])


def test_a_documented_launch_with_an_unknown_option_fails_naming_the_block(tmp_path):
    from evals import snippets

    doc = tmp_path / "doc.md"
    doc.write_text(
        "<!-- eval: {group: g, file: a.py} -->\n```python\nx = 1\n```\n\n"
        "<!-- eval: {group: g, commands: true} -->\n```bash\nuv run dg launch --job j --tags '{}'\n```\n",
        encoding="utf-8",
    )
    plan = snippets.plan([doc])
    assert [why for _, why in plan.coverage.failed] == [
        f"{doc}:7: unknown dg launch option '--tags' (known: --assets, --job, --partition, "
        "--partition-range, --config-json): \"uv run dg launch --job j --tags '{}'\""
    ]


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ('"id\\n1\\n"', "drops/o.parquet"),  # text in a .parquet file
        ("{rows: []}", "drops/o.parquet/rows"),
        ("{rows: [{id: 1}]}", "drops/o.csv"),  # rows only for .parquet
    ],
)
def test_a_parquet_data_file_holds_rows_and_only_parquet_files_do(tmp_path, value, field):
    bad = tmp_path / "bad.yaml"
    path = field.split("/rows")[0]
    bad.write_text(f"template: component\nvars: {{}}\ndata_files:\n  {path}: {value}\nexpect: {{}}\n")
    with pytest.raises(CaseError) as info:
        load_case(bad)
    assert f"data_files/{field}" in str(info.value)


def test_parquet_data_files_are_written_with_their_rows_and_types(tmp_path):
    import pyarrow.parquet as pq

    from evals import data_files

    rows = [{"id": 1, "amount": 10.5, "status": "new"}, {"id": 2, "amount": 20.25, "status": None}]
    data_files.write_all(
        tmp_path, {"a/o.parquet": {"rows": rows}, "a/o.csv": "x {n}"}, lambda t: t.format(n=1)
    )
    table = pq.read_table(tmp_path / "a" / "o.parquet")
    assert table.to_pylist() == rows
    assert [str(t) for t in table.schema.types] == ["int64", "double", "string"]
    assert (tmp_path / "a" / "o.csv").read_text() == "x 1"
