"""Rows per second of every load configuration the skill could write, side by side in one run.

    uv run python benchmarks/load_throughput.py [--rows N] [--repeat K] [--kinds sql,rest,csv,parquet]
    uv run python benchmarks/load_throughput.py --growth 100000,1000000

For each source kind it loads generated tables into a fresh DuckDB file through each
configuration (backend or reader, loader file format, parallelized resources, workers) and
through the code the skill's templates write (the component template's loads.py, rendered by
scripts/templating.py and imported as a module: the same source and pipeline partials every
template uses). It prints rows/s per configuration, its ratio to the fastest, the formats the
load really used (what was extracted -> what was loaded, from dlt's load info and trace) and
one line per kind:

    template/fastest ratio R

where R is the template's rows/s divided by the fastest configuration's. Only `pipeline.run`
is timed: not the imports, the data generation or the rendering. Every configuration runs
once; the ones within half of the fastest (and the template) run `--repeat` times more and
keep their best, so the ranking at the top is not decided by one noisy run. Each run checks
the row count that landed. `--growth A,B` runs only the template and the fastest configuration
of each kind at A and B rows, and prints how the time grows.

Sources: a SQLite file (sql), the harness's loopback JSON API in its own process (rest,
evals/rest_server.py, paginated with json_link), CSV and parquet files on local disk (csv,
parquet). Everything runs in a temp folder, with its own DLT_DATA_DIR.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import os
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

REST_RESOURCES = ("orders", "customers", "events")  # three endpoints, so parallelized resources matter
REST_PAGE_SIZE = 1000
# A real API answers a page in tens of milliseconds, the loopback one in microseconds: each
# page waits this long before it is served (--api-latency-ms), so waiting on the API counts.
API_LATENCY_MS = 20
FILES = 4  # files per table, for the filesystem kinds
HALF = 0.5  # configurations slower than this share of the fastest run once


@dataclass
class Config:
    """One way to load a kind's data: `build` returns (source, pipeline.run kwargs)."""

    name: str
    build: Callable[[Fixture], tuple[Any, dict[str, Any]]]
    env: dict[str, str] = field(default_factory=dict)
    template: bool = False  # the code the skill's templates write
    note: str = ""


@dataclass
class Fixture:
    """The generated data of one kind, where the configurations read it from."""

    kind: str
    rows: int
    workdir: Path
    tables: tuple[str, ...]
    sql_url: str = ""
    api_url: str = ""
    bucket_url: str = ""
    template_vars: dict[str, Any] | None = None  # None: no template reads this kind
    postgres_url: str = ""  # set: load into this PostgreSQL database instead of DuckDB files


@dataclass
class Result:
    config: Config
    rows: int = 0
    best_seconds: float = float("inf")
    runs: int = 0
    formats: str = ""
    landed: Landed | None = None
    error: str = ""

    @property
    def rows_per_second(self) -> float:
        return 0.0 if self.error or not self.runs else self.rows / self.best_seconds


@dataclass(frozen=True)
class Landed:
    """What one run left in DuckDB: column types, and a fingerprint of the values."""

    types: tuple[tuple[str, str, str], ...]  # (table, column, DuckDB type)
    values: tuple[tuple[str, int], ...]  # (table, bit_xor of every row's hash, _dlt_* columns left out)

    def differences(self, other: Landed) -> str:
        """'' when the same; else the first differences, in words."""
        mine, theirs = {t[:2]: t[2] for t in self.types}, {t[:2]: t[2] for t in other.types}
        diffs = []
        for key in sorted(set(mine) | set(theirs)):
            if mine.get(key) != theirs.get(key):
                was, now = theirs.get(key, "missing"), mine.get(key, "missing")
                diffs.append(f"{'.'.join(key)} {now}, not {was}")
        if not diffs and self.values != other.values:
            diffs = ["same types, other values"]
        return "; ".join(diffs[:3])


# ---------------------------------------------------------------- data


