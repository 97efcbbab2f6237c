"""scaffold.py --source-module: the user's own @dlt.source is read (never imported) and refused,
with what to do and nothing written, when the generated code could not use it. The cases
scaffold-source-module and scaffold-pythonic-source-module-parallel load it for real."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from evals.project import isolated_env
from tests.scripts_helpers import new_project, run_script, tree_hash

SOURCE = """\
import dlt


@dlt.source{decorator_args}
def crm_source(api_token: str = dlt.secrets.value, *, region: str = dlt.config.value, key=dlt.secrets.value):
    @dlt.resource
    def contacts():
        yield [{{"id": 1, "token": api_token, "region": region, "key": key}}]

    return contacts
"""


def project_env(project, tmp_path):
    return isolated_env(project, tmp_path / "userproj-case")


ARGS = ["--approach", "component", "--pipeline-name", "crm", "--dataset-name", "crm_raw", "--json"]


def scaffold(tmp_path, files: dict[str, str], spec: str, *extra: str):
    project, env = new_project(tmp_path)
    for relative, text in files.items():
        (project.root / relative).parent.mkdir(parents=True, exist_ok=True)
        (project.root / relative).write_text(text)
    before = tree_hash(project.root)
    done = run_script("scaffold.py", *ARGS, "--source-module", spec, *extra, cwd=project.root, env=env)
    return project, json.loads(done.stdout), done.returncode, before


def test_the_secret_arguments_env_vars_and_the_import_are_written(tmp_path):
    files = {"src/userproj/sources/crm.py": SOURCE.format(decorator_args='(name="crm_api")')}
    project, out, code, _ = scaffold(tmp_path, files, "userproj.sources.crm:crm_source")
    env = project_env(project, tmp_path)
    assert code == 0, out
    named = [
        "SOURCES__CRM__CRM_API__API_TOKEN",
        "SOURCES__CRM__CRM_API__REGION",
        "SOURCES__CRM__CRM_API__KEY",
    ]
    assert out["env_vars"][:3] == [named[0], f"{named[1]} (config: or .dlt/config.toml)", named[2]]
    loads = (project.defs_dir / "crm" / "loads.py").read_text()
    assert "from userproj.sources.crm import crm_source as crm  # your own @dlt.source" in loads
    assert "def crm_source" not in loads and out["notes"] == []
    # dlt reads exactly these names: the source's rows carry the values
    read = "from userproj.sources.crm import crm_source; print(list(crm_source().resources['contacts']))"
    env = {**env, "PYTHONPATH": str(project.root / "src"), **{n: f"v{i}" for i, n in enumerate(named)}}
    done = subprocess.run(
        [sys.executable, "-c", read], cwd=project.root, env=env, capture_output=True, text=True
    )
    assert done.stdout.strip() == "[{'id': 1, 'token': 'v0', 'region': 'v1', 'key': 'v2'}]", done.stderr[
        -2000:
    ]


@pytest.mark.parametrize(
    ("files", "spec", "message"),
    [
        (
            {"crm.py": SOURCE.format(decorator_args="")},
            "crm:crm_source",
            "is at the project root, outside the package, and a dg project does not import from there",
        ),
        ({}, "userproj.nothing:src", "no module userproj.nothing under"),
        (
            {"src/userproj/crm.py": SOURCE.format(decorator_args="")},
            "userproj.crm:other",
            "defines no function other; its @dlt.source functions: crm_source",
        ),
        (
            {"src/userproj/crm.py": "import dlt\n\n\n@dlt.resource\ndef contacts():\n    yield {'id': 1}\n"},
            "userproj.crm:contacts",
            "contacts is a @dlt.resource; the loads take a @dlt.source",
        ),
        (
            {"src/userproj/crm.py": "def crm_source():\n    return []\n"},
            "userproj.crm:crm_source",
            "is not decorated with @dlt.source",
        ),
        (
            {
                "src/userproj/crm.py": SOURCE.format(decorator_args="")
                + "\npipeline = dlt.pipeline(pipeline_name='crm', destination='duckdb')\n"
                "pipeline.run(crm_source())\n"
            },
            "userproj.crm:crm_source",
            "runs pipeline.run(crm_source()) (line 13), and Dagster imports it each time",
        ),
        ({}, "userproj.crm", "expected MODULE:FUNCTION"),
    ],
)
def test_an_unusable_source_is_refused_naming_the_fix_and_nothing_is_written(tmp_path, files, spec, message):
    project, out, code, before = scaffold(tmp_path, files, spec)
    assert (code, out["ok"]) == (2, False)
    assert message in " ".join(out["errors"])
    assert tree_hash(project.root) == before


def test_a_load_under_the_main_guard_is_fine(tmp_path):
    module = SOURCE.format(decorator_args="") + (
        '\n\nif __name__ == "__main__":\n    dlt.pipeline(pipeline_name="crm").run(crm_source())\n'
    )
    _, out, code, _ = scaffold(tmp_path, {"src/userproj/crm.py": module}, "userproj.crm:crm_source")
    assert code == 0, out


def test_a_dlt_folder_beside_the_module_is_pointed_out(tmp_path):
    files = {
        "src/userproj/pipelines/crm.py": SOURCE.format(decorator_args=""),
        "src/userproj/pipelines/.dlt/config.toml": "[sources.crm]\nregion = 'eu'\n",
        ".dlt/config.toml": "",  # the project's own .dlt does not make the module's read
    }
    _, out, code, _ = scaffold(tmp_path, files, "userproj.pipelines.crm:crm_source")
    assert code == 0, out
    (note,) = out["notes"]
    assert "pipelines/.dlt is not read when Dagster runs the pipeline" in note


@pytest.mark.parametrize(
    "flag",
    [
        ["--base-url", "http://x"],
        ["--source", "rest_api"],
        ["--incremental-cursor", "u"],
        ["--resources", "contacts"],
        ["--parallel", "2"],
    ],
)
def test_source_flags_do_not_go_with_a_module(tmp_path, flag):
    files = {"src/userproj/crm.py": SOURCE.format(decorator_args="")}
    project, out, code, before = scaffold(tmp_path, files, "userproj.crm:crm_source", *flag)
    errors = " ".join(out["errors"])
    assert code == 2 and (f"{flag[0]}: not with --source-module" in errors or "go together" in errors)
    assert tree_hash(project.root) == before
