"""Prose claims of secrets-and-env.md and cloud-deployment.md, run against the packages.

dlt caches its config providers per process, so each claim about where a value comes from
runs in a fresh interpreter, in a folder and environment of the test's own.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from evals.project import create_project, isolated_env

READ_PAGE_SIZE = "import dlt; print(dlt.config['sources.shop.page_size'])"


def clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("DLT_", "SOURCES__", "DESTINATION__", "RUNTIME__"))
    }
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    return {
        **env,
        "HOME": str(home),
        "DLT_DATA_DIR": str(tmp_path / "global"),
        "RUNTIME__DLTHUB_TELEMETRY": "false",
        **extra,
    }


def python(code: str, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout.strip()


def write_config(folder: Path, page_size: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "config.toml").write_text(f"[sources.shop]\npage_size = {page_size}\n")


def test_env_vars_win_over_dlt_toml_files(tmp_path):
    """secrets-and-env.md: "dlt reads configuration and secrets from environment variables
    first, then from `.dlt/secrets.toml` and `.dlt/config.toml`"."""
    write_config(tmp_path / ".dlt", 2)
    assert python(READ_PAGE_SIZE, tmp_path, clean_env(tmp_path)) == "2"
    assert python(READ_PAGE_SIZE, tmp_path, clean_env(tmp_path, SOURCES__SHOP__PAGE_SIZE="5")) == "5"


def test_dlt_folder_is_read_from_the_working_directory_or_dlt_project_dir(tmp_path):
    """secrets-and-env.md, Where .dlt/ is looked up: "the current working directory, or
    `DLT_PROJECT_DIR` when set"."""
    write_config(tmp_path / "here" / ".dlt", 2)
    write_config(tmp_path / "there" / ".dlt", 7)
    assert python(READ_PAGE_SIZE, tmp_path / "here", clean_env(tmp_path)) == "2"
    env = clean_env(tmp_path, DLT_PROJECT_DIR=str(tmp_path / "there"))
    assert python(READ_PAGE_SIZE, tmp_path / "here", env) == "7"


def test_the_global_dlt_dir_is_probed_and_is_var_dlt_for_root(tmp_path):
    """secrets-and-env.md: "(plus the machine-wide `~/.dlt/`, or `/var/dlt/` for root;
    `DLT_DATA_DIR` moves pipeline state, not this folder)".

    Nothing is written to the real machine-wide folder: the test reads which files dlt
    probed from the error of a missing value."""
    env = clean_env(tmp_path)  # DLT_DATA_DIR is set here, and must not move the folder
    expected = "/var/dlt" if os.geteuid() == 0 else str(tmp_path / "home" / ".dlt")
    assert python("import dlt; print(dlt.current.run_context().global_dir)", tmp_path, env) == expected
    done = subprocess.run(
        [sys.executable, "-c", READ_PAGE_SIZE], cwd=tmp_path, env=env, capture_output=True, text=True
    )
    assert done.returncode != 0
    assert os.path.join(expected, "config.toml") in done.stderr
    assert os.path.join(str(tmp_path), ".dlt", "config.toml") in done.stderr


@pytest.mark.parametrize(
    ("destination", "variables", "field", "value"),
    [
        (
            "snowflake",
            {"HOST": "h", "DATABASE": "d", "USERNAME": "u", "PASSWORD": "pw-1"},
            "password",
            "pw-1",
        ),
        (
            "bigquery",
            {"PROJECT_ID": "p", "CLIENT_EMAIL": "a@p.iam", "PRIVATE_KEY": "key-1"},
            "private_key",
            "key-1",
        ),
    ],
)
def test_destination_credential_env_var_names(tmp_path, destination, variables, field, value):
    """secrets-and-env.md, Env var names: `DESTINATION__SNOWFLAKE__CREDENTIALS__PASSWORD`,
    `DESTINATION__BIGQUERY__CREDENTIALS__PRIVATE_KEY` reach the destination's credentials."""
    prefix = f"DESTINATION__{destination.upper()}__CREDENTIALS__"
    env = clean_env(tmp_path, **{prefix + k: v for k, v in variables.items()})
    code = (
        "import dlt\n"
        "from dlt.common.configuration import resolve_configuration\n"
        f"dest = dlt.destinations.{destination}()\n"
        f"sections = ('destination', {destination!r})\n"
        "config = resolve_configuration(dest.spec(), sections=sections, accept_partial=True)\n"
        f"print(config.credentials.{field})\n"
    )
    assert python(code, tmp_path, env) == value


BIGQUERY_CREDENTIALS = """\
import dlt
from dlt.common.configuration import resolve_configuration

spec = dlt.destinations.bigquery().spec()
config = resolve_configuration(spec, sections=("destination", "bigquery"), accept_partial=True)
credentials = config.credentials
print(credentials.project_id, credentials.client_email, credentials.is_resolved())
"""


