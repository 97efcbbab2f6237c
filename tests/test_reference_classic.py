"""references/classic-code-location.md, run as written in a classic code location.

Its blocks are read from the Markdown (found by the test name in their eval marker), so the
text an agent reads is the text that runs. `uv run dagster ...` lines run the harness's own
`dagster` (the project's env, which `uv run` would select); the scaffold line runs through
real `uv run` and the script's PEP 723 header, as the reference says.
"""

from __future__ import annotations

import json
import os
import shlex
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import duckdb
import pytest

from evals import snippets
from evals.classic_project import create_classic_project
from evals.project import isolated_env
from evals.skill import SKILL_ROOT

pytestmark = pytest.mark.slow

REFERENCE = SKILL_ROOT / "references" / "classic-code-location.md"
THIS = "tests/test_reference_classic.py"
HARNESS_BIN = Path(sys.executable).parent


def block(test_name: str) -> str:
    """The one block whose eval marker names this test (`{test: tests/...::test_name}`)."""
    (found,) = snippets.blocks_run_by(f"{THIS}::{test_name}", [REFERENCE])
    return found.text


def run(argv, cwd: Path, env: dict, timeout: float = 600) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)


def output(done: subprocess.CompletedProcess) -> str:
    return done.stdout + done.stderr


def as_harness_command(line: str) -> list[str]:
    """`uv run dagster ...` -> the harness env's dagster (what `uv run` selects in a synced project)."""
    argv = shlex.split(line)
    assert argv[:2] == ["uv", "run"], line
    return [str(HARNESS_BIN / argv[2]), *argv[3:]]


@pytest.fixture(scope="module")
def scaffolded(tmp_path_factory):
    """A code location as `dagster project scaffold` writes it, after the reference's scaffold block."""
    tmp = tmp_path_factory.mktemp("classic-ref")
    project = create_classic_project(tmp / "analytics", "analytics")
    env = isolated_env(project, tmp / "case")
    env.update(
        SKILL_DIR=str(SKILL_ROOT),
        UV_CACHE_DIR=os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv")),
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
    )
    script = block("test_scaffold_block")
    dry = run(["bash", "-ec", script.rstrip() + " --dry-run"], project.root, env)
    assert dry.returncode == 0, dry.stderr
    written = run(["bash", "-ec", script], project.root, env)
    return project, env, dry, written


def test_scaffold_block(scaffolded):
    project, _, _, written = scaffolded
    assert written.returncode == 0, written.stdout + written.stderr
    assert "found: classic code location ([tool.dagster] module_name = 'analytics.definitions'" in (
        written.stdout
    )
    assert (project.package_dir / "shop.py").is_file() and (project.package_dir / "shop_jobs.py").is_file()


def test_scaffold_diff_block(scaffolded):
    """The diff shown is the one the scaffold block prints with --dry-run."""
    _, _, dry, _ = scaffolded
    printed = dry.stdout[dry.stdout.index("--- a/definitions.py") :].split("\npackages:")[0]
    shown = block("test_scaffold_diff_block").rstrip("\n").splitlines()
    assert [line.rstrip() for line in printed.splitlines()] == shown


def test_command_block(scaffolded):
    project, env, _, written = scaffolded
    assert written.returncode == 0
    lines = [line for line in block("test_command_block").splitlines() if line.strip()]
    assert [shlex.split(line)[2:4] for line in lines] == [
        ["dagster", "definitions"],
        ["dagster", "asset"],
        ["dagster", "job"],
    ]
    for line in lines:
        done = run(as_harness_command(line), project.root, env)
        output = done.stdout + done.stderr
        assert done.returncode == 0, f"{line}\n{output[-3000:]}"
        expected = "All code locations passed validation." if "validate" in line else "RUN_SUCCESS"
        assert expected in output, f"{line}\n{output[-3000:]}"
    with duckdb.connect(str(project.root / "shop.duckdb"), read_only=True) as db:
        assert db.execute("select count(*) from shop_raw.orders").fetchall() == [(3,)]
        assert db.execute("select count(*) from shop_raw.customers").fetchall() == [(3,)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# `dagster dev` needs dagster-webserver, which the harness does not install: uv runs the
# command in an env of its own with it and the harness's versions (uv caches that env).
DEV_PACKAGES = ("dagster-webserver==1.13.27", "dagster-dlt==0.29.27", "dlt[duckdb]==1.31.0")


def test_dagster_dev_block(scaffolded):
    """`dagster dev -m ...` as written (plus -p on a free port) serves the dlt assets."""
    project, env, _, written = scaffolded
    assert written.returncode == 0
    port = _free_port()
    argv = shlex.split(block("test_dagster_dev_block").strip())
    assert argv[:2] == ["uv", "run"]
    with_packages = [arg for package in DEV_PACKAGES for arg in ("--with", package)]
    argv = ["uv", "run", "--no-project", *with_packages, *argv[2:], "-p", str(port)]
    server = subprocess.Popen(
        argv,
        cwd=project.root,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    query = json.dumps({"query": "{ assetNodes { assetKey { path } } }"}).encode()
    keys: set[str] = set()
    try:
        deadline = time.monotonic() + 420  # the first run installs the env
        while time.monotonic() < deadline and "dlt_shop_orders" not in keys:
            assert server.poll() is None, server.stderr.read()
            try:
                request = urllib.request.Request(
                    f"http://127.0.0.1:{port}/graphql", query, {"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(request, timeout=10) as response:
                    nodes = json.load(response)["data"]["assetNodes"]
                keys = {"/".join(n["assetKey"]["path"]) for n in nodes}
            except (OSError, KeyError, TypeError):
                time.sleep(2)
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
    assert {"dlt_shop_orders", "dlt_shop_customers"} <= keys, keys


PROBE = """
import dlt
from dagster import Definitions, asset

PAGE_SIZE = dlt.config["sources.shop.page_size"]  # read when the definitions load


@asset
def pages() -> int:
    return PAGE_SIZE


defs = Definitions(assets=[pages])
"""


def test_working_directory_and_dlt_folder_claims(tmp_path):
    """The last section: the folder `dagster` starts in is the import root and where .dlt/ is read."""
    project = create_classic_project(tmp_path / "analytics", "analytics")
    env = isolated_env(project, tmp_path / "case")
    project.definitions_file.write_text(PROBE)
    (project.root / ".dlt").mkdir()
    (project.root / ".dlt" / "config.toml").write_text("[sources.shop]\npage_size = 2\n")
    validate = [str(HARNESS_BIN / "dagster"), "definitions", "validate", "-m", "analytics.definitions"]
    passed = "All code locations passed validation."
    assert passed in output(run(validate, project.root, env))
    subfolder = project.package_dir
    assert "No module named 'analytics'" in output(run(validate, subfolder, env))
    with_dir = run([*validate, "-d", ".."], subfolder, env)
    assert with_dir.returncode == 1 and "ConfigFieldMissingException" in output(with_dir)
    pointed = run([*validate, "-d", ".."], subfolder, {**env, "DLT_PROJECT_DIR": str(project.root)})
    assert passed in output(pointed), output(pointed)[-2000:]
