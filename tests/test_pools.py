"""incremental-backfill-parallel.md, One writer, many runs: two real runs at once on one DuckDB file.

Each launch is the real `dg launch` in its own process, both started together against one
DAGSTER_HOME, as a schedule tick during a manual run would be. The projects and the
instance setting are the Markdown's own blocks.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from evals.project import create_project, isolated_env
from evals.skill import SKILL_ROOT
from evals.snippets import extract, plan

pytestmark = pytest.mark.slow

DOC = SKILL_ROOT / "references" / "incremental-backfill-parallel.md"
DG = str(Path(sys.executable).parent / "dg")
LOCK_ERROR = "Could not set lock on file"
BLOCKED = "Step blocked by limit for pool warehouse_duckdb"
# (doc group, the two launches, the tables both runs together load)
PROJECTS = {
    "pools": (("dlt_crm_contacts", "dlt_crm_deals"), {"crm_raw.contacts": 1000, "crm_raw.deals": 1000}),
    "component-pool": (
        ("crm_raw/contacts", "erp_raw/invoices"),
        {"crm_raw.contacts": 2, "erp_raw.invoices": 1},
    ),
}


def pool_limit_yaml() -> str:
    (block,) = [b for b in extract(DOC) if b.marker and "skip" in b.marker and b.lang == "yaml"]
    assert "default_limit: 1" in block.text
    return block.text


def new_project(tmp_path: Path, group: str):
    (case,) = [c for c in plan([DOC]).cases if c.name == f"doc-incremental-backfill-parallel-{group}"]
    project = create_project(tmp_path / "project", "evalproj")
    for relative, text in case.files.items():
        target = project.defs_dir / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    return project, isolated_env(project, tmp_path)


def two_at_once(project, env: dict[str, str], selections: tuple[str, str]) -> list[str]:
    """Start both launches together; the output of each (exit code first)."""
    (project.root / "warehouse.duckdb").unlink(missing_ok=True)
    launches = [
        subprocess.Popen(
            [DG, "launch", "--assets", selection],
            cwd=project.root,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for selection in selections
    ]
    outputs = []
    for launch in launches:
        try:
            out, _ = launch.communicate(timeout=900)  # a loaded 2-core machine is slow
        except subprocess.TimeoutExpired:
            launch.kill()
            out, _ = launch.communicate()
        outputs.append(f"exit {launch.returncode}\n{out}")
    return outputs


def collide(project, env, selections) -> list[str]:
    """Two launches at once until one fails with the lock error (a race: up to 3 attempts)."""
    attempts = []
    for _ in range(3):
        outputs = two_at_once(project, env, selections)
        if any(LOCK_ERROR in out for out in outputs):
            return outputs
        attempts.append([out.splitlines()[0] for out in outputs])
    pytest.fail(f"two runs at once never collided on the file: {attempts}")


def rows(project, table: str) -> int:
    with duckdb.connect(str(project.root / "warehouse.duckdb"), read_only=True) as con:
        return con.execute(f"select count(*) from {table}").fetchone()[0]


@pytest.mark.parametrize("group", sorted(PROJECTS))
def test_two_runs_at_once_on_one_file_both_succeed_with_a_pool_limit(tmp_path, group):
    selections, tables = PROJECTS[group]
    project, env = new_project(tmp_path, group)

    # an instance that has run before (two first runs at once would race to create its tables)
    first = subprocess.run(
        [DG, "launch", "--assets", selections[0]], cwd=project.root, env=env, capture_output=True, timeout=900
    )
    assert first.returncode == 0, first.stdout[-3000:]
    if group == "pools":  # the same instance without a limit: one run fails (the race, once)
        collide(project, env, selections)

    home_yaml = Path(env["DAGSTER_HOME"]) / "dagster.yaml"
    home_yaml.write_text(home_yaml.read_text() + pool_limit_yaml(), encoding="utf-8")
    outputs = two_at_once(project, env, selections)
    for out in outputs:
        assert out.startswith("exit 0\n") and "RUN_SUCCESS" in out, out[-3000:]
    assert any(BLOCKED in out for out in outputs), "the second run's step never waited for the pool"
    assert {table: rows(project, table) for table in tables} == tables


INSTANCE_DIR = """\
import os
from pathlib import Path

import dagster as dg


@dg.asset
def where_runs_go(context: dg.AssetExecutionContext) -> None:
    Path(os.environ["INSTANCE_OUT"]).write_text(context.instance.root_directory)
"""


def test_without_dagster_home_each_launch_has_a_temporary_instance(tmp_path):
    """ "`dg launch` without `DAGSTER_HOME` uses a temporary instance of its own, which forgets
    its runs and its pool slots when it exits": the run's instance is a folder that dg
    makes in the working directory and deletes when it exits."""
    project = create_project(tmp_path / "project", "evalproj")
    (project.defs_dir / "where_runs_go.py").write_text(INSTANCE_DIR)
    env = {**isolated_env(project, tmp_path), "INSTANCE_OUT": str(tmp_path / "instance.txt")}
    env.pop("DAGSTER_HOME")
    done = subprocess.run(
        [DG, "launch", "--assets", "where_runs_go"],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    instance = Path((tmp_path / "instance.txt").read_text())
    assert instance.parent == project.root and instance.name.startswith(".tmp_dagster_home_")
    assert not instance.exists(), "the temporary instance outlived dg launch"