def test_bigquery_private_key_alone_is_not_enough(tmp_path):
    """secrets-and-env.md, Env var names: the BigQuery key needs `CLIENT_EMAIL` and
    `PROJECT_ID` beside `PRIVATE_KEY`, or the whole JSON in `DESTINATION__BIGQUERY__CREDENTIALS`."""
    prefix = "DESTINATION__BIGQUERY__CREDENTIALS"
    only_key = clean_env(tmp_path, **{f"{prefix}__PRIVATE_KEY": "key-1"})
    assert python(BIGQUERY_CREDENTIALS, tmp_path, only_key) == "None None False"
    parts = {"PRIVATE_KEY": "key-1", "CLIENT_EMAIL": "a@p.iam", "PROJECT_ID": "p"}
    three = clean_env(tmp_path, **{f"{prefix}__{k}": v for k, v in parts.items()})
    assert python(BIGQUERY_CREDENTIALS, tmp_path, three) == "p a@p.iam True"
    whole = '{"type": "service_account", "project_id": "p", "client_email": "a@p.iam", "private_key": "k"}'
    assert python(BIGQUERY_CREDENTIALS, tmp_path, clean_env(tmp_path, **{prefix: whole})) == "p a@p.iam True"


WHERE_MODULE = """\
import os
from pathlib import Path

import dagster as dg
import dlt

# written when the module is imported (definitions load) and when the asset runs
Path(os.environ["WHERE_OUT"]).write_text(
    f"{os.getcwd()}|{dlt.config.get('sources.shop.page_size')}|{os.environ.get('FROM_DOT_ENV')}"
)


@dg.asset
def where() -> None:
    Path(os.environ["WHERE_OUT"]).write_text(
        f"{os.getcwd()}|{dlt.config.get('sources.shop.page_size')}|{os.environ.get('FROM_DOT_ENV')}"
    )
"""


def where_project(tmp_path):
    """A project with `.dlt/config.toml` and `.env` at its root and a module that records the
    working directory, the `.dlt/` value and the `.env` value it sees."""
    project = create_project(tmp_path / "project", "evalproj")
    write_config(project.root / ".dlt", 4)
    (project.root / ".env").write_text("FROM_DOT_ENV=root\n")
    (project.defs_dir / "where.py").write_text(WHERE_MODULE)
    env = {**isolated_env(project, tmp_path), "WHERE_OUT": str(tmp_path / "where.txt")}
    return project, env


def run_ok(argv: list[str], cwd: Path, env: dict[str, str]) -> None:
    done = subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]


def dg_run(args, cwd, env, tmp_path) -> str:
    (tmp_path / "where.txt").unlink(missing_ok=True)
    run_ok([str(Path(sys.executable).parent / "dg"), *args], cwd, env)
    return (tmp_path / "where.txt").read_text()


@pytest.mark.slow
def test_dg_launch_runs_the_code_in_the_folder_it_was_started_from(tmp_path):
    """secrets-and-env.md: "`dg launch` runs the code in the folder you start it from (it
    finds the project from any subfolder)"; from `src/<package>/` neither `<project>/.dlt/`
    nor the project's `.env` is read, since dg reads `.env` from the working directory."""
    project, env = where_project(tmp_path)
    launch = ["launch", "--assets", "where"]
    assert dg_run(launch, project.root, env, tmp_path) == f"{project.root}|4|root"
    assert dg_run(launch, project.package_dir, env, tmp_path) == f"{project.package_dir}|None|None"


@pytest.mark.slow
def test_dg_check_defs_changes_to_the_project_root_first(tmp_path):
    """secrets-and-env.md: "`dg check defs` and `dg dev` change to the project root before
    they load the code", so `.dlt/` and `.env` of the root are read from any subfolder."""
    project, env = where_project(tmp_path)
    for start in (project.root, project.package_dir):
        assert dg_run(["check", "defs"], start, env, tmp_path) == f"{project.root}|4|root", start


DG_DEV_UNTIL_THE_SERVERS = """\
import json, os, sys
import dagster._cli.dev


def record(**options):  # where dg dev would start dagster's webserver and code server
    paths = json.loads(os.environ["DAGSTER_PROJECT_ENV_FILE_PATHS"])
    with open(os.environ["WHERE_OUT"], "w") as out:
        out.write(f"{os.getcwd()}|{sorted(paths.values())}")


dagster._cli.dev.dev_command_impl = record
from dagster_dg_cli.cli import cli

cli.main(args=["dev"], prog_name="dg")
"""


def test_dg_dev_changes_to_the_project_root_first(tmp_path):
    """secrets-and-env.md: `dg dev` started in `src/<package>/` runs from the project root and
    points its code server at the root's `.env`. The real `dg dev` command up to the call that
    starts the servers (dagster-webserver, which the harness does not install, is replaced
    by a recorder)."""
    project, env = where_project(tmp_path)
    run_ok([sys.executable, "-c", DG_DEV_UNTIL_THE_SERVERS], project.package_dir, env)
    assert (tmp_path / "where.txt").read_text() == f"{project.root}|{[str(project.root)]}"


