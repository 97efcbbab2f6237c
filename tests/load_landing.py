"""Load one source twice, as dlt's defaults load it and as the skill's template loads it, and
print what landed in DuckDB (column types, rows, formats) as JSON.

    python -m tests.load_landing KIND WORKDIR [TEMPLATES_DIR]

KIND is sql, rest or csv; WORKDIR holds the source data the test wrote (source.db, files/)
and receives the DuckDB files. "before" is the configuration the templates wrote before the
speed defaults (sql_database's sqlalchemy backend, DuckDB's insert_values); "template" is the
component template's loads.py rendered and imported as a module, run as Dagster runs it
(`pipeline.run(source)`). It runs in its own interpreter because the template sets dlt config
for the whole process.
"""

from __future__ import annotations

import importlib.util
import json
import os
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
REST_RESOURCES = ["orders", "customers"]


def describe(pipeline: Any, tables: list[str]) -> dict[str, Any]:
    from evals.load_formats import used_formats

    landed: dict[str, Any] = {"types": {}, "rows": {}}
    with pipeline.sql_client() as client:
        for table in tables:
            columns = client.execute_sql(
                "select column_name, data_type, is_nullable from information_schema.columns"
                " where table_schema = %s and table_name = %s order by column_name",
                client.dataset_name,
                table,
            )
            landed["types"][table] = [list(c) for c in columns]
            data = [c[0] for c in columns if c[0] not in ("_dlt_id", "_dlt_load_id")]  # random per load
            quoted = ", ".join(f'"{c}"' for c in data)
            rows = client.execute_sql(f"select {quoted} from {table} order by id")
            landed["rows"][table] = [dict(zip(data, map(repr, row), strict=True)) for row in rows]
    formats = used_formats(pipeline.last_trace)
    landed["formats"] = {t: [sorted(e), sorted(lo)] for t, (e, lo) in formats.items()}
    return landed


def before(kind: str, workdir: Path, api_url: str) -> tuple[Any, Any, list[str]]:
    import dlt

    if kind == "sql":
        from dlt.sources.sql_database import sql_database

        source, tables = sql_database(f"sqlite:///{workdir / 'source.db'}", table_names=["kinds"]), ["kinds"]
    elif kind == "rest":
        from dlt.sources.rest_api import rest_api_source

        config = {
            "client": {"base_url": api_url, "paginator": {"type": "json_link", "next_url_path": "next"}},
            "resource_defaults": {
                "primary_key": "id",
                "write_disposition": "merge",
                "endpoint": {"data_selector": "data"},
            },
            "resources": REST_RESOURCES,
        }
        source, tables = rest_api_source(config, name="shop"), REST_RESOURCES
    else:
        from dlt.sources.filesystem import filesystem, read_csv

        files = filesystem(bucket_url=f"file://{workdir / 'files'}", file_glob="kinds*.csv")
        source, tables = (files | read_csv()).with_name("kinds"), ["kinds"]
    pipeline = dlt.pipeline(
        pipeline_name="before",
        dataset_name="landed",
        destination=dlt.destinations.duckdb(str(workdir / "before.duckdb")),
    )
    return source, pipeline, tables


def template(kind: str, workdir: Path, api_url: str, templates_dir: Path) -> tuple[Any, Any, list[str]]:
    sys.path.insert(0, str(ROOT / "scripts"))
    import templating

    source_kind = {"sql": "sql_database", "rest": "rest_api", "csv": "filesystem"}[kind]
    tables = REST_RESOURCES if kind == "rest" else ["kinds"]
    given: dict[str, Any] = {
        "pipeline_name": "template",
        "dataset_name": "landed",
        "source_kind": source_kind,
        "resources": tables,
    }
    if kind == "rest":
        given["base_url"] = api_url
    rendered = templating.render("component", given, templates_dir)
    loads = next(f for f in rendered if f.path.endswith("loads.py"))
    project = workdir / "project"
    module_dir = project / "src" / "landing" / "defs" / "template"
    module_dir.mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\nname = 'landing'\n", encoding="utf-8")
    (module_dir / "loads.py").write_text(loads.text, encoding="utf-8")
    os.environ["SOURCES__SQL_DATABASE__CREDENTIALS"] = f"sqlite:///{workdir / 'source.db'}"
    os.environ["SOURCES__FILESYSTEM__BUCKET_URL"] = f"file://{workdir / 'files'}"
    spec = importlib.util.spec_from_file_location("template_loads", module_dir / "loads.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.template_source, module.template_pipeline, tables


def main(argv: list[str]) -> int:
    kind, workdir = argv[0], Path(argv[1])
    templates_dir = Path(argv[2]) if len(argv) > 2 else ROOT / "assets" / "templates"
    os.environ["DLT_DATA_DIR"] = str(workdir / "dlt_data")
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    os.environ["RUNTIME__LOG_LEVEL"] = "ERROR"
    sys.path.insert(0, str(ROOT))
    api = None
    if kind == "rest":
        from evals.rest_server import RestApiServer

        api = RestApiServer(dict.fromkeys(REST_RESOURCES, 7), page_size=3).start()
    try:
        result = {}
        # "before" first: the template's module sets process-wide dlt config when imported
        for name, make in (("before", before), ("template", template)):
            args = (kind, workdir, api.url if api else "")
            source, pipeline, tables = make(*args) if name == "before" else make(*args, templates_dir)
            pipeline.run(source).raise_on_failed_jobs()
            result[name] = describe(pipeline, tables)
    finally:
        if api is not None:
            api.stop()
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
