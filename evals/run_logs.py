"""What a launch's runs recorded in their instance: the captured output of each step.

Dagster writes a step's stdout and stderr to files under
`$DAGSTER_HOME/storage/<run id>/compute_logs/`, and copies them to the terminal through a
`tail -F` process that it stops when the step ends. On a busy machine it stops before the
last lines, which hold the step's error (dagster#23336): the terminal then shows
"Steps failed" without the reason. The files always hold it, so a launch that must fail with
a text is checked against both.
"""

from __future__ import annotations

from pathlib import Path


def run_ids(dagster_home: Path) -> set[str]:
    """The runs whose logs the instance keeps now."""
    storage = dagster_home / "storage"
    return {p.name for p in storage.iterdir() if p.is_dir()} if storage.is_dir() else set()


def captured_output(dagster_home: Path, before: set[str]) -> str:
    """The compute logs (stderr, then stdout) of every run not in `before`."""
    texts = []
    for run_id in sorted(run_ids(dagster_home) - before):
        folder = dagster_home / "storage" / run_id / "compute_logs"
        for suffix in (".err", ".out"):
            for log in sorted(folder.glob(f"*{suffix}")):
                texts.append(log.read_text(encoding="utf-8", errors="replace"))
    return "\n".join(texts)
