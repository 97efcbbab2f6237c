"""scripts/scaffold.py: writes tested templates, refuses bad input without touching files."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.scripts_helpers import SCRIPTS, new_project, run_script, tree_hash

BASE = ["--approach", "component", "--pipeline-name", "shop", "--dataset-name", "shop_raw"]


def test_writes_the_component_files_and_a_gitignore(tmp_path):
    project, env = new_project(tmp_path)
    done = run_script("scaffold.py", *BASE, "--json", cwd=project.root, env=env)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert sorted(result["files"]) == sorted(
        str(project.defs_dir / "shop" / name) for name in ("defs.yaml", "loads.py")
    )
    assert "dlt.destinations.duckdb" in (project.defs_dir / "shop" / "loads.py").read_text()
    gitignore = (project.root / ".gitignore").read_text().splitlines()
    assert {".dlt/secrets.toml", "*.duckdb", ".env"} <= set(gitignore)


def test_keeps_an_existing_gitignore_and_adds_only_what_is_missing(tmp_path):
    project, env = new_project(tmp_path)
    (project.root / ".gitignore").write_text("my-stuff/\n*.duckdb\n")
    assert run_script("scaffold.py", *BASE, cwd=project.root, env=env).returncode == 0
    lines = (project.root / ".gitignore").read_text().splitlines()
    assert lines[:2] == ["my-stuff/", "*.duckdb"] and lines.count("*.duckdb") == 1
    assert ".dlt/secrets.toml" in lines


def test_dry_run_prints_the_files_and_writes_nothing(tmp_path):
    project, env = new_project(tmp_path)
    before = tree_hash(project.root)
    done = run_script("scaffold.py", *BASE, "--dry-run", cwd=project.root, env=env)
    assert done.returncode == 0
    assert "would write" in done.stdout and "DltLoadCollectionComponent" in done.stdout
    assert tree_hash(project.root) == before


def test_never_overwrites_without_force_and_keeps_a_backup_with_force(tmp_path):
    project, env = new_project(tmp_path)
    target = project.defs_dir / "shop" / "loads.py"
    target.parent.mkdir()
    target.write_text("# the user's own code\n")
    before = tree_hash(project.root)
    refused = run_script("scaffold.py", *BASE, cwd=project.root, env=env)
    assert refused.returncode == 4
    assert f"{target} exists; rerun with --force" in refused.stderr
    assert tree_hash(project.root) == before

    forced = run_script("scaffold.py", *BASE, "--force", cwd=project.root, env=env)
    assert forced.returncode == 0, forced.stderr
    assert (target.parent / "loads.py.bak").read_text() == "# the user's own code\n"
    again = run_script("scaffold.py", *BASE, "--force", cwd=project.root, env=env)
    assert again.returncode == 0 and (target.parent / "loads.py.bak1").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--pipeline-name", "my-shop"], "pipeline_name 'my-shop' is not a valid name"),
        (["--dataset-name", "raw/../x"], "dataset_name 'raw/../x' is not a valid name"),
        (["--defs-name", "../outside"], "defs_name '../outside' is not a valid name"),
        (["--defs-name", "a/b"], "defs_name 'a/b' is not a valid name"),
        (["--pipeline-name", "class-"], "pipeline_name 'class-' is not a valid name"),
        (["--pipeline-name", "class"], "pipeline_name 'class' is a Python keyword: choose another name"),
        (["--defs-name", "def"], "defs_name 'def' is a Python keyword: choose another name"),
        (["--pipeline-name", "Shop"], "pipeline_name 'Shop' is not a valid name"),
        (["--destination", "oracle"], "destination 'oracle' is not supported; choose one of:"),
        (["--source", "rest_api"], "'base_url' is a required property"),
        (["--duckdb-file", "../x.duckdb"], "duckdb_file"),
        (["--schedule", "every hour"], "schedule"),
        (["--approach", "asset", "--parallel", "2"], "parallel needs dlt assets"),
        (["--dataset-name", "shop"], "equals the DuckDB file's name"),
    ],
)
def test_bad_input_is_refused_with_one_clear_line_and_nothing_changes(tmp_path, args, message):
    project, env = new_project(tmp_path)
    before = tree_hash(project.root)
    done = run_script("scaffold.py", *BASE, *args, cwd=project.root, env=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert message in done.stderr
    assert "Traceback" not in done.stderr
    assert all(line.startswith("scaffold.py: ") for line in done.stderr.splitlines())
    assert tree_hash(project.root) == before


def test_a_verified_source_explains_the_network_need_and_writes_nothing(tmp_path):
    project, env = new_project(tmp_path)
    before = tree_hash(project.root)
    done = run_script("scaffold.py", *BASE, "--source", "github", cwd=project.root, env=env)
    assert done.returncode == 5
    assert "clones it from GitHub, which needs network access" in done.stderr
    assert "dg scaffold defs dagster_dlt.DltLoadCollectionComponent shop --source github" in done.stderr
    assert tree_hash(project.root) == before


def test_refuses_outside_a_dagster_project(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[project]\nname = "plain"\n')
    empty = tmp_path / "empty"
    empty.mkdir()
    before = tree_hash(tmp_path)
    done = run_script("scaffold.py", *BASE, cwd=tmp_path)
    assert done.returncode == 3
    assert "its pyproject.toml has no [tool.dg] or [tool.dagster] table" in done.stderr
    done = run_script("scaffold.py", *BASE, cwd=empty)
    assert done.returncode == 3 and "no pyproject.toml" in done.stderr
    assert tree_hash(tmp_path) == before


def test_refuses_a_defs_folder_that_links_out_of_the_project(tmp_path):
    project, env = new_project(tmp_path)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.rmtree(project.defs_dir)
    project.defs_dir.symlink_to(outside, target_is_directory=True)
    before = tree_hash(tmp_path)
    done = run_script("scaffold.py", *BASE, cwd=project.root, env=env)
    assert done.returncode == 3 and "outside the project" in done.stderr
    assert tree_hash(tmp_path) == before


def test_refuses_a_pyproject_that_is_not_utf8(tmp_path):
    project, env = new_project(tmp_path)
    pyproject = project.root / "pyproject.toml"
    pyproject.write_bytes(pyproject.read_bytes() + b"\n# caf\xe9\n")
    before = tree_hash(project.root)
    done = run_script("scaffold.py", *BASE, cwd=project.root, env=env)
    assert done.returncode == 3 and "not UTF-8" in done.stderr
    assert tree_hash(project.root) == before


def test_a_read_only_defs_folder_fails_cleanly_and_changes_nothing(tmp_path):
    project, env = new_project(tmp_path)
    # chattr +i: not even root may add files (a plain chmod does not stop root, who runs CI)
    if subprocess.run(["chattr", "+i", str(project.defs_dir)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available on this filesystem")
    try:
        before = tree_hash(project.root)
        done = run_script("scaffold.py", *BASE, cwd=project.root, env=env)
        after = tree_hash(project.root)
    finally:
        subprocess.run(["chattr", "-i", str(project.defs_dir)], check=True)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "cannot write" in done.stderr and "Traceback" not in done.stderr
    assert after == before


def test_prints_env_var_names_and_never_secret_values(tmp_path):
    project, env = new_project(tmp_path)
    env = {**env, "DESTINATION__SNOWFLAKE__CREDENTIALS__PASSWORD": "hunter2-secret"}
    done = run_script("scaffold.py", *BASE, "--destination", "snowflake", "--json", cwd=project.root, env=env)
    assert done.returncode == 0, done.stderr
    assert "DESTINATION__SNOWFLAKE__CREDENTIALS__PASSWORD" in json.loads(done.stdout)["env_vars"]
    written = "".join(p.read_text() for p in project.root.rglob("*") if p.is_file())
    assert "hunter2-secret" not in written + done.stdout


def test_help_lists_every_choice(tmp_path):
    done = run_script("scaffold.py", "--help", cwd=tmp_path)
    assert done.returncode == 0
    for option in (
        "--approach",
        "--source",
        "--destination",
        "--incremental-cursor",
        "--schedule",
        "--parallel",
        "--dry-run",
        "--force",
        "--json",
    ):
        assert option in done.stdout


def python_310() -> str | None:
    """A Python 3.10 interpreter already on this machine (uv cannot download one offline)."""
    found = subprocess.run(["uv", "python", "find", "3.10"], capture_output=True, text=True)
    if found.returncode == 0 and found.stdout.strip():
        return found.stdout.strip()
    return next((str(p) for p in sorted(Path("/root/.pyenv/versions").glob("3.10.*/bin/python3.10"))), None)


@pytest.mark.parametrize("python", ["3.11", "3.10"])
def test_runs_standalone_from_its_inline_script_metadata(tmp_path, python):
    """`uv run scripts/scaffold.py` (PEP 723): uv builds an env from the script's own metadata."""
    interpreter = sys.executable if python == "3.11" else python_310()
    if interpreter is None:
        pytest.skip("no Python 3.10 interpreter here, and uv cannot download one offline")
    project, env = new_project(tmp_path)
    before = tree_hash(project.root)
    uv_env = {**env, "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv"))}
    for script, args in (("doctor.py", ["--help"]), ("scaffold.py", [*BASE, "--dry-run", "--json"])):
        done = subprocess.run(
            ["uv", "run", "--no-project", "--python", interpreter, str(SCRIPTS / script), *args],
            cwd=project.root,
            env=uv_env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr
    assert sorted(json.loads(done.stdout)["files"]) == [
        str(project.defs_dir / "shop" / name) for name in ("defs.yaml", "loads.py")
    ]
    assert tree_hash(project.root) == before


def test_refuses_a_project_without_its_defs_folder(tmp_path):
    project, env = new_project(tmp_path)
    shutil.rmtree(project.defs_dir)
    before = tree_hash(project.root)
    done = run_script("scaffold.py", *BASE, cwd=project.root, env=env)
    assert done.returncode == 3
    assert "defs folder src/userproj/defs not found (module userproj.defs)" in done.stderr
    assert tree_hash(project.root) == before


def test_refuses_a_dg_workspace_root(tmp_path):
    (tmp_path / "pyproject.toml").write_text('[tool.dg]\ndirectory_type = "workspace"\n')
    before = tree_hash(tmp_path)
    done = run_script("scaffold.py", *BASE, "--json", cwd=tmp_path)
    assert done.returncode == 3
    result = json.loads(done.stdout)
    assert not result["ok"] and "a dg workspace; run this inside one of its projects" in result["errors"][0]
    assert tree_hash(tmp_path) == before


def test_refuses_a_gitignore_that_is_not_utf8(tmp_path):
    project, env = new_project(tmp_path)
    (project.root / ".gitignore").write_bytes(b"caf\xe9/\n")
    before = tree_hash(project.root)
    done = run_script("scaffold.py", *BASE, cwd=project.root, env=env)
    assert done.returncode == 2 and ".gitignore: not UTF-8" in done.stderr
    assert tree_hash(project.root) == before
