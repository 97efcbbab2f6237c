"""Discover eval cases: YAML files under evals/cases, validated against case.schema.json.

A case makes a project from a template (`template` + `vars`), from literal files (`files`,
used for documented snippets) or by running scripts/scaffold.py in it (`scaffold`, the
arguments; `scaffold_fails_with` for a refusal, which ends the case), checks it, then runs its steps: `launch`
(dg launch), `add_records` (to the loopback API), `change_data` (files, and SQL on the
case's SQLite database or, without one, its PostgreSQL database) and `expect` (tables in
DuckDB or PostgreSQL, asset keys, requests). Without `steps`, a case runs `launch`
(default: all assets) then `expect`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

import yaml

from evals.skill import schema_problems

CASES_DIR = Path(__file__).parent / "cases"
SCHEMA = json.loads((Path(__file__).parent / "case.schema.json").read_text(encoding="utf-8"))


class CaseError(Exception):
    """A case file is malformed; the message names the file."""


POSTGRES = "postgres"  # a table expectation's `database` naming the case's PostgreSQL database


class Stage(str, Enum):
    """The stages of a case, in the order they run; a result names the last one reached."""

    RENDER = "render"
    CHECK = "check"
    MATERIALIZE = "materialize"
    ASSERT = "assert"

    def __str__(self) -> str:  # "check", not "Stage.CHECK", in messages and reports
        return self.value

    __format__ = str.__format__


@dataclass(frozen=True)
class TableExpectation:
    database: str  # a DuckDB file relative to the project root, or POSTGRES
    table: str
    rows: int | None = None  # None with absent
    where: str | None = None  # SQL condition: count only matching rows
    absent: bool = False  # the table must not exist


@dataclass(frozen=True)
class LoadExpectation:
    """How one table's rows reached dlt and were loaded (evals/load_formats.py)."""

    pipeline: str
    table: str
    extracted: str | None = None  # arrow | objects
    loaded: str | None = None  # insert_values | parquet | jsonl | ...


@dataclass(frozen=True)
class RequestExpectation:
    path: str
    query: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Expect:
    tables: tuple[TableExpectation, ...] = ()
    asset_keys: tuple[tuple[str, ...], ...] | None = None
    requests: tuple[RequestExpectation, ...] = ()
    absent_requests: tuple[RequestExpectation, ...] = ()
    loads: tuple[LoadExpectation, ...] = ()


# `dg launch` options and the Launch fields they set: the one table both ways use.
LAUNCH_FLAGS = (
    ("--assets", "assets"),
    ("--job", "job"),
    ("--partition", "partition"),
    ("--partition-range", "partition_range"),
    ("--config-json", "config"),
)


@dataclass(frozen=True)
class Launch:
    assets: str | None = None
    job: str | None = None
    partition: str | None = None
    partition_range: str | None = None
    config: dict[str, Any] | None = None
    env: dict[str, str] = field(default_factory=dict)
    fails_with: str | None = None

    def to_argv(self) -> list[str]:
        """The `dg launch` options of this step; all assets when it names neither assets nor a job."""
        values = {**vars(self), "assets": self.assets if self.assets or self.job else "*"}
        argv = []
        for flag, name in LAUNCH_FLAGS:
            value = values[name]
            if value is not None:
                argv += [flag, json.dumps(value) if name == "config" else value]
        return argv

    @classmethod
    def from_argv(cls, argv: list[str], **fields: Any) -> Launch:
        """The step that `dg launch ARGV` runs (ARGV: its options); ValueError for any other option."""
        by_flag = dict(LAUNCH_FLAGS)
        values: dict[str, Any] = {}
        words = list(argv)
        while words:
            flag = words.pop(0)
            if flag not in by_flag:
                raise ValueError(f"unknown dg launch option {flag!r} (known: {', '.join(by_flag)})")
            if not words:
                raise ValueError(f"dg launch option {flag} needs a value")
            value = words.pop(0)
            values[by_flag[flag]] = json.loads(value) if flag == "--config-json" else value
        return cls(**values, **fields)


@dataclass(frozen=True)
class AddRecords:
    counts: dict[str, int]


@dataclass(frozen=True)
class ChangeData:
    """Source data changed between launches: files written, SQL run on the SQLite file."""

    files: dict[str, Any] = field(default_factory=dict)  # as Case.data_files
    sql: str | None = None


Step = Launch | AddRecords | ChangeData | Expect


@dataclass(frozen=True)
class Case:
    name: str
    path: Path
    steps: tuple[Step, ...]
    template: str | None = None
    vars: dict[str, Any] = field(default_factory=dict)
    files: dict[str, str] = field(default_factory=dict)
    scaffold: tuple[tuple[str, ...], ...] | None = None  # one argument list per scaffold.py run
    scaffold_fails_with: str | None = None
    scenario: int | None = None
    data_files: dict[str, Any] = field(default_factory=dict)  # text, or {rows} for .parquet
    project_files: dict[str, str] = field(default_factory=dict)  # written under the project root
    sqlite: dict[str, str] | None = None
    server: dict[str, Any] | None = None
    postgres: dict[str, Any] | None = None  # a PostgreSQL database for the case (evals/services)
    env: dict[str, str] = field(default_factory=dict)
    check_fails_with: str | None = None
    timeout: float = 300
    without_packages: tuple[str, ...] = ()  # run in an environment lacking these (evals/environments.py)
    with_packages: tuple[str, ...] = ()  # ... or holding these too, pinned `name==version`
    project_kind: str = "dg"  # which kind of project it builds and runs (evals/kinds.py)

    @property
    def expected_cost(self) -> int:
        """A rough guess of how long the case runs, used only to start long cases first:
        its launches, plus the fresh environment a without_packages/with_packages case builds and runs."""
        launches = sum(isinstance(step, Launch) for step in self.steps)
        return launches + (10 if self.own_environment else 0)

    @property
    def own_environment(self) -> bool:
        """True when the case runs in a venv of its own (evals/environments.py)."""
        return bool(self.without_packages or self.with_packages)


