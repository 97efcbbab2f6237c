"""Write a case's source files (data_files, change_data files) under its data folder.

A value is the file's text, with {data_dir}-style placeholders expanded, except for
`.parquet` paths: those hold `{rows: [{column: value, ...}, ...]}` and are written by pyarrow
(column types inferred from the values), so a case can feed dlt's parquet reader real files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any


def write_all(data_dir: Path, files: Mapping[str, Any], expand: Callable[[str], str]) -> None:
    for relative, value in files.items():
        target = data_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(value, dict):  # {rows: [...]}: the case schema allows it for .parquet data files only
            _write_parquet(target, value["rows"])
        else:
            target.write_text(expand(value), encoding="utf-8")


def _write_parquet(target: Path, rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist(rows), target)
