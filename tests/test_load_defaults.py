"""The faster load defaults land the same rows and types as the configuration they replaced.

The templates now read SQL tables with sql_database's pyarrow backend, load DuckDB through
parquet files and extract REST endpoints in parallel (references/fast-loads.md). Each test
loads one source with the old configuration and with the rendered template, on columns where
a faster path could change what lands (decimals, big integers, naive timestamps, dates,
booleans, JSON, NULLs, empty strings, non-ASCII text, timestamps with an offset), and compares
the DuckDB column types, nullability and every value; and the formats dlt's trace reports,
so the comparison is of the fast path and not of a silent fallback.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from evals.skill import SKILL_ROOT
from tests.conftest import replace_in
from tests.scripts_helpers import new_project, run_script

SQL = """
create table kinds (
  id integer primary key, name text not null, amount numeric(12, 2), price real, big bigint,
  created_at timestamp, day date, active boolean, payload json, note text
);
insert into kinds values (1, 'a', 10.25, 0.5, 9007199254740993, '2026-01-01 10:00:00', '2026-01-01', 1,
  '{"a": [1, 2], "b": null}', null);
insert into kinds values (2, 'b', null, null, null, null, null, null, null, 'x');
insert into kinds values (3, 'ü', 12345678.99, -1e300, -1, '2026-06-30 23:59:59.123456', '2026-12-31', 0,
  '[1]', '');
"""
CSV = (
    "id,qty,amount,active,day,at,note,label\n"
    '1,5,1.5,True,2026-01-01,2026-01-01T10:00:00+02:00,"a, b",x\n'
    "2,,2.25,False,2026-01-02,2026-01-02T00:00:00Z,,ü\n"
    "3,7,,True,,2026-01-03T00:00:00+00:00,c,\n"
)


def run_landing(kind: str, workdir: Path, templates_dir: Path | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "tests.load_landing", kind, str(workdir)]
    if templates_dir is not None:
        command.append(str(templates_dir))
    return subprocess.run(command, cwd=SKILL_ROOT, capture_output=True, text=True, timeout=300)


def land(kind: str, workdir: Path) -> dict:
    done = run_landing(kind, workdir)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


def assert_same(landed: dict) -> None:
    before, template = landed["before"], landed["template"]
    assert template["types"] == before["types"]
    assert template["rows"] == before["rows"]


def sql_source(workdir: Path) -> Path:
    with sqlite3.connect(workdir / "source.db") as con:
        con.executescript(SQL)
    return workdir


def csv_source(workdir: Path) -> Path:
    (workdir / "files").mkdir()
    (workdir / "files" / "kinds_1.csv").write_text(CSV, encoding="utf-8")
    return workdir


def test_sql_database_pyarrow_backend_lands_what_sqlalchemy_landed(tmp_path):
    landed = land("sql", sql_source(tmp_path))
    assert landed["template"]["formats"] == {"kinds": [["arrow"], ["parquet"]]}
    assert landed["before"]["formats"] == {"kinds": [["objects"], ["insert_values"]]}
    assert_same(landed)
    types = {column: kind for column, kind, _ in landed["template"]["types"]["kinds"]}
    assert types["amount"] == "DECIMAL(12,2)" and types["payload"] == "JSON" and "_dlt_load_id" in types


def test_rest_api_parquet_and_parallel_endpoints_land_what_insert_values_landed(tmp_path):
    landed = land("rest", tmp_path)
    assert landed["template"]["formats"] == {t: [["objects"], ["parquet"]] for t in ("orders", "customers")}
    assert_same(landed)
    types = {column: kind for column, kind, _ in landed["template"]["types"]["orders"]}
    assert types["updated_at"] == "TIMESTAMP WITH TIME ZONE"


def test_filesystem_csv_through_parquet_lands_what_insert_values_landed(tmp_path):
    landed = land("csv", csv_source(tmp_path))
    assert landed["template"]["formats"] == {"kinds": [["objects"], ["parquet"]]}
    assert_same(landed)
    types = {column: kind for column, kind, _ in landed["template"]["types"]["kinds"]}
    assert types["at"] == "TIMESTAMP WITH TIME ZONE" and types["qty"] == "DOUBLE"


@pytest.mark.parametrize(
    ("kind", "old", "new", "differs"),
    [
        # without the normalizer setting, arrow tables land without dlt's own columns
        ("sql", 'dlt.config["normalize.parquet_normalizer.add_dlt_id"] = True', "", "_dlt_id"),
        # the pandas backend hands JSON columns over as Python reprs, which DuckDB refuses
        ("sql", "backend={{ src.sql_backend(destination) | py }}", 'backend="pandas"', "Malformed JSON"),
    ],
)
def test_the_comparison_fails_on_a_configuration_that_lands_differently(
    tmp_path, templates_copy, kind, old, new, differs
):
    partials = templates_copy / "_partials"
    target = next(p for p in partials.iterdir() if old in p.read_text(encoding="utf-8"))
    replace_in(target, old, new)
    done = run_landing(kind, sql_source(tmp_path), templates_copy)
    if done.returncode != 0:
        assert differs in done.stderr
        return
    landed = json.loads(done.stdout.splitlines()[-1])
    with pytest.raises(AssertionError, match=differs):
        assert_same(landed)


@pytest.mark.parametrize(
    ("source", "destination", "pyarrow"),
    [
        ("sql_database", "duckdb", True),  # the pyarrow backend
        ("sql_database", "postgres", True),  # the pyarrow backend, INSERTs
        ("sql_database", "snowflake", False),  # not measured: dlt's own sqlalchemy
        ("rest_api", "duckdb", True),  # parquet load files
        ("filesystem", "duckdb", True),
        ("rest_api", "snowflake", False),  # the destination's own default file format
        ("custom", "duckdb", False),  # the placeholder keeps insert_values: no extra package
    ],
)
def test_scaffold_lists_pyarrow_where_the_generated_code_needs_it(tmp_path, source, destination, pyarrow):
    project, env = new_project(tmp_path)
    args = ["--approach", "asset", "--pipeline-name", "p", "--dataset-name", "d", "--source", source]
    args += ["--destination", destination, "--dry-run", "--json"]
    if source == "rest_api":
        args += ["--base-url", "http://127.0.0.1:1/"]
    done = run_script("scaffold.py", *args, cwd=project.root, env=env)
    assert done.returncode == 0, done.stderr
    assert ("pyarrow" in json.loads(done.stdout)["packages"]) is pyarrow
