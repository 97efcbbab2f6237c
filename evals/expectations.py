"""What an `expect` step asserts: tables and row counts, asset keys, and API requests.

Each function returns a list of problems (empty: the expectation holds), worded for the
failure message; the assert stage (evals/stages.py) joins them.

Tables are read through a TableReader: `open_tables` picks the reader for a
TableExpectation's `database:`, a DuckDB file relative to the project root, or `postgres`
for the case's PostgreSQL database (evals/services/postgres.py). A reader lists the tables
it holds as "schema.table" and counts the rows of one, optionally of those a SQL `where`
matches (or, with `absent: true`, the table must not be there); another destination plugs
in as another reader.
"""

from __future__ import annotations

from collections.abc import Iterable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Protocol

import duckdb

from evals.cases import POSTGRES, Expect, RequestExpectation, TableExpectation
from evals.rest_server import LoggedRequest
from evals.services import postgres


class TablesMissing(Exception):
    """The database a table expectation names does not exist; the message says what was found."""


class TableReadError(Exception):
    """The database cannot answer (a bad `where`, say); the message says why."""


class TableReader(Protocol):
    """Open as a context manager: `with open_tables(expected, root) as tables: ...`."""

    def __enter__(self) -> TableReader: ...
    def __exit__(self, *exc) -> None: ...
    def table_names(self) -> set[str]: ...  # every table, as "schema.table"
    def count(self, table: str, where: str | None = None) -> int: ...  # raises TableReadError


class DuckDBTables(AbstractContextManager):
    """The tables of a DuckDB file, read-only."""

    def __init__(self, path: Path):
        self.connection = duckdb.connect(str(path), read_only=True)

    def table_names(self) -> set[str]:
        rows = self.connection.execute("select table_schema, table_name from information_schema.tables")
        return {f"{schema}.{table}" for schema, table in rows.fetchall()}

    def count(self, table: str, where: str | None = None) -> int:
        schema, name = table.split(".", 1)
        condition = f" where {where}" if where else ""
        try:
            return self.connection.execute(f'select count(*) from "{schema}"."{name}"{condition}').fetchone()[
                0
            ]
        except duckdb.Error as exc:
            raise TableReadError(str(exc)) from exc

    def __exit__(self, *exc) -> None:
        self.connection.close()


class PostgresTables(AbstractContextManager):
    """The tables of a case's PostgreSQL database (each call its own connection)."""

    def __init__(self, database: postgres.Database):
        self.database = database

    def table_names(self) -> set[str]:
        try:
            return self.database.table_names()
        except postgres.psycopg2.Error as exc:
            raise TableReadError(str(exc).strip()) from exc

    def count(self, table: str, where: str | None = None) -> int:
        try:
            return self.database.count(*table.split(".", 1), where)
        except postgres.psycopg2.Error as exc:
            raise TableReadError(str(exc).strip()) from exc

    def __exit__(self, *exc) -> None:
        pass


def open_tables(
    expected: TableExpectation, project_root: Path, database: postgres.Database | None = None
) -> TableReader:
    """The reader for the database an expectation names (raises TablesMissing); `database`: the
    case's PostgreSQL database, if it asked for one."""
    if expected.database == POSTGRES:
        if database is None:
            raise TablesMissing("postgres: the case has no PostgreSQL database (give it `postgres:`)")
        return PostgresTables(database)
    return open_duckdb(project_root, expected.database)


def open_duckdb(root: Path, database: str) -> DuckDBTables:
    """The DuckDB file `database` (relative to `root`); TablesMissing names the ones there are."""
    path = root / database
    if not path.is_file():
        found = ", ".join(sorted(str(p.relative_to(root)) for p in root.rglob("*.duckdb"))) or "none"
        raise TablesMissing(f"no DuckDB file {database} (found: {found})")
    return DuckDBTables(path)


def user_tables(tables: Iterable[str]) -> list[str]:
    """Tables other than dlt's own bookkeeping (_dlt_loads, _dlt_version, ...)."""
    return sorted(t for t in tables if not t.split(".", 1)[1].startswith("_dlt"))


def table_problems(
    expectations: Iterable[TableExpectation], project_root: Path, database: postgres.Database | None = None
) -> list[str]:
    problems = []
    for expected in expectations:
        where = f" where {expected.where}" if expected.where else ""
        try:
            with open_tables(expected, project_root, database) as tables:
                names = tables.table_names()
                if expected.absent:
                    if expected.table in names:
                        rows = tables.count(expected.table, None)
                        found = f"{expected.database}: {expected.table} exists ({rows} rows)"
                        problems.append(f"{found}, expected no such table")
                    continue
                if expected.table not in names:
                    found = ", ".join(user_tables(names)) or "none"
                    problems.append(f"{expected.database}: no table {expected.table} (found: {found})")
                    continue
                rows = tables.count(expected.table, expected.where)
        except TablesMissing as exc:
            problems.append(str(exc))
            continue
        except TableReadError as exc:
            problems.append(f"{expected.database}: cannot count {expected.table}{where}: {exc}")
            continue
        if rows != expected.rows:
            problems.append(
                f"{expected.database}: {expected.table}{where} has {rows} rows, expected {expected.rows}"
            )
    return problems


def request_problems(step: Expect, latest: list[LoggedRequest] | None) -> list[str]:
    """`latest`: the requests the API received during the latest launch (None: no server)."""
    if not (step.requests or step.absent_requests):
        return []
    if latest is None:
        return ["request expectations need a server"]

    def matches(wanted: RequestExpectation) -> bool:
        return any(
            r.path == wanted.path and all(r.query.get(k) == v for k, v in wanted.query.items())
            for r in latest
        )

    seen = [f"{r.path}?{r.query}" for r in latest]
    problems = [
        f"no request to {w.path} with {w.query} in the latest launch (seen: {seen})"
        for w in step.requests
        if not matches(w)
    ]
    problems += [
        f"unexpected request to {w.path} with {w.query} in the latest launch"
        for w in step.absent_requests
        if matches(w)
    ]
    return problems


def asset_key_problems(expected: Iterable[tuple[str, ...]], actual: set[tuple[str, ...]]) -> list[str]:
    expected = set(expected)
    problems = []
    if expected - actual:
        problems.append(f"missing asset keys {sorted(expected - actual)}")
    if actual - expected:
        problems.append(f"unexpected asset keys {sorted(actual - expected)}")
    return problems
