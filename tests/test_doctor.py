"""scripts/doctor.py on a healthy project and on broken ones that reproduce known problems."""

from __future__ import annotations

import json

import pytest

from evals.skill import templating
from tests.scripts_helpers import new_project, run_script

pytestmark = pytest.mark.slow


def scaffolded(tmp_path, approach="component", **extra):
    project, env = new_project(tmp_path)
    for file in templating.render(approach, {"pipeline_name": "shop", "dataset_name": "raw", **extra}):
        target = project.defs_dir / file.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(file.text)
    return project, env


def doctor(project, env):
    done = run_script("doctor.py", "--json", cwd=project.root, env=env)
    return done.returncode, json.loads(done.stdout)


def test_a_healthy_project(tmp_path):
    project, env = scaffolded(tmp_path)
    code, report = doctor(project, env)
    assert code == 0 and report["healthy"], report
    assert {f["what"] for f in report["findings"]} >= {
        "dagster",
        "dagster-dlt",
        "dlt",
        "defs folder",
        "dg check defs",
    }


def break_with_duplicate_keys(project):
    loads = project.defs_dir / "shop" / "loads.py"
    loads.write_text(
        loads.read_text() + "\nshop_pipeline_2 = dlt.pipeline(pipeline_name='shop2', "
        "dataset_name='raw', destination=dlt.destinations.duckdb(str(shop_pipeline_duckdb)))\n"
    )
    defs_yaml = project.defs_dir / "shop" / "defs.yaml"
    defs_yaml.write_text(
        defs_yaml.read_text() + "    - source: .loads.shop_source\n      pipeline: .loads.shop_pipeline_2\n"
    )


def break_with_uncalled_source(project):
    defs_yaml = project.defs_dir / "shop" / "defs.yaml"
    defs_yaml.write_text(defs_yaml.read_text().replace(".loads.shop_source", ".loads.shop"))


@pytest.mark.parametrize(
    ("breaker", "anchor"),
    [
        (break_with_duplicate_keys, "#duplicate-asset-key"),
        (break_with_uncalled_source, "#dltsourcefactorywrapper-object-has-no-attribute-selected_resources"),
    ],
)
def test_a_broken_project_points_at_the_troubleshooting_entry(tmp_path, breaker, anchor):
    project, env = scaffolded(tmp_path)
    breaker(project)
    code, report = doctor(project, env)
    assert code == 1 and not report["healthy"]
    check = next(f for f in report["findings"] if f["what"] == "dg check defs")
    assert not check["ok"]
    assert any(see.endswith(anchor) for see in check["see"]), check


def test_a_resource_key_mismatch_in_pythonic_assets(tmp_path):
    project, env = scaffolded(tmp_path, approach="pythonic")
    module = project.defs_dir / "shop.py"
    module.write_text(module.read_text().replace('resources={"dlt_shop"', 'resources={"dlt"'))
    code, report = doctor(project, env)
    check = next(f for f in report["findings"] if f["what"] == "dg check defs")
    assert code == 1 and any("resource-with-key" in see for see in check["see"]), check


def test_not_a_project(tmp_path):
    done = run_script("doctor.py", cwd=tmp_path)
    assert done.returncode == 3 and "no pyproject.toml" in done.stdout
