"""troubleshooting.md, KeyError: 'name': its pytest modules, run with pytest in a fresh interpreter.

The entry's two blocks are read from the Markdown (by the `test:` of their eval markers),
so what runs here is what the entry shows.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from evals.snippets import extract
from evals.troubleshooting import TROUBLESHOOTING
from tests.test_reference_claims_env import clean_env

pytestmark = pytest.mark.slow


def block_for(test_name: str) -> str:
    (block,) = [
        b
        for b in extract(TROUBLESHOOTING)
        if b.marker and str(b.marker.get("test", "")).endswith(f"::{test_name}")
    ]
    return block.text


def run_pytest(tmp_path, module: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_crm.py").write_text(module, encoding="utf-8")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_crm.py"],
        cwd=tmp_path,
        env={**clean_env(tmp_path), "DAGSTER_HOME": "", "PYTHONPATH": ""},
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_a_module_level_source_fails_on_the_second_materialization(tmp_path):
    done = run_pytest(tmp_path, block_for("test_a_module_level_source_fails_on_the_second_materialization"))
    output = done.stdout + done.stderr
    assert done.returncode == 1, output[-3000:]
    assert "KeyError: 'name'" in output, output[-3000:]


def test_a_new_source_per_run_materializes_twice(tmp_path):
    done = run_pytest(tmp_path, block_for("test_a_new_source_per_run_materializes_twice"))
    assert done.returncode == 0, (done.stdout + done.stderr)[-3000:]
    import duckdb

    with duckdb.connect(str(tmp_path / "crm.duckdb"), read_only=True) as con:
        assert con.execute("select count(*) from crm_raw.contacts").fetchone() == (2,)


SHARED_SOURCE_LOADS = """\
import dlt


@dlt.source
def crm():
    @dlt.resource
    def contacts():
        yield [{"id": 1}]

    return contacts


crm_source = crm()
nightly = dlt.pipeline(pipeline_name="crm_nightly", dataset_name="nightly", destination="duckdb")
hourly = dlt.pipeline(pipeline_name="crm_hourly", dataset_name="hourly", destination="duckdb")
"""

SHARED_SOURCE_DEFS = """\
type: dagster_dlt.DltLoadCollectionComponent

attributes:
  loads:
    - source: .loads.crm_source
      pipeline: .loads.nightly
    - source: .loads.crm_source
      pipeline: .loads.hourly
"""


def test_one_source_object_in_two_component_loads_fails_in_one_process():
    """troubleshooting.md, KeyError: 'name': "one source object shared by two component loads
    when both run in one process (the in-process executor)"; the Duplicate asset key fix
    gives each load its own source object for this reason."""
    from pathlib import Path

    from evals.cases import case_from_data
    from evals.runner import run_case

    in_process = {"execution": {"config": {"in_process": {}}}}
    case = case_from_data(
        {
            "name": "shared-source",
            "files": {"dup/loads.py": SHARED_SOURCE_LOADS, "dup/defs.yaml": SHARED_SOURCE_DEFS},
            "steps": [{"launch": {"assets": "*", "config": in_process, "fails_with": "KeyError: 'name'"}}],
        },
        Path(__file__),
    )
    result = run_case(case)
    assert result.passed, (result.stage, result.message, result.output[-2000:])
