"""scripts/doctor.py without `dg check defs`: its error table, --log, venv and version findings.

The error texts fed to doctor are real: the `fails_with` texts troubleshooting.md's evals
assert in real `dg check defs` output, and DuckDB errors produced by real DuckDB processes.
"""

from __future__ import annotations

import importlib.util
import json
import re
import subprocess
import sys
from importlib import metadata

import pytest

from evals import snippets, troubleshooting
from evals.skill import SKILL_ROOT
from tests.scripts_helpers import SCRIPTS, new_project, run_script, tree_hash

TROUBLESHOOTING = SKILL_ROOT / "references" / "troubleshooting.md"


def load_doctor():
    spec = importlib.util.spec_from_file_location("doctor_under_test", SCRIPTS / "doctor.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


doctor = load_doctor()


def sections() -> dict[str, str]:
    """Troubleshooting entries: `### heading` -> the text up to the next heading."""
    found: dict[str, str] = {}
    heading = None
    for line in TROUBLESHOOTING.read_text(encoding="utf-8").splitlines():
        if line.startswith("### "):
            heading = line[4:].strip()
            found[heading] = ""
        elif line.startswith("#"):
            heading = None
        elif heading is not None:
            found[heading] += line + "\n"
    return found


def test_the_error_table_and_the_troubleshooting_entries_match_one_to_one():
    mapped = [heading for _, heading in doctor.KNOWN_ERRORS]
    assert sorted(mapped) == sorted(sections()), "doctor.KNOWN_ERRORS and troubleshooting.md differ"


def test_anchors_match_the_contents_links_of_troubleshooting_md():
    contents = set(re.findall(r"\]\(#([^)]+)\)", TROUBLESHOOTING.read_text(encoding="utf-8")))
    for _, heading in doctor.KNOWN_ERRORS:
        assert doctor.anchor(heading).split("#", 1)[1] in contents, heading


def reproduced_texts(body: str) -> list[str]:
    """Error texts an entry's evals expect: `fails_with` in markers, `# fails:` on commands."""
    return re.findall(r'fails_with: "([^"]+)"', body) + re.findall(r"#\s*fails:\s*(.+)$", body, re.MULTILINE)


def test_every_entry_has_its_error_and_its_fix_executed():
    """Each entry: a case (or named test) reproducing its error, and the same project after
    the fix as a case (`fixes:`) that checks and, for errors in a run, launches and asserts."""
    assert troubleshooting.problems(snippets.plan()) == []


def test_the_coverage_line_counts_an_entry_without_a_passing_fix_as_not_fixed():
    plan = snippets.plan()
    everything = {case.name for case in plan.cases}
    entries = troubleshooting.entries(plan)
    total = len(entries)
    assert troubleshooting.coverage_line(plan, everything).startswith(
        f"troubleshooting: {total} entries, {total} errors reproduced, {total} fixes executed"
    )
    one_fix = next(e for e in entries if e.fixes).fixes[0].name
    assert f"{total - 1} fixes executed" in troubleshooting.coverage_line(plan, everything - {one_fix})


@pytest.mark.parametrize(
    ("heading", "text"),
    [(heading, text.strip()) for heading, body in sections().items() for text in reproduced_texts(body)],
)
def test_every_reproduced_error_text_points_at_its_own_entry(heading, text):
    assert doctor.known_errors(f"dagster output\n{text}\nmore output") == [doctor.anchor(heading)]


DUCKDB_LOCK = """
import sys, duckdb, subprocess
holder = duckdb.connect(sys.argv[1])
other = subprocess.run([sys.executable, "-c", "import duckdb, sys; duckdb.connect(sys.argv[1])", sys.argv[1]],
                       capture_output=True, text=True)
print(other.stderr)
"""


def real_duckdb_error(tmp_path, kind: str) -> str:
    if kind == "lock":
        code, target = DUCKDB_LOCK, str(tmp_path / "shared.duckdb")
    else:
        code, target = "import duckdb, sys; duckdb.connect(sys.argv[1])", str(tmp_path / "nope" / "x.duckdb")
    done = subprocess.run([sys.executable, "-c", code, target], capture_output=True, text=True, timeout=120)
    return done.stdout + done.stderr


@pytest.mark.parametrize(
    ("kind", "heading"),
    [("lock", "Could not set lock on file"), ("no-folder", "Cannot open file ... No such file or directory")],
)
def test_log_maps_a_real_duckdb_failure_to_its_entry(tmp_path, kind, heading):
    project, env = new_project(tmp_path)
    log = tmp_path / "launch.log"
    log.write_text(real_duckdb_error(tmp_path, kind))
    before = tree_hash(project.root)
    done = run_script("doctor.py", "--skip-check", "--log", str(log), "--json", cwd=project.root, env=env)
    report = json.loads(done.stdout)
    finding = next(f for f in report["findings"] if f["what"] == f"log {log}")
    assert done.returncode == 1 and not finding["ok"]
    assert finding["see"] == [doctor.anchor(heading)], log.read_text()
    assert tree_hash(project.root) == before


def test_log_from_stdin_without_a_known_error_is_healthy(tmp_path):
    project, env = new_project(tmp_path)
    done = run_script(
        "doctor.py", "--skip-check", "--log", "-", cwd=project.root, env=env, input="something else broke\n"
    )
    assert done.returncode == 0, done.stdout
    assert "no known error text; search references/troubleshooting.md" in done.stdout


def test_an_unreadable_log_is_refused(tmp_path):
    project, env = new_project(tmp_path)
    before = tree_hash(project.root)
    done = run_script("doctor.py", "--log", str(tmp_path / "missing.log"), cwd=project.root, env=env)
    assert done.returncode == 2
    assert f"doctor.py: --log {tmp_path / 'missing.log'}: cannot read it" in done.stdout
    assert tree_hash(project.root) == before


def test_running_outside_the_projects_venv_is_reported(tmp_path):
    project, env = new_project(tmp_path)
    (project.root / ".venv").mkdir()  # the project has its own env; this test's interpreter is another
    done = run_script("doctor.py", "--skip-check", "--json", cwd=project.root, env=env)
    finding = next(f for f in json.loads(done.stdout)["findings"] if f["what"] == "virtual env")
    assert done.returncode == 1 and not finding["ok"]
    assert f"the project's env is {(project.root / '.venv').resolve()}" in finding["detail"]


def test_the_running_env_is_healthy_without_a_project_venv(tmp_path):
    project, env = new_project(tmp_path)
    done = run_script("doctor.py", "--skip-check", "--json", cwd=project.root, env=env)
    assert done.returncode == 0, done.stdout
    assert json.loads(done.stdout)["healthy"]


def test_a_dagster_that_dagster_dlt_does_not_allow_is_reported():
    installed = {name: doctor.versions()[name] for name in doctor.PACKAGES}
    pin = next(r for r in metadata.requires("dagster-dlt") if r.startswith("dagster==")).split("==")[1]
    findings = doctor.version_findings({**installed, "dagster": "1.10.0"})
    by_name = {f.what: f for f in findings}
    assert not by_name["dagster-dlt vs dagster"].ok
    assert f"needs dagster=={pin}, found 1.10.0" in by_name["dagster-dlt vs dagster"].detail
    assert not by_name["dagster-dg-cli vs dagster"].ok
    assert all(f.ok for f in doctor.version_findings(installed))


def test_a_missing_package_is_reported():
    findings = doctor.version_findings({**doctor.versions(), "dagster-dlt": None})
    missing = next(f for f in findings if f.what == "dagster-dlt")
    assert not missing.ok and "uv add dagster-dlt" in missing.detail


@pytest.mark.parametrize("script", ["scaffold.py", "doctor.py", "validate.py"])
def test_help_and_exit_codes_are_documented(tmp_path, script):
    done = run_script(script, "--help", cwd=tmp_path)
    assert done.returncode == 0 and "--json" in done.stdout and "Exit codes" in done.stdout
