"""scaffold.py and doctor.py in classic code locations and bare modules: the kind found, the
wiring edit (only added lines, every existing statement kept), and refusals that change nothing."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

from evals.classic_project import create_classic_project
from evals.project import isolated_env
from tests.scripts_helpers import run_script, tree_hash

PYTHONIC = ["--approach", "pythonic", "--pipeline-name", "shop", "--dataset-name", "shop_raw"]


def classic(tmp_path: Path, existing: bool = True):
    project = create_classic_project(tmp_path / "analytics", "analytics", existing=existing)
    return project, isolated_env(project, tmp_path / "case")


def scaffold(project, env, *args: str):
    return run_script("scaffold.py", *PYTHONIC, *args, cwd=project.root, env=env)


def found_kind(root: Path, env=None) -> str:
    done = run_script("scaffold.py", *PYTHONIC, "--dry-run", "--json", cwd=root, env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)["project"]


def loaded_definitions(project, env) -> dict:
    """Asset keys, resource keys, jobs and schedules of the code location, as dagster loads them."""
    probe = (
        "import json, importlib; d = importlib.import_module('analytics.definitions').defs; "
        "r = d.get_repository_def(); print(json.dumps({"
        "'assets': sorted(k.to_user_string() for k in r.asset_graph.get_all_asset_keys()), "
        "'resources': sorted(d.resources or {}), "
        "'jobs': sorted(j.name for j in r.get_all_jobs() if not j.name.startswith('__')), "
        "'schedules': sorted((s.name, s.cron_schedule) for s in r.schedule_defs)}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe],
        cwd=project.root,
        env={**env, "PYTHONPATH": str(project.root)},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_wires_a_pythonic_load_into_existing_definitions_by_adding_two_lines(tmp_path):
    project, env = classic(tmp_path)
    original = project.definitions_file.read_text()
    before = loaded_definitions(project, env)
    done = scaffold(project, env, "--resources", "orders,customers", "--incremental-cursor", "updated_at")
    assert done.returncode == 0, done.stderr
    assert "found: classic code location ([tool.dagster] module_name = 'analytics.definitions'" in done.stdout
    edited = project.definitions_file.read_text()
    # Only added lines: the original is the edited file minus exactly these two.
    added = ["from analytics import shop", "defs = Definitions.merge(defs, shop.defs)"]
    assert [line for line in edited.splitlines() if line not in added] == original.splitlines()
    assert all(edited.splitlines().count(line) == 1 for line in added)
    old, new = ast.parse(original).body, ast.parse(edited).body
    assert [ast.dump(n) for n in new if ast.unparse(n) not in added] == [ast.dump(n) for n in old]
    assert (project.package_dir / "definitions.py.bak").read_text() == original
    after = loaded_definitions(project, env)
    assert after["resources"] == sorted([*before["resources"], "dlt_shop"])
    assert after["jobs"] == before["jobs"] and after["schedules"] == before["schedules"]
    assert set(before["assets"]) <= set(after["assets"])  # dlt's source tables are external assets:
    new = ["dlt_shop_customers", "dlt_shop_orders", "shop_customers", "shop_orders"]
    assert sorted(set(after["assets"]) - set(before["assets"])) == new


def test_dry_run_shows_the_diff_and_writes_nothing(tmp_path):
    project, env = classic(tmp_path)
    before = tree_hash(project.root)
    done = scaffold(project, env, "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "+from analytics import shop\n" in done.stdout
    assert "+defs = Definitions.merge(defs, shop.defs)\n" in done.stdout
    assert "--- a/definitions.py" in done.stdout
    assert tree_hash(project.root) == before


def test_a_schedule_and_a_second_load_add_their_own_lines_and_a_rerun_adds_none(tmp_path):
    project, env = classic(tmp_path, existing=False)
    assert scaffold(project, env, "--schedule", "0 6 * * *").returncode == 0
    done = run_script(
        "scaffold.py",
        "--approach",
        "asset",
        "--pipeline-name",
        "crm",
        "--dataset-name",
        "crm_raw",
        cwd=project.root,
        env=env,
    )
    assert done.returncode == 0, done.stderr
    rerun = scaffold(project, env, "--schedule", "0 6 * * *", "--force")
    assert rerun.returncode == 0, rerun.stderr
    text = project.definitions_file.read_text()
    assert text.count("from analytics import shop, shop_jobs\n") == 1
    assert (
        text.count(
            "defs = Definitions.merge(\n    defs,\n    shop.defs,\n"
            "    Definitions(jobs=[shop_jobs.shop_job], schedules=[shop_jobs.shop_schedule]),\n)\n"
        )
        == 1
    )
    assert text.endswith("defs = Definitions.merge(defs, Definitions(assets=[crm.crm_asset]))\n")
    definitions = loaded_definitions(project, env)
    assert definitions["jobs"] == ["shop_job"]
    assert definitions["schedules"] == [["shop_schedule", "0 6 * * *"]]
    assert "crm" in definitions["assets"]


BAD_DEFINITIONS = {
    "unparseable": ("defs = Definitions(\n", "definitions.py:1: not valid Python"),
    "several": (
        "from dagster import Definitions\na = Definitions()\nb = Definitions()\n",
        "several Definitions (lines 2, 3)",
    ),
    "dynamic": (
        "from dagster import Definitions\n\ndef build():\n    return Definitions()\n\ndefs = build()\n",
        "definitions.py:4: the Definitions is built dynamically",
    ),
    "decorator": (
        "import dagster as dg\n\n@dg.definitions\ndef defs():\n    return dg.Definitions()\n",
        "definitions.py:3: the Definitions is built dynamically",
    ),
    "reassigned": (
        "from dagster import Definitions\ndefs = Definitions()\ndefs = wrap(defs)\n",
        "definitions.py:3: defs is assigned again there",
    ),
}


@pytest.mark.parametrize("kind", sorted(BAD_DEFINITIONS))
def test_a_definitions_module_it_cannot_edit_safely_changes_nothing_and_prints_the_lines(tmp_path, kind):
    project, env = classic(tmp_path)
    text, message = BAD_DEFINITIONS[kind]
    project.definitions_file.write_text(text)
    before = tree_hash(project.root)
    done = scaffold(project, env)
    assert done.returncode == 8, done.stderr
    lines = done.stderr.splitlines()
    assert message in lines[0] and "nothing changed" in lines[0], lines
    assert lines[1:] == ["    from analytics import shop", "    defs = Definitions.merge(defs, shop.defs)"]
    assert "Traceback" not in done.stderr
    assert tree_hash(project.root) == before


def test_a_name_the_import_would_shadow_changes_nothing(tmp_path):
    project, env = classic(tmp_path)
    project.definitions_file.write_text(
        "from dagster import Definitions, asset\n\n@asset\ndef shop():\n    pass\n\n"
        "defs = Definitions(assets=[shop])\n"
    )
    before = tree_hash(project.root)
    done = scaffold(project, env)
    assert done.returncode == 8
    assert done.stderr.splitlines() == [
        f"scaffold.py: {project.definitions_file}:3: the name 'shop' is already used there, and the import "
        "would replace it; nothing changed: choose another --defs-name"
    ]
    assert tree_hash(project.root) == before


def test_a_read_only_definitions_file_changes_nothing(tmp_path):
    """Refused by its mode bits, so also when root (who may write anyway) runs it."""
    project, env = classic(tmp_path)
    project.definitions_file.chmod(0o444)
    before = tree_hash(project.root)
    done = scaffold(project, env)
    assert done.returncode == 8 and "definitions.py: read-only" in done.stderr
    assert tree_hash(project.root) == before


def test_a_module_that_does_not_exist_changes_nothing(tmp_path):
    project, env = classic(tmp_path)
    pyproject = project.root / "pyproject.toml"
    pyproject.write_text(pyproject.read_text().replace("analytics.definitions", "analytics.defs"))
    before = tree_hash(project.root)
    done = scaffold(project, env)
    assert done.returncode == 3
    assert done.stderr.splitlines() == [
        f"scaffold.py: {pyproject}: module 'analytics.defs' does not exist (looked for analytics/defs.py and "
        f"analytics/defs/__init__.py under {project.root} and {project.root / 'src'})"
    ]
    assert tree_hash(project.root) == before


def test_the_component_approach_is_refused_outside_dg(tmp_path):
    project, env = classic(tmp_path)
    before = tree_hash(project.root)
    done = run_script(
        "scaffold.py",
        "--approach",
        "component",
        "--pipeline-name",
        "shop",
        "--dataset-name",
        "shop_raw",
        cwd=project.root,
        env=env,
    )
    assert done.returncode == 8 and "the component approach needs a dg project" in done.stderr
    assert tree_hash(project.root) == before


def test_says_which_kind_it_found(tmp_path):
    project, env = classic(tmp_path / "toml")
    assert found_kind(project.root, env).startswith(
        "classic code location ([tool.dagster] module_name = 'analytics.definitions' in pyproject.toml)"
    )
    (project.root / "pyproject.toml").unlink()
    (project.root / "workspace.yaml").write_text("load_from:\n  - python_module: analytics.definitions\n")
    assert found_kind(project.root, env).startswith(
        "classic code location (workspace.yaml python_module 'analytics.definitions')"
    )
    (project.root / "workspace.yaml").unlink()
    (project.root / "setup.py").write_text('from setuptools import setup\nsetup(name="analytics")\n')
    assert found_kind(project.root, env).startswith("classic code location (setup.py package analytics)")
    (project.root / "setup.py").unlink()
    refused = run_script("scaffold.py", *PYTHONIC, "--dry-run", cwd=project.root, env=env)
    assert refused.returncode == 3 and "add a pyproject.toml (uv init --bare) and rerun" in refused.stderr
    (project.root / "pyproject.toml").write_text('[project]\nname = "analytics"\n')
    assert found_kind(project.root, env).startswith(
        "bare module building a Definitions (analytics/definitions.py builds a Definitions)"
    )
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "pyproject.toml").write_text('[project]\nname = "bare"\n')
    (bare / "definitions.py").write_text("import dagster as dg\ndefs = dg.Definitions()\n")
    assert found_kind(bare).startswith("bare module building a Definitions (definitions.py builds")


def test_a_bare_module_is_wired_with_a_plain_import(tmp_path):
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "pyproject.toml").write_text('[project]\nname = "bare"\n')
    (bare / "definitions.py").write_text('"""Mine."""\nimport dagster as dg\n\ndefs = dg.Definitions()\n')
    done = run_script("scaffold.py", *PYTHONIC, cwd=bare)
    assert done.returncode == 0, done.stderr
    assert (bare / "definitions.py").read_text() == (
        '"""Mine."""\nimport dagster as dg\nimport shop\n\ndefs = dg.Definitions()\n'
        "defs = dg.Definitions.merge(defs, shop.defs)\n"
    )


def _venv_without_packages(tmp_path: Path) -> Path:
    """A real virtual env with nothing installed: no jinja2, pyyaml, jsonschema, dagster."""
    venv = tmp_path / "bare-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    return venv / "bin" / "python"


def test_missing_packages_end_in_one_line_not_a_traceback(tmp_path):
    project, env = classic(tmp_path)
    python = _venv_without_packages(tmp_path)
    before = tree_hash(project.root)
    scripts = Path(__file__).resolve().parent.parent / "scripts"
    done = subprocess.run(
        [str(python), str(scripts / "scaffold.py"), *PYTHONIC],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 7
    assert done.stderr.splitlines() == [
        f"scaffold.py: this Python ({python}) lacks jinja2, pyyaml, jsonschema; run "
        f"`uv run {scripts / 'scaffold.py'} ...` instead (its PEP 723 header fetches them), or add them "
        "to the project: uv add --dev jinja2 pyyaml jsonschema"
    ]
    done = subprocess.run(
        [str(python), str(scripts / "doctor.py"), "--json"],
        cwd=project.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert "Traceback" not in done.stderr and done.returncode == 1, done.stderr
    findings = {f["what"]: f for f in json.loads(done.stdout)["findings"]}
    assert findings["dagster"]["detail"].startswith("not installed")
    assert findings["dagster definitions validate -m analytics.definitions"]["detail"] == (
        "dagster is not installed in this env: uv add dagster"
    )
    assert tree_hash(project.root) == before


def test_doctor_validates_a_scaffolded_code_location_and_maps_its_errors(tmp_path):
    project, env = classic(tmp_path)
    assert scaffold(project, env, "--incremental-cursor", "updated_at").returncode == 0
    validate = "dagster definitions validate -m analytics.definitions"

    def doctor() -> tuple[int, dict]:
        done = run_script("doctor.py", "--json", cwd=project.root, env=env)
        return done.returncode, {f["what"]: f for f in json.loads(done.stdout)["findings"]}

    code, findings = doctor()
    assert code == 0, findings
    assert findings["project"]["detail"].startswith("classic code location ([tool.dagster] module_name")
    assert findings[validate]["ok"] and "dg check defs" not in findings
    module = project.package_dir / "shop.py"
    module.write_text(module.read_text().replace('resources={"dlt_shop"', 'resources={"dlt"'))
    code, findings = doctor()
    assert code == 1 and not findings[validate]["ok"]
    assert any("resource-with-key" in see for see in findings[validate]["see"]), findings[validate]
