""".github/workflows/evals.yml is a valid GitHub workflow (it cannot run here), and its parts exist.

The schema is the GitHub workflow JSON schema that check-jsonschema vendors
(`--builtin-schema vendor.github-workflows`), so validation needs no network; the tests
point the proxies at a closed port to make sure nothing is fetched.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from evals.skill import SKILL_ROOT
from tests.conftest import replace_in

WORKFLOW = SKILL_ROOT / ".github" / "workflows" / "evals.yml"
CHECK_JSONSCHEMA = Path(sys.executable).parent / "check-jsonschema"
OFFLINE = {"HTTP_PROXY": "http://127.0.0.1:9", "HTTPS_PROXY": "http://127.0.0.1:9", "NO_PROXY": ""}
OFFLINE |= {key.lower(): value for key, value in OFFLINE.items()}


def validate(path: Path) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [str(CHECK_JSONSCHEMA), "--builtin-schema", "vendor.github-workflows", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, **OFFLINE},
        timeout=120,
    )


def load() -> dict:
    return yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))


def run_lines() -> list[str]:
    """Every shell command of every step, one line each (folded `>-` blocks are one line)."""
    lines = []
    for job in load()["jobs"].values():
        for step in job["steps"]:
            lines += [line.strip() for line in step.get("run", "").splitlines() if line.strip()]
    return lines


def test_workflow_passes_the_vendored_github_workflow_schema():
    done = validate(WORKFLOW)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "ok -- validation done" in done.stdout


def test_schema_check_rejects_a_broken_workflow(tmp_path):
    broken = tmp_path / "evals.yml"
    broken.write_text(WORKFLOW.read_text(encoding="utf-8"), encoding="utf-8")
    replace_in(broken, "runs-on: ubuntu-latest", "runs_on: ubuntu-latest")
    done = validate(broken)
    assert done.returncode == 1
    assert "'runs-on' is a required property" in done.stdout


def test_runs_on_pull_requests_that_touch_what_the_skill_ships():
    workflow = load()
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    paths = triggers["pull_request"]["paths"]
    for wanted in ("SKILL.md", "references/**", "assets/**", "scripts/**", "evals/**"):
        assert wanted in paths


def test_runs_lint_tests_evals_and_walkthrough_and_writes_the_job_summary():
    lines = " ".join(run_lines())
    for wanted in (
        "uv run ruff check .",
        "uv run ruff format --check .",
        "uv run pytest",
        "--junitxml=",
        "uv run dlt-dagster-evals --json",
        "--junit eval-reports/evals-newest.xml --summary eval-reports/evals-newest.md",
        "--junit eval-reports/evals-oldest.xml --summary eval-reports/evals-oldest.md",
        "uv run python -m evals.walkthrough --json",
        "uv run python -m evals.matrix oldest --",
        "uv run python -m evals.matrix oldest-templates --",
        "uv run python -m evals.ci_summary",
        '>> "$GITHUB_STEP_SUMMARY"',
    ):
        assert wanted in lines, wanted


def test_deselected_tests_exist_so_nothing_runs_twice_or_is_lost():
    """pytest ignores a --deselect that matches nothing; a renamed test would then run twice."""
    for line in run_lines():
        words = shlex.split(line)
        for i, word in enumerate(words):
            if word == "--deselect":
                path, name = words[i + 1].split("::")
                assert f"def {name}(" in (SKILL_ROOT / path).read_text(encoding="utf-8"), words[i + 1]


def test_python_modules_the_workflow_runs_exist():
    for line in run_lines():
        words = shlex.split(line)
        if "-m" in words:
            module = words[words.index("-m") + 1]
            assert (SKILL_ROOT / (module.replace(".", "/") + ".py")).is_file(), module


@pytest.mark.parametrize("job", ["newest", "oldest"])
def test_reports_are_uploaded_even_when_a_step_fails(job):
    steps = load()["jobs"][job]["steps"]
    upload = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert upload and upload[0]["if"] == "${{ !cancelled() }}"
