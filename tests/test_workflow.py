"""Every workflow in .github/workflows is a valid GitHub workflow (none can run here), and its parts exist.

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

from evals.matrix import LATEST_SETS
from evals.skill import SKILL_ROOT
from tests.conftest import replace_in

WORKFLOWS_DIR = SKILL_ROOT / ".github" / "workflows"
WORKFLOW = WORKFLOWS_DIR / "evals.yml"
NIGHTLY = WORKFLOWS_DIR / "nightly.yml"
ALL_WORKFLOWS = sorted(WORKFLOWS_DIR.glob("*.y*ml"))
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


def load(path: Path = WORKFLOW) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def triggers(workflow: dict) -> dict:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true


def run_lines(paths: list[Path] | None = None) -> list[str]:
    """Every shell command of every step, one line each (folded `>-` blocks are one line)."""
    lines = []
    for path in paths or [WORKFLOW]:
        for job in load(path)["jobs"].values():
            for step in job["steps"]:
                lines += [line.strip() for line in step.get("run", "").splitlines() if line.strip()]
    return lines


def steps_running(workflow: dict, text: str) -> list[dict]:
    return [s for job in workflow["jobs"].values() for s in job["steps"] if text in s.get("run", "")]


def test_there_are_the_pull_request_and_the_nightly_workflows():
    assert {WORKFLOW, NIGHTLY} <= set(ALL_WORKFLOWS)


@pytest.mark.parametrize("path", ALL_WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_the_vendored_github_workflow_schema(path):
    done = validate(path)
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
    paths = triggers(load())["pull_request"]["paths"]
    for wanted in ("SKILL.md", "references/**", "assets/**", "scripts/**", "evals/**"):
        assert wanted in paths


def test_runs_lint_tests_evals_and_walkthrough_and_writes_the_job_summary():
    lines = " ".join(run_lines())
    for wanted in (
        "uv run ruff check .",
        "uv run ruff format --check .",
        "uv run pytest",
        "--junitxml=",
        "uv run dlt-dagster-evals --changed-since origin/${{ github.base_ref }}",
        "--junit eval-reports/evals-newest.xml",
        "--summary eval-reports/evals-newest.md",
        "--junit eval-reports/evals-oldest.xml --summary eval-reports/evals-oldest.md",
        "uv run dlt-dagster-evals walkthrough --json",
        "uv run dlt-dagster-evals matrix oldest --",
        "uv run dlt-dagster-evals matrix oldest-templates --",
        "uv run dlt-dagster-evals summary",
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
    for line in run_lines(ALL_WORKFLOWS):
        words = shlex.split(line)
        if "-m" in words:
            module = words[words.index("-m") + 1]
            assert (SKILL_ROOT / (module.replace(".", "/") + ".py")).is_file(), module


@pytest.mark.parametrize(
    "path,job",
    [("evals.yml", "tests"), ("evals.yml", "evals"), ("evals.yml", "evals-summary"), ("evals.yml", "oldest")]
    + [("nightly.yml", "pinned"), ("nightly.yml", "drift")],
)
def test_reports_are_uploaded_even_when_a_step_fails(path, job):
    steps = load(WORKFLOWS_DIR / path)["jobs"][job]["steps"]
    upload = [s for s in steps if str(s.get("uses", "")).startswith("actions/upload-artifact@")]
    assert upload and upload[0]["if"] == "${{ !cancelled() }}"


def test_pull_requests_run_changed_only_while_main_runs_everything():
    workflow = load()
    assert triggers(workflow)["push"]["branches"] == ["main"]
    assert triggers(workflow)["push"]["paths"] == triggers(workflow)["pull_request"]["paths"]
    runs = steps_running(workflow, "uv run dlt-dagster-evals --")
    changed_only = [s for s in runs if "--changed-since" in s["run"]]
    full = [s for s in runs if "--changed-since" not in s["run"]]
    assert changed_only and all(s["if"] == "${{ github.event_name == 'pull_request' }}" for s in changed_only)
    assert full and all(s["if"] == "${{ github.event_name != 'pull_request' }}" for s in full)
    oldest = workflow["jobs"]["oldest"]["steps"]
    (sets_flag,) = [s for s in oldest if "--changed-since" in s.get("run", "")]
    assert sets_flag["if"] == "${{ github.event_name == 'pull_request' }}"
    for job in ("evals", "oldest"):  # the base branch's history is there to diff against
        assert workflow["jobs"][job]["steps"][0]["with"]["fetch-depth"] == 0


def test_every_shard_runs_and_their_reports_merge():
    workflow = load()
    shards = workflow["jobs"]["evals"]["strategy"]["matrix"]["shard"]
    count = len(shards)
    assert shards == list(range(1, count + 1)) and count >= 2
    for step in steps_running(workflow, "uv run dlt-dagster-evals --"):
        assert f"--shard ${{{{ matrix.shard }}}}/{count}" in step["run"]
    merge_job = workflow["jobs"]["evals-summary"]
    assert merge_job["needs"] == "evals" and merge_job["if"] == "${{ !cancelled() }}"
    (download,) = [s for s in merge_job["steps"] if str(s.get("uses", "")).startswith("actions/download-art")]
    assert download["with"]["pattern"] == "evals-shard-*"
    (merge,) = steps_running(workflow, "uv run dlt-dagster-evals shards merge")
    words = shlex.split(merge["run"])
    assert words[words.index("--shards") + 1] == str(count)
    assert [w for w in words if w.startswith("eval-reports/evals-shard-")] == [
        f"eval-reports/evals-shard-{k}.json" for k in shards
    ]


def test_nightly_runs_the_newest_releases_and_writes_the_drift_summary():
    nightly = load(NIGHTLY)
    assert triggers(nightly)["schedule"][0]["cron"]
    assert nightly["jobs"]["drift"]["strategy"]["matrix"]["set"] == list(LATEST_SETS)
    (drift,) = steps_running(nightly, "uv run dlt-dagster-evals matrix ${{ matrix.set }}")
    assert "--drift-summary eval-reports/drift-${{ matrix.set }}.md" in drift["run"]
    (pinned,) = steps_running(nightly, "uv run dlt-dagster-evals --")
    assert "--changed-since" not in pinned["run"] and "--shard" not in pinned["run"]


def test_subcommands_the_workflow_runs_exist():
    from evals.cli import _subcommands

    used = []
    for line in run_lines():
        words = shlex.split(line)
        for i, word in enumerate(words[:-1]):
            if word == "dlt-dagster-evals" and not words[i + 1].startswith("-"):
                used.append(words[i + 1])
    assert used and set(used) <= set(_subcommands()), used
