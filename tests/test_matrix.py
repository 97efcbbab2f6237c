"""The version matrix: the newest set is what the project pins; the oldest set passes every case."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from evals.cases import discover
from evals.kinds import key_parts, listed_assets
from evals.matrix import SET_ARGS, VERSION_SETS, requirements
from evals.project import SKELETON_ENV, create_project
from evals.skill import SKILL_ROOT


def test_newest_set_is_what_the_project_pins():
    tomllib = pytest.importorskip("tomllib")
    pins = tomllib.loads((SKILL_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
        "dependencies"
    ]
    for requirement in requirements(VERSION_SETS["newest"])[:4]:
        assert requirement in pins, requirement


def test_dagster_dlt_moves_with_dagster():
    for versions in VERSION_SETS.values():
        assert versions["dagster-dg-cli"] == versions["dagster"]
        minor = int(versions["dagster"].split(".")[1])
        assert versions["dagster-dlt"].startswith(f"0.{minor + 16}."), versions  # dagster 1.N <-> 0.(N+16)


def test_create_project_uses_the_skeleton_the_matrix_points_at(tmp_path, monkeypatch):
    skeleton = tmp_path / "skeleton"
    skeleton.mkdir()
    (skeleton / "pyproject.toml").write_text('[project]\nname = "{name}"\n', encoding="utf-8")
    (skeleton / "definitions.py").write_text("# old create-dagster\n", encoding="utf-8")
    monkeypatch.setenv(SKELETON_ENV, str(skeleton))
    project = create_project(tmp_path / "p", "evalproj")
    assert (project.root / "pyproject.toml").read_text() == '[project]\nname = "evalproj"\n'
    assert (project.package_dir / "definitions.py").read_text() == "# old create-dagster\n"


def test_listed_assets_reads_dg_1_13_and_dg_1_11_output():
    new = (
        "log line {not json}\n{\n"
        '  "assets": [{"asset_key_parts": ["a", "b/c"], "key": "a/b/c"}],\n  "jobs": []\n}\n'
    )
    old = (
        "Welcome to Dagster!\n[\n"
        '  {"key": "crm/contacts", "kinds": ["dlt"], "is_executable": true},\n'
        '  {"name": "dlt", "type": "DagsterDltResource"}\n]\nwarning after\n'
    )
    assert [key_parts(a) for a in listed_assets(new)] == [("a", "b/c")]
    assert [key_parts(a) for a in listed_assets(old)] == [("crm", "contacts")]
    with pytest.raises(ValueError, match="no JSON"):
        listed_assets("nothing here")


@pytest.mark.slow
@pytest.mark.parametrize("version_set", ["oldest", "oldest-templates"])
def test_every_case_passes_with_the_oldest_supported_versions(tmp_path, version_set):
    report_path = tmp_path / "report.json"
    done = subprocess.run(
        [sys.executable, "-m", "evals.matrix", version_set, "--", "--json", str(report_path)],
        cwd=SKILL_ROOT,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-3000:]
    report = json.loads(report_path.read_text(encoding="utf-8"))
    assert report["failed"] == 0 and report["passed"] > 0
    versions = VERSION_SETS[version_set]
    assert f"dagster=={versions['dagster']}" in done.stdout
    assert f"dlt[duckdb,postgres]=={versions['dlt']}" in done.stdout
    names = {case["name"] for case in report["cases"]}
    if version_set == "oldest":  # everything, the documented snippets included
        assert any(name.startswith("doc-") for name in names), sorted(names)
    else:
        args = SET_ARGS[version_set]
        skipped = {args[i + 1] for i, arg in enumerate(args) if arg == "--skip"}
        assert skipped and names == {case.name for case in discover()} - skipped


def test_set_args_name_known_sets():
    assert set(SET_ARGS) <= set(VERSION_SETS)