def make_sqlite(path: Path, rows: int) -> None:
    """One table with the column kinds a real one has: integer key, text, decimal, float,
    timestamp, boolean, JSON and a nullable text column."""
    con = sqlite3.connect(path)
    con.execute(
        "create table items (id integer primary key, name text not null, amount numeric(12, 2),"
        " price real, created_at timestamp, active boolean, payload json, note text)"
    )
    con.executemany(
        "insert into items values (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            (
                i,
                f"item-{i}",
                f"{i % 1000}.{i % 99 + 1:02d}",
                i * 0.5,
                f"2026-01-{i % 28 + 1:02d} {i % 24:02d}:{i % 60:02d}:00",
                i % 2,
                f'{{"tags": ["t{i % 7}"], "score": {i % 10}}}',
                (None, "", f"note {i}")[i % 3],  # NULLs and empty strings, which some formats confuse
            )
            for i in range(rows)
        ),
    )
    con.commit()
    con.close()


def make_files(folder: Path, rows: int) -> None:
    """`orders_<n>.csv` and `orders_<n>.parquet`, FILES of each, the same rows in both."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.parquet as pq

    folder.mkdir(parents=True)
    for n in range(FILES):
        ids = list(range(n * rows // FILES, (n + 1) * rows // FILES))
        table = pa.table(
            {
                "id": ids,
                "name": [f"order-{i}" for i in ids],
                "amount": [i * 0.25 for i in ids],
                "day": [f"2026-01-{i % 28 + 1:02d}" for i in ids],
                "updated_at": [f"2026-01-{i % 28 + 1:02d}T{i % 24:02d}:00:00+00:00" for i in ids],
                "note": [None if i % 3 else f"note {i}" for i in ids],
            }
        )
        pcsv.write_csv(table, folder / f"orders_{n}.csv")
        # Parquet files carry types: the timestamps as timestamps, as a real export has them.
        stamps = [datetime(2026, 1, i % 28 + 1, i % 24, tzinfo=timezone.utc) for i in ids]
        column = table.schema.get_field_index("updated_at")
        typed = table.set_column(column, "updated_at", pa.array(stamps, pa.timestamp("us", tz="UTC")))
        pq.write_table(typed, folder / f"orders_{n}.parquet")


@contextlib.contextmanager
def loopback_api(rows: int) -> Iterator[str]:
    """The harness's JSON API in a process of its own (as a real API is), serving `rows`
    records spread over REST_RESOURCES."""
    per_resource = rows // len(REST_RESOURCES)
    server = subprocess.Popen(
        [sys.executable, __file__, "--serve-api", str(per_resource), "--api-latency-ms", str(API_LATENCY_MS)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        url = server.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1:"):
            raise SystemExit(f"the loopback API did not start (it printed {url!r})")
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def serve_api(per_resource: int, latency_ms: float) -> None:
    from evals.rest_server import RestApiServer

    class SlicingServer(RestApiServer):
        """Pages by slicing, without the per-page copy and filter (no window is asked for)."""

        def page(self, resource: str, query: dict[str, str]) -> dict | None:
            records = self._records.get(resource)
            if records is None:
                return None
            time.sleep(latency_ms / 1000)
            page = int(query.get("page", "1"))
            start = (page - 1) * self.page_size
            more = start + self.page_size < len(records)
            next_url = f"{self.url}{resource}?page={page + 1}" if more else None
            return {"data": records[start : start + self.page_size], "next": next_url}

    api = SlicingServer(dict.fromkeys(REST_RESOURCES, per_resource), page_size=REST_PAGE_SIZE).start()
    print(api.url, flush=True)
    try:
        while True:
            time.sleep(3600)
    finally:
        api.stop()


# ---------------------------------------------------------------- configurations


def sql_configs() -> list[Config]:
    from dlt.sources.sql_database import sql_database

    def backend(name: str, file_format: str | None) -> Callable[[Fixture], tuple[Any, dict]]:
        def build(fx: Fixture) -> tuple[Any, dict]:
            source = sql_database(fx.sql_url, table_names=list(fx.tables), backend=name)
            return source, {"loader_file_format": file_format} if file_format else {}

        return build

    configs = []
    for name in ("sqlalchemy", "pyarrow", "pandas", "connectorx"):
        for file_format in ("insert_values", "jsonl", "parquet"):
            configs.append(Config(f"backend={name}, {file_format}", backend(name, file_format)))
    return configs


def rest_configs() -> list[Config]:
    from dlt.sources.rest_api import rest_api_source

    def rest(file_format: str, parallelized: bool) -> Callable[[Fixture], tuple[Any, dict]]:
        def build(fx: Fixture) -> tuple[Any, dict]:
            defaults: dict[str, Any] = {"primary_key": "id", "write_disposition": "merge"}
            if parallelized:
                defaults["parallelized"] = True  # endpoints extracted side by side, in threads
            source = rest_api_source(
                {
                    "client": {
                        "base_url": fx.api_url,
                        "paginator": {"type": "json_link", "next_url_path": "next"},
                    },
                    "resource_defaults": {**defaults, "endpoint": {"data_selector": "data"}},
                    "resources": list(fx.tables),
                },
                name="bench",
            )
            return source, {"loader_file_format": file_format}

        return build

    configs = []
    for file_format in ("insert_values", "jsonl", "parquet"):
        for parallelized in (False, True):
            label = f"{file_format}{', parallelized' if parallelized else ''}"
            configs.append(Config(label, rest(file_format, parallelized)))
    configs.append(
        Config(
            "parquet, parallelized, NORMALIZE__WORKERS=2", rest("parquet", True), {"NORMALIZE__WORKERS": "2"}
        )
    )
    return configs


def csv_configs() -> list[Config]:
    import dlt
    import pandas as pd
    import pyarrow.csv as pcsv
    from dlt.sources.filesystem import filesystem, read_csv, read_csv_duckdb

    @dlt.transformer
    def csv_frames(items):
        for file in items:
            with file.open() as f:
                yield from pd.read_csv(f, chunksize=50_000)

    @dlt.transformer
    def csv_arrow(items):
        for file in items:
            with file.open() as f:
                yield pcsv.read_csv(f)

    def files(reader: Any, file_format: str | None = None) -> Callable[[Fixture], tuple[Any, dict]]:
        def build(fx: Fixture) -> tuple[Any, dict]:
            source = (filesystem(bucket_url=fx.bucket_url, file_glob="orders*.csv") | reader()).with_name(
                "orders"
            )
            return source, {"loader_file_format": file_format} if file_format else {}

        return build

    configs = [
        Config(f"read_csv, {fmt}", files(read_csv, fmt)) for fmt in ("insert_values", "jsonl", "parquet")
    ]
    configs += [
        Config("pandas DataFrames (read_csv's parser), parquet", files(csv_frames, "parquet")),
        Config(
            "read_csv_duckdb(use_pyarrow=True), parquet",
            files(lambda: read_csv_duckdb(use_pyarrow=True), "parquet"),
            note="DuckDB's own type sniffing: day lands as DATE, not text",
        ),
        Config(
            "pyarrow.csv, parquet",
            files(csv_arrow, "parquet"),
            note="pyarrow's type inference: day lands as DATE, not text",
        ),
    ]
    return configs


def parquet_configs() -> list[Config]:
    from dlt.sources.filesystem import filesystem, read_parquet

    def files(use_pyarrow: bool, file_format: str) -> Callable[[Fixture], tuple[Any, dict]]:
        def build(fx: Fixture) -> tuple[Any, dict]:
            reader = read_parquet(use_pyarrow=use_pyarrow)
            source = (filesystem(bucket_url=fx.bucket_url, file_glob="orders*.parquet") | reader).with_name(
                "orders"
            )
            return source, {"loader_file_format": file_format}

        return build

    return [
        Config(f"read_parquet(use_pyarrow={arrow}), {fmt}", files(arrow, fmt))
        for arrow in (False, True)
        for fmt in ("insert_values", "parquet")
    ]


def sql_postgres_configs() -> list[Config]:
    from dlt.sources.sql_database import sql_database

    def backend(name: str, file_format: str) -> Callable[[Fixture], tuple[Any, dict]]:
        def build(fx: Fixture) -> tuple[Any, dict]:
            source = sql_database(fx.sql_url, table_names=list(fx.tables), backend=name)
            return source, {"loader_file_format": file_format}

        return build

    return [
        Config(f"backend={name}, {file_format}", backend(name, file_format))
        for name in ("sqlalchemy", "pyarrow")
        for file_format in ("insert_values", "csv")
    ]


def rest_postgres_configs() -> list[Config]:
    build = {c.name: c.build for c in rest_configs()}["parquet, parallelized"]

    def with_format(file_format: str, parallelized: bool) -> Callable[[Fixture], tuple[Any, dict]]:
        def run(fx: Fixture) -> tuple[Any, dict]:
            source, _ = build(fx)
            if not parallelized:
                for resource in source.resources.values():
                    resource.parallelized = False
            return source, {"loader_file_format": file_format}

        return run

    return [
        Config(f"{file_format}{', parallelized' if par else ''}", with_format(file_format, par))
        for file_format in ("insert_values", "csv")
        for par in (False, True)
    ]


CONFIGS = {
    "sql": sql_configs,
    "rest": rest_configs,
    "csv": csv_configs,
    "parquet": parquet_configs,
    "sql-postgres": sql_postgres_configs,
    "rest-postgres": rest_postgres_configs,
}
TITLES = {
    "sql": "SQL (SQLite) -> DuckDB",
    "rest": f"REST (loopback, {len(REST_RESOURCES)} endpoints, {REST_PAGE_SIZE}/page, API_LATENCY) -> DuckDB",
    "csv": f"filesystem, CSV ({FILES} files) -> DuckDB",
    "parquet": f"filesystem, parquet ({FILES} files) -> DuckDB",
    "sql-postgres": "SQL (SQLite) -> PostgreSQL",
    "rest-postgres": f"REST (loopback, {len(REST_RESOURCES)} endpoints, API_LATENCY) -> PostgreSQL",
}


# ---------------------------------------------------------------- the template's own code


def template_loads(fx: Fixture, run_id: str) -> Any:
    """Render the component template's loads.py for this kind and import it."""
    import templating

    given = {
        **fx.template_vars,
        "pipeline_name": f"template_{run_id}",
        "dataset_name": f"bench_{run_id}",
    }
    if fx.postgres_url:
        given["destination"] = "postgres"
    else:
        given["duckdb_file"] = f"template_{run_id}.duckdb"
    files = templating.render("component", given)
    loads = next(f for f in files if f.path.endswith("loads.py"))
    project = fx.workdir / f"template_{run_id}"
    module_dir = project / "src" / "bench" / "defs" / f"template_{run_id}"
    module_dir.mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'bench'\n", encoding="utf-8")
    path = module_dir / "loads.py"
    path.write_text(loads.text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location(f"template_{run_id}_loads", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dlt's decorators look their module up
    spec.loader.exec_module(module)
    return module, f"template_{run_id}"


def template_config(kind: str) -> Config:
    return Config("template (what scaffold.py writes)", build=lambda fx: (None, {}), template=True)


# ---------------------------------------------------------------- one run


@contextlib.contextmanager
def env_vars(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def formats_used(pipeline: Any) -> str:
    """`arrow -> parquet`: how the data tables' rows reached dlt and were loaded, from dlt's trace
    (the same reading the evals' `loads` expectations use)."""
    from evals.load_formats import used_formats

    extracted, loaded = set(), set()
    for item_formats, file_formats in used_formats(pipeline.last_trace).values():
        extracted |= item_formats
        loaded |= file_formats
    return f"{'+'.join(sorted(extracted))} -> {'+'.join(sorted(loaded))}"


def landed(pipeline: Any, tables: tuple[str, ...]) -> tuple[int, Landed]:
    """Rows, column types and a values fingerprint of the data tables (the benchmark's dataset)."""
    postgres = pipeline.destination.destination_type.endswith("postgres")
    types, values, rows = [], [], 0
    with pipeline.sql_client() as client:
        for table in tables:
            columns = client.execute_sql(
                "select column_name, data_type from information_schema.columns"
                " where table_schema = %s and table_name = %s order by column_name",
                client.dataset_name,
                table,
            )
            types += [(table, column, data_type) for column, data_type in columns]
            data = [f'"{c}"' for c, _ in columns if not c.startswith("_dlt")]  # _dlt_id is random
            if postgres:
                rows_text = f"concat_ws('|', {', '.join(f'{c}::text' for c in data)})"
                fingerprint_sql = f"md5(string_agg({rows_text}, ',' order by {rows_text}))"
            else:
                fingerprint_sql = f"bit_xor(hash({', '.join(data)}))"
            count, fingerprint = client.execute_sql(
                f"select count(*), {fingerprint_sql} from {client.make_qualified_table_name(table)}"
            )[0]
            rows += count
            values.append((table, fingerprint))
    return rows, Landed(tuple(types), tuple(values))


def run_once(config: Config, fx: Fixture, run_id: str) -> tuple[float, str, Landed]:
    import dlt

    env = dict(config.env)
    if config.template:
        env.update(
            {
                "SOURCES__SQL_DATABASE__CREDENTIALS": fx.sql_url,
                "SOURCES__FILESYSTEM__BUCKET_URL": fx.bucket_url,
                "DESTINATION__POSTGRES__CREDENTIALS": fx.postgres_url,
            }
        )
    with env_vars(env):
        if config.template:
            module, defs_name = template_loads(fx, run_id)
            source = getattr(module, f"{defs_name}_source")
            pipeline = getattr(module, f"{defs_name}_pipeline")
            database = fx.workdir / f"template_{run_id}" / f"template_{run_id}.duckdb"
            kwargs: dict[str, Any] = {}
        else:
            source, kwargs = config.build(fx)
            database = fx.workdir / f"{run_id}.duckdb"
            if fx.postgres_url:
                destination = dlt.destinations.postgres(fx.postgres_url)
            else:
                destination = dlt.destinations.duckdb(str(database))
            pipeline = dlt.pipeline(
                pipeline_name=f"bench_{run_id}", dataset_name=f"bench_{run_id}", destination=destination
            )
        started = time.perf_counter()
        info = pipeline.run(source, **kwargs)
        seconds = time.perf_counter() - started
        info.raise_on_failed_jobs()
        rows, what = landed(pipeline, fx.tables)  # the template reads its credentials from env
        if rows != fx.rows:
            raise RuntimeError(f"{rows} rows landed, expected {fx.rows}")
        formats = formats_used(pipeline)
        if fx.postgres_url:
            with pipeline.sql_client() as client:
                client.drop_dataset()
    pipeline.drop()  # its local state; the DuckDB file goes with the temp folder
    database.unlink(missing_ok=True)
    return seconds, formats, what


def lands_as_baseline(results: list[Result]) -> list[Result]:
    """The results that landed what the first (dlt's defaults) landed."""
    baseline = results[0].landed
    ok = [r for r in results if not r.error and r.runs]
    return [r for r in ok if baseline is not None and not r.landed.differences(baseline)] or ok


def measure(results: list[Result], fx: Fixture, repeat: int) -> None:
    counter = iter(range(10**9))
    for rnd in range(1 + repeat):
        fastest = max((r.rows_per_second for r in lands_as_baseline(results)), default=0.0)
        for result in results:
            if result.error:
                continue
            if rnd > 0 and not result.config.template and result.rows_per_second < HALF * fastest:
                continue
            run_id = f"{fx.kind.replace('-', '_')}_{next(counter)}"
            try:
                seconds, formats, what = run_once(result.config, fx, run_id)
            except Exception as exc:  # a configuration that cannot load this data is a finding
                cause = exc
                while cause.__cause__ is not None:
                    cause = cause.__cause__
                result.error = f"{type(cause).__name__}: {str(cause).splitlines()[0][:150]}"
                continue
            result.rows, result.runs, result.formats, result.landed = fx.rows, result.runs + 1, formats, what
            result.best_seconds = min(result.best_seconds, seconds)


# ---------------------------------------------------------------- fixtures


@contextlib.contextmanager
def fixture(kind: str, rows: int, workdir: Path) -> Iterator[Fixture]:
    folder = workdir / f"{kind}_{rows}"
    folder.mkdir()
    if kind == "sql":
        make_sqlite(folder / "source.db", rows)
        yield Fixture(
            kind,
            rows,
            folder,
            ("items",),
            sql_url=f"sqlite:///{folder / 'source.db'}",
            template_vars={"source_kind": "sql_database", "resources": ["items"]},
        )
    elif kind == "rest":
        rows -= rows % len(REST_RESOURCES)
        with loopback_api(rows) as url:
            yield Fixture(
                kind,
                rows,
                folder,
                REST_RESOURCES,
                api_url=url,
                template_vars={"source_kind": "rest_api", "resources": list(REST_RESOURCES), "base_url": url},
            )
    elif kind in ("csv", "parquet"):
        rows -= rows % FILES
        make_files(folder / "files", rows)
        resource = {"name": "orders", "file_glob": f"orders*.{kind}", "reader": kind}
        yield Fixture(
            kind,
            rows,
            folder,
            ("orders",),
            bucket_url=f"file://{folder / 'files'}",
            template_vars={"source_kind": "filesystem", "source_config": {"resources": [resource]}},
        )
    else:  # the same sources, into the evals' throwaway PostgreSQL (evals/services/postgres.py)
        from evals.services.postgres import PostgresServer

        with PostgresServer() as server:
            url = server.database("load_throughput").url
            with fixture(kind.split("-")[0], rows, folder) as fx:
                fx.kind, fx.postgres_url = kind, url
                yield fx


# ---------------------------------------------------------------- report


def report(kind: str, fx: Fixture, results: list[Result], repeat: int) -> tuple[float | None, str]:
    """The table for one kind; returns the template/fastest ratio (None: no template) and the
    fastest configuration's name."""
    baseline = results[0]  # dlt's own defaults for this source: what lands "as before"
    title = TITLES[kind].replace("API_LATENCY", f"{API_LATENCY_MS:g} ms a page")
    print(f"\n{title}: {fx.rows:,} rows, best of up to {1 + repeat} runs", flush=True)
    print(f"  {'configuration':<50} {'rows/s':>9} {'vs fastest':>10} {'runs':>4}  extracted -> loaded")
    ok = [r for r in results if not r.error]
    fastest_all = max(ok, key=lambda r: r.rows_per_second)
    fastest = max(lands_as_baseline(results), key=lambda r: r.rows_per_second)
    for r in sorted(results, key=lambda r: -r.rows_per_second):
        if r.error:
            print(f"  {r.config.name:<50} {'failed':>9} {'':>10} {'':>4}  {r.error}")
            continue
        diff = r.landed.differences(baseline.landed) if baseline.landed else ""
        notes = "; ".join(x for x in (r.config.note, f"lands differently: {diff}" if diff else "") if x)
        ratio = r.rows_per_second / fastest.rows_per_second
        print(
            f"  {r.config.name:<50} {r.rows_per_second:>9,.0f} {ratio:>10.2f} {r.runs:>4}  {r.formats}"
            + (f"  ({notes})" if notes else "")
        )
    print(f"  (dlt's defaults: {baseline.config.name}; ratios are to the fastest that lands the same)")
    if fastest is not fastest_all:
        print(f"  fastest of all: {fastest_all.config.name}, which lands differently")
    template = next((r for r in results if r.config.template), None)
    if template is None:
        print("template/fastest ratio n/a (no template reads this kind)")
        return None, fastest.config.name
    if template.error:
        print(f"template/fastest ratio 0.00 (the template failed: {template.error})")
        return 0.0, fastest.config.name
    ratio = template.rows_per_second / fastest.rows_per_second
    print(f"template/fastest ratio {ratio:.2f}")
    return ratio, fastest.config.name


def run_kind(
    kind: str, rows: int, repeat: int, workdir: Path, only: list[str] | None = None
) -> tuple[list[Result], float | None, str]:
    """Measure one kind; returns the results, the template/fastest ratio and the fastest's name."""
    with fixture(kind, rows, workdir) as fx:
        configs = CONFIGS[kind]()
        if fx.template_vars is not None:
            configs.append(template_config(kind))
        if only is not None:
            configs = [c for c in configs if c.name in only]
        results = [Result(c) for c in configs]
        measure(results, fx, repeat)
        if only is not None:
            return results, None, ""
        ratio, fastest = report(kind, fx, results, repeat)
        return results, ratio, fastest


def growth(kinds: list[str], sizes: list[int], repeat: int, workdir: Path) -> None:
    """Time of the template and of the fastest configuration (that lands the same) at each size."""
    small, large = sizes
    lines = []
    for kind in kinds:
        first, _, fastest = run_kind(kind, small, repeat, workdir)
        names = [fastest] + [r.config.name for r in first if r.config.template and r.config.name != fastest]
        second, _, _ = run_kind(kind, large, repeat, workdir, only=names)
        for name in names:
            a = next(r for r in first if r.config.name == name)
            b = next(r for r in second if r.config.name == name)
            if a.error or b.error:
                lines.append(f"  {kind:<8} {name:<50} failed: {a.error or b.error}")
                continue
            lines.append(
                f"  {kind:<8} {name:<50} {a.best_seconds:7.2f} s -> {b.best_seconds:7.2f} s"
                f" (x{b.best_seconds / a.best_seconds:.1f}),"
                f" {a.rows_per_second:,.0f} -> {b.rows_per_second:,.0f} rows/s"
            )
    print(
        f"\nGrowth {small:,} -> {large:,} rows (x{large / small:g} rows; x{large / small:g} time is linear)"
    )
    print("\n".join(lines))


def main(argv: list[str] | None = None) -> int:
    global API_LATENCY_MS
    from evals.services.postgres import PostgresUnavailable

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=60_000, help="rows per source kind (default 60,000)")
    parser.add_argument("--repeat", type=int, default=2, help="extra runs of the near-fastest (default 2)")
    parser.add_argument("--kinds", default=",".join(CONFIGS), help=f"comma-separated: {','.join(CONFIGS)}")
    parser.add_argument("--growth", metavar="A,B", help="time the template and the fastest at A and B rows")
    parser.add_argument(
        "--api-latency-ms",
        type=float,
        default=API_LATENCY_MS,
        help=f"REST: wait per page (default {API_LATENCY_MS})",
    )
    parser.add_argument("--serve-api", type=int, help=argparse.SUPPRESS)  # the loopback API's process
    args = parser.parse_args(argv)
    if args.serve_api is not None:
        serve_api(args.serve_api, args.api_latency_ms)
        return 0
    API_LATENCY_MS = args.api_latency_ms
    kinds = [k.strip() for k in args.kinds.split(",") if k.strip()]
    unknown = [k for k in kinds if k not in CONFIGS]
    if unknown:
        parser.error(f"unknown kind(s) {', '.join(unknown)}; choose from {', '.join(CONFIGS)}")
    with tempfile.TemporaryDirectory(prefix="load-throughput-") as tmp:
        os.environ["DLT_DATA_DIR"] = str(Path(tmp) / "dlt")
        os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
        # dlt's warnings and failed-job tracebacks would bury the table
        os.environ["RUNTIME__LOG_LEVEL"] = "CRITICAL"
        import dlt

        # Arrow tables get dlt's _dlt_load_id and _dlt_id columns as in the templates, so every
        # configuration lands the same columns and is compared on its types and values alone.
        dlt.config["normalize.parquet_normalizer.add_dlt_load_id"] = True
        dlt.config["normalize.parquet_normalizer.add_dlt_id"] = True
        started = time.perf_counter()
        if args.growth:
            sizes = [int(s) for s in args.growth.split(",")]
            if len(sizes) != 2 or min(sizes) < 1:
                parser.error("--growth takes two row counts, e.g. 100000,1000000")
            growth(kinds, sizes, args.repeat, Path(tmp))
        else:
            ratios = {}
            for kind in kinds:
                try:
                    ratios[kind] = run_kind(kind, args.rows, args.repeat, Path(tmp))[1]
                except PostgresUnavailable as exc:
                    print(f"\n{TITLES[kind]}: skipped, {exc}")
            summary = ", ".join(f"{k} {'n/a' if v is None else f'{v:.2f}'}" for k, v in ratios.items())
            print(f"\ntemplate/fastest: {summary}")
        print(f"total {time.perf_counter() - started:.0f} s on {os.cpu_count()} cores")
    return 0


if __name__ == "__main__":
    sys.exit(main())
