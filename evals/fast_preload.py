"""Imported once by fast mode's forkserver, so forked children start warm.

It imports dagster, dagster-dg-cli, dagster-dlt, dlt and duckdb, then every module listed in
fast_preload_modules.txt: the modules a `dg check defs`, `dg launch` and `dg list defs`
child imported when the list was recorded (set EVAL_DEBUG_MODULES=<file> for a fast-mode
run to record a child's imports). The list only saves time: a module that is missing from
it, or fails to import here, is imported by the child itself as usual, so failures here are
deliberately ignored.
"""

import importlib
from pathlib import Path

import dagster  # noqa: F401
import dagster_dg_cli.cli  # noqa: F401
import dagster_dlt  # noqa: F401
import dlt  # noqa: F401
import duckdb  # noqa: F401

LIST = Path(__file__).with_name("fast_preload_modules.txt")

for _line in LIST.read_text(encoding="utf-8").splitlines():
    _name = _line.strip()
    if not _name or _name.startswith("#"):
        continue
    try:
        importlib.import_module(_name)
    except Exception:  # noqa: BLE001, S112 - see the docstring: preloading is only an optimization
        continue