def test_dg_plus_create_env_exists(tmp_path):
    """secrets-and-env.md / cloud-deployment.md: variables per deployment "with
    `dg plus create env`" (its help, offline; creating one needs a Dagster+ account)."""
    dg = str(Path(sys.executable).parent / "dg")
    done = subprocess.run(
        [dg, "plus", "create", "env", "--help"], capture_output=True, text=True, cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "dg plus create env [OPTIONS] ENV_NAME [ENV_VALUE]" in done.stdout


def test_dg_plus_deploy_reads_token_organization_and_deployment_from_the_environment(monkeypatch):
    """cloud-deployment.md, The API token secret: "`dg plus deploy` reads
    `DAGSTER_CLOUD_API_TOKEN`, `DAGSTER_CLOUD_ORGANIZATION` and `DAGSTER_CLOUD_DEPLOYMENT`
    from the environment" (the functions `dg plus deploy` calls, dagster_dg_cli/cli/plus/
    deploy/commands.py; deploying itself needs a Dagster+ organization)."""
    from dagster_cloud_cli import config_utils
    from dagster_dg_cli.cli.plus.deploy.commands import org_and_deploy_option_group  # noqa: F401

    monkeypatch.setenv("DAGSTER_CLOUD_API_TOKEN", "user:token-1")
    monkeypatch.setenv("DAGSTER_CLOUD_ORGANIZATION", "acme")
    monkeypatch.setenv("DAGSTER_CLOUD_DEPLOYMENT", "prod")
    assert config_utils.get_user_token(None) == "user:token-1"
    assert config_utils.get_organization(None) == "acme"
    assert config_utils.get_deployment(None) == "prod"


UNNAMED_MODULE = """\
import os
from pathlib import Path

import dagster as dg
import dlt


@dg.asset
def unnamed() -> None:
    pipeline = dlt.pipeline(destination="duckdb")  # no pipeline_name, no file path
    Path(os.environ["WHERE_OUT"]).write_text(pipeline.pipeline_name)
    pipeline.run([{"id": 1}], table_name="items").raise_on_failed_jobs()
"""


@pytest.mark.slow
def test_an_unnamed_pipeline_is_named_after_the_process_that_runs_it(tmp_path):
    """SKILL.md and component.md: `dlt_dg` (and `dlt_dg.duckdb` in the working directory)
    under `dg launch`; `dlt___main__` in a `python -m dagster` process, which is how dagster
    starts run workers (the entry point asserted below), so runs from `dg dev` or a
    deployment use another name, and another state folder, than `dg launch`."""
    from dagster._core.origin import get_python_environment_entry_point

    project, env = where_project(tmp_path)
    (project.defs_dir / "unnamed.py").write_text(UNNAMED_MODULE)
    (project.defs_dir / "where.py").unlink()
    assert dg_run(["launch", "--assets", "unnamed"], project.root, env, tmp_path) == "dlt_dg"
    assert (project.root / "dlt_dg.duckdb").is_file()

    assert get_python_environment_entry_point("python") == ["python", "-m", "dagster"]
    worker = [sys.executable, "-m", "dagster", "asset", "materialize", "-m", "evalproj.definitions"]
    run_ok([*worker, "--select", "unnamed"], project.root, env)
    assert (tmp_path / "where.txt").read_text() == "dlt___main__"
    assert (project.root / "dlt___main__.duckdb").is_file()


def test_without_dlt_data_dir_a_user_s_dlt_folder_follows_xdg_data_home_until_dot_dlt_exists(tmp_path):
    """scale-out.md: dlt's data folder for a user other than root is `$XDG_DATA_HOME/dlt`
    where that is set and `~/.dlt` is absent, else `~/.dlt`. The child reports a user id
    other than root's (the test may run as root), and dlt's own code decides."""
    home, xdg = tmp_path / "home", tmp_path / "xdg"
    xdg.mkdir()
    env = {**clean_env(tmp_path), "XDG_DATA_HOME": str(xdg)}
    del env["DLT_DATA_DIR"]
    code = "import os; os.geteuid = lambda: 1000; import dlt; print(dlt.current.run_context().data_dir)"
    assert python(code, tmp_path, env) == str(xdg / "dlt")
    (home / ".dlt").mkdir()
    assert python(code, tmp_path, env) == str(home / ".dlt")
    env.pop("XDG_DATA_HOME")
    code_as_root = "import dlt; print(dlt.current.run_context().data_dir)"
    if os.geteuid() == 0:
        assert python(code_as_root, tmp_path, env) == "/var/dlt"
