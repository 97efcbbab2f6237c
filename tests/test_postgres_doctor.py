"""scripts/doctor.py --log maps real dlt failures against a real PostgreSQL to their
troubleshooting entries: a missing variable (dlt's ConfigFieldMissingException), a wrong
password and a refused connection; and the password never reaches the output."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from evals.services.postgres import PostgresServer
from tests.scripts_helpers import new_project, run_script
from tests.test_doctor_mapping import doctor

LOAD = """
import dlt
pipeline = dlt.pipeline(pipeline_name="orders", dataset_name="orders_raw", destination="postgres")
pipeline.run([{"id": 1}], table_name="orders")
"""


@pytest.fixture(scope="module")
def database():
    with PostgresServer() as server:
        yield server.database("doctor")


def credentials(kind: str, db) -> dict[str, str]:
    if kind == "missing":
        return {}
    if kind == "wrong password":
        return {"DESTINATION__POSTGRES__CREDENTIALS": db.url.replace(db.password, "wrong-pw-9d2")}
    return {"DESTINATION__POSTGRES__CREDENTIALS": db.url.replace(f":{db.port}/", ":1/")}


@pytest.mark.parametrize(
    ("kind", "heading"),
    [
        ("missing", "ConfigFieldMissingException"),
        ("wrong password", "password authentication failed for user"),
        ("refused", "connection to server at ... failed: Connection refused"),
    ],
)
def test_log_maps_a_real_postgres_failure_to_its_entry(tmp_path, database, kind, heading):
    project, env = new_project(tmp_path)
    env = {k: v for k, v in env.items() if not k.startswith("DESTINATION__")}
    env.update(credentials(kind, database))
    done = subprocess.run(
        [sys.executable, "-c", LOAD], cwd=project.root, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    output = done.stdout + done.stderr
    assert database.password not in output and "wrong-pw-9d2" not in output  # dlt prints ***
    log = tmp_path / "launch.log"
    log.write_text(output)
    report = run_script("doctor.py", "--skip-check", "--log", str(log), "--json", cwd=project.root, env=env)
    finding = next(f for f in json.loads(report.stdout)["findings"] if f["what"] == f"log {log}")
    assert finding["see"] == [doctor.anchor(heading)], output[-3000:]
