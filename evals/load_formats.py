"""What a case's dlt pipelines really extracted and loaded, read from dlt's own trace.

The load-speed defaults (references/fast-loads.md) are configuration: sql_database's backend
and the loader file format. A case asserts them from the trace dlt saves after every run
(<DLT_DATA_DIR>/pipelines/<pipeline>/trace.pickle), never from a timing:

    expect: {loads: [{pipeline: erp, table: customers, extracted: arrow, loaded: parquet}]}

`extracted` is how the rows reached dlt: `arrow` (Arrow tables or DataFrames: sql_database's
pyarrow, pandas or connectorx backend, read_parquet(use_pyarrow=True)) or `objects` (Python
dicts: the sqlalchemy backend, rest_api, read_csv); it is the format of the file dlt's extract
step wrote for the table. `loaded` is the file format of the table's completed load jobs
(insert_values, parquet, jsonl, csv, ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

ITEM_FORMATS = {"parquet": "arrow"}  # extract files: arrow items go to parquet, objects to (typed) jsonl


def used_formats(trace: Any) -> dict[str, tuple[set[str], set[str]]]:
    """Per data table of the trace's last run: (extracted item formats, loaded file formats)."""
    found: dict[str, tuple[set[str], set[str]]] = {}
    for step in trace.steps:
        info = step.step_info
        if step.step == "extract" and info is not None:
            for metrics in info.metrics.values():
                for extract in metrics:
                    for job in extract["job_metrics"].values():
                        table = Path(job.file_path).name.split(".")[0]
                        extension = Path(job.file_path).suffix.lstrip(".")
                        found.setdefault(table, (set(), set()))[0].add(ITEM_FORMATS.get(extension, "objects"))
        if step.step == "load" and info is not None:
            for package in info.load_packages:
                for job in package.jobs.get("completed_jobs", []):
                    file_info = job.job_file_info
                    if file_info.file_format != "sql":  # merge statements, not data
                        found.setdefault(file_info.table_name, (set(), set()))[1].add(file_info.file_format)
    return {table: formats for table, formats in found.items() if not table.startswith("_dlt")}


def load_format_problems(dlt_data_dir: Path, expectations: list[Any]) -> list[str]:
    """One message per expectation the pipelines' last traces contradict."""
    from dlt.pipeline.trace import load_trace

    problems = []
    for expected in expectations:
        trace_dir = dlt_data_dir / "pipelines" / expected.pipeline
        trace = load_trace(str(trace_dir)) if trace_dir.is_dir() else None
        if trace is None:
            problems.append(f"pipeline {expected.pipeline}: no dlt trace in {trace_dir} (did it run?)")
            continue
        formats = used_formats(trace)
        if expected.table not in formats:
            tables = ", ".join(sorted(formats)) or "none"
            problems.append(
                f"pipeline {expected.pipeline}: no table {expected.table} in its last run ({tables})"
            )
            continue
        extracted, loaded = formats[expected.table]
        for what, wanted, seen in (
            ("extracted", expected.extracted, extracted),
            ("loaded", expected.loaded, loaded),
        ):
            if wanted is not None and seen != {wanted}:
                problems.append(
                    f"pipeline {expected.pipeline}, table {expected.table}: {what} as "
                    f"{', '.join(sorted(seen)) or 'nothing'}, expected {wanted}"
                )
    return problems