def _expect(data: dict[str, Any]) -> Expect:
    def requests(key: str) -> tuple[RequestExpectation, ...]:
        return tuple(RequestExpectation(**r) for r in data.get(key, []))

    return Expect(
        tables=tuple(TableExpectation(**t) for t in data.get("tables", [])),
        asset_keys=tuple(tuple(k) for k in data["asset_keys"]) if "asset_keys" in data else None,
        requests=requests("requests"),
        absent_requests=requests("absent_requests"),
        loads=tuple(LoadExpectation(**load) for load in data.get("loads", [])),
    )


def _step(data: dict[str, Any]) -> Step:
    ((kind, body),) = data.items()
    if kind == "launch":
        return Launch(**body)
    if kind == "add_records":
        return AddRecords(counts=body)
    if kind == "change_data":
        return ChangeData(**body)
    return _expect(body)


def _shape_problem(data: dict[str, Any]) -> str | None:
    """Rules that JSON Schema would only report as 'not valid under any of the given schemas'."""
    sources = [key for key in ("template", "files", "scaffold") if key in data]
    if len(sources) != 1:
        return "give exactly one of template (with vars), files or scaffold"
    if "scaffold_fails_with" in data:
        if "scaffold" not in data or any(k in data for k in ("steps", "expect", "launch", "check")):
            return (
                "scaffold_fails_with goes with scaffold, and ends the case: no check, launch, expect or steps"
            )
        return None
    if ("steps" in data) == ("expect" in data or "launch" in data):
        return "give either steps, or launch and/or expect, not both or neither"
    if "steps" not in data and "expect" not in data:
        return "expect is required without steps"
    if data.get("server") is None and any("add_records" in s for s in data.get("steps", [])):
        return "add_records needs a server"
    if any("sql" in s.get("change_data", {}) for s in data.get("steps", [])):
        if data.get("sqlite") is None and data.get("postgres") is None:
            return "change_data sql needs a sqlite or postgres database"
    for table in _table_expectations(data):
        if ("rows" in table) == bool(table.get("absent")) or (table.get("absent") and "where" in table):
            return f"table {table.get('table')}: give rows (and optionally where), or absent: true alone"
    if data.get("postgres") is None and any(t.get("database") == POSTGRES for t in _table_expectations(data)):
        return "postgres tables need postgres"
    return None


def _table_expectations(data: dict[str, Any]) -> list[dict[str, Any]]:
    expects = [data.get("expect") or {}] + [s["expect"] for s in data.get("steps", []) if "expect" in s]
    return [table for expect in expects for table in expect.get("tables", [])]


def _scaffold_runs(value: Any) -> tuple[tuple[str, ...], ...] | None:
    if value is None:
        return None
    runs = value if isinstance(value[0], list) else [value]
    return tuple(tuple(run) for run in runs)


def case_from_data(data: Any, path: Path) -> Case:
    """Validate parsed case data; `path` is where it came from (named in every error)."""
    problems = schema_problems.schema_problems(SCHEMA, data, root="(case)")
    if problems:
        raise CaseError(f"{path}: invalid case: {'; '.join(map(str, problems))}")
    problem = _shape_problem(data)
    if problem:
        raise CaseError(f"{path}: invalid case: {problem}")
    if "steps" in data:
        steps = tuple(_step(s) for s in data["steps"])
    elif "scaffold_fails_with" in data:
        steps = ()
    else:
        steps = (Launch(**{"assets": "*", **data.get("launch", {})}), _expect(data["expect"]))
    return Case(
        name=data.get("name", path.stem),
        path=path,
        steps=steps,
        template=data.get("template"),
        vars=data.get("vars", {}),
        files=data.get("files", {}),
        scaffold=_scaffold_runs(data.get("scaffold")),
        scaffold_fails_with=data.get("scaffold_fails_with"),
        scenario=data.get("scenario"),
        data_files=data.get("data_files", {}),
        project_files=data.get("project_files", {}),
        sqlite=data.get("sqlite"),
        server=data.get("server"),
        postgres=data.get("postgres"),
        env=data.get("env", {}),
        check_fails_with=data.get("check", {}).get("fails_with"),
        timeout=data.get("timeout", 300),
        without_packages=tuple(data.get("without_packages", [])),
        with_packages=tuple(data.get("with_packages", [])),
        project_kind=data.get("project_kind", "dg"),
    )


def load_case(path: Path) -> Case:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise CaseError(f"{path}: cannot read case: {exc}") from exc
    return case_from_data(data, path)


def discover(cases_dir: Path = CASES_DIR) -> list[Case]:
    """All cases in cases_dir, sorted by file name (evals/selection.py picks which run)."""
    cases = [load_case(p) for p in sorted(cases_dir.glob("*.yaml"))]
    names = [c.name for c in cases]
    duplicated = sorted({n for n in names if names.count(n) > 1})
    if duplicated:
        raise CaseError(f"{cases_dir}: duplicate case names: {', '.join(duplicated)}")
    return cases
