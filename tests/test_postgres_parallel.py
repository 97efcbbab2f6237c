"""incremental-backfill-parallel.md, "PostgreSQL takes many writers": pipelines that first
load into one new dataset race to create it, and a retry (what the job's retry policy does)
loads the failed package without duplicates.

The race is made deterministic: another session creates the dataset's schema and holds its
transaction open while dlt, having found no schema, runs its own CREATE SCHEMA; that waits
on the other session's lock and fails as soon as the other session commits, exactly what a
second pipeline does to the first when both start at the same moment.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

import pytest

from evals.services.postgres import PostgresServer

RUN = """
import sys
import dlt
pipeline = dlt.pipeline(pipeline_name="crm_contacts", dataset_name="crm_raw", destination="postgres",
                        pipelines_dir=sys.argv[1])
try:
    pipeline.run([{"id": 1}, {"id": 2}], table_name="contacts", write_disposition="merge", primary_key="id")
    print("LOADED")
except Exception as exc:
    print("FAILED", type(exc.__context__ or exc).__name__, exc)
"""


@pytest.fixture
def database():
    with PostgresServer() as server:
        yield server.database("race")


def run_pipeline(tmp_path, database) -> subprocess.Popen:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DESTINATION__", "DLT_", "RUNTIME__"))}
    env.update(
        DESTINATION__POSTGRES__CREDENTIALS=database.url,
        DLT_DATA_DIR=str(tmp_path / "dlt"),
        RUNTIME__DLTHUB_TELEMETRY="false",
    )
    return subprocess.Popen(
        [sys.executable, "-c", RUN, str(tmp_path / "pipelines")],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for_blocked_create_schema(database, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with contextlib.closing(database.connect()) as watcher:
        watcher.autocommit = True
        with watcher.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute(
                    "select count(*) from pg_stat_activity"
                    " where wait_event_type = 'Lock' and query ilike '%create schema%'"
                )
                if cursor.fetchone()[0]:
                    return
                time.sleep(0.1)
    raise AssertionError("dlt's CREATE SCHEMA never waited on the other session")


def count(database, sql: str) -> int:
    with contextlib.closing(database.connect()) as connection, connection.cursor() as cursor:
        cursor.execute(sql)
        return cursor.fetchone()[0]


def test_a_lost_race_for_a_new_dataset_fails_and_the_retry_loads_it_once(tmp_path, database):
    with contextlib.closing(database.connect()) as other:
        with other.cursor() as cursor:
            cursor.execute('create schema "crm_raw"')  # not committed yet: invisible to dlt
        first = run_pipeline(tmp_path, database)
        wait_for_blocked_create_schema(database)
        other.commit()
    output, _ = first.communicate(timeout=120)
    assert "FAILED SchemaUpdateTerminalError" in output
    assert "dlt cannot create the dataset" in output and "Key (nspname)=(crm_raw) already exists" in output

    retry = run_pipeline(tmp_path, database)
    output, _ = retry.communicate(timeout=120)
    assert "LOADED" in output and "will now load the pending load packages" in output
    assert count(database, "select count(*) from crm_raw.contacts") == 2
    assert count(database, "select count(*) from crm_raw._dlt_loads") == 1

    again = run_pipeline(tmp_path, database)  # the next run extracts again and merges
    assert "LOADED" in again.communicate(timeout=120)[0]
    assert count(database, "select count(*) from crm_raw.contacts") == 2
    assert count(database, "select count(*) from crm_raw._dlt_loads") == 2
