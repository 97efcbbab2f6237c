"""scaffold.py --source-config: bad configs refused cleanly, secrets never written, shorthand
flags writing the same code as their config, and a missing or wrong secret failing clearly."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from evals.rest_server import RestApiServer
from tests.scripts_helpers import SCRIPTS, new_project, run_script, tree_hash

BASE = ["--approach", "component", "--pipeline-name", "shop", "--dataset-name", "shop_raw"]
SECRET = "SUPERSECRET-v4lue-42"
REST = "client: {base_url: 'http://127.0.0.1:9/'}\n"


def write_config(folder: Path, text: str, name: str = "source.yaml") -> Path:
    path = folder / name
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


BAD_CONFIGS = [
    # REST: dlt's own validation, distilled to the field the user got wrong
    (
        REST + "resources: [{name: a, endpoint: {path: a, incremental: {cursor_pth: x}}}]",
        "resources[0].endpoint.incremental: received unexpected fields `{'cursor_pth'}`",
    ),
    (
        "client: {base_url: 'http://x/', paginator: {type: json_lnk}}\nresources: [a]",
        "client.paginator: field `type=json_lnk` is not one of",
    ),
    (
        f"client: {{base_url: 'http://x/', auth: {{type: bearer, token: {SECRET}, bogus: 1}}}}\n"
        "resources: [a]",
        "client.auth: received unexpected fields `{'bogus'}`",
    ),
    (
        REST + "resources: [{name: a, write_disposition: mrge}]",
        "field `write_disposition=mrge` is not one of",
    ),
    (
        REST + "resources: [a]\ndagster: {partitions: {type: daily}}",
        "dagster.partitions: 'start' is a required property",
    ),
    (
        REST + "resources: [{name: a, write_disposition: append, endpoint: {path: a, incremental: "
        "{cursor_path: u, start_param: s, end_param: e}}}]\n"
        "dagster: {partitions: {type: daily, start: '2026-01-01'}}",
        "dagster.partitions: a appends: re-running a partition would duplicate its rows",
    ),
    (
        REST + "resource_defaults: {endpoint: {incremental: {cursor_path: u}}}\nresources: [a]\n"
        "dagster: {partitions: {type: static, keys: [eu], param: region}}",
        "static partitions and an incremental cursor would share one stored cursor",
    ),
    # SQL and filesystem: their JSON Schemas in assets/templates/source-config/
    (
        "tables: [{name: a, incremental: {cursor: x}}]",
        "tables[0].incremental: 'cursor_path' is a required property",
    ),
    (
        "tables: [{name: a, incremental: {cursor_path: t, data_type: timestamp, initial_value: yesterday}}]",
        "tables.a.incremental.initial_value: 'yesterday' is not an ISO 8601 timestamp",
    ),
    (
        "tables: [{name: a, incremental: {cursor_path: t, data_type: timestamp, initial_value: 1767225600}}]",
        "tables.a.incremental.initial_value: 1767225600 is not an ISO 8601 timestamp",
    ),
    (
        "tables: [{name: a, incremental: {cursor_path: d, data_type: date, initial_value: '2026-02-30'}}]",
        "tables.a.incremental.initial_value: '2026-02-30' is not an ISO 8601 date",
    ),
    (
        "tables: [{name: a, incremental: {cursor_path: d, data_type: datetime}}]",
        "tables[0].incremental.data_type: 'datetime' is not one of ['timestamp', 'date']",
    ),
    (
        f"credentials: 'postgresql://u:{SECRET}@h/db'\ntables: [{{name: a}}]",
        "credentials: never put credentials in the config",
    ),
    ("resources: [{name: a, file_glob: '*.csv', reader: xml}]", "resources[0].reader: 'xml' is not one of"),
    (
        "tables: [{name: a}]\ndagster: {window_format: date}",
        "dagster: partitions and window_format apply to rest_api",
    ),
    # the file itself
    ("resources: [a", "not valid YAML or JSON"),
    ("- just a list", "expected a mapping"),
    ("foo: 1", "cannot tell the source kind"),
]


@pytest.fixture(scope="module")
def scaffold_main():
    """scaffold.py's main() in this process (one dlt import for all the bad configs)."""
    sys.path.insert(0, str(SCRIPTS))
    try:
        spec = importlib.util.spec_from_file_location("scaffold_under_test", SCRIPTS / "scaffold.py")
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module  # dataclasses look their module up there
        spec.loader.exec_module(module)
        yield module.main
    finally:
        sys.path.remove(str(SCRIPTS))
        sys.modules.pop("scaffold_under_test", None)


@pytest.mark.parametrize(("text", "message"), BAD_CONFIGS)
def test_a_bad_config_is_one_line_naming_the_field_and_nothing_is_written(
    tmp_path, capsys, scaffold_main, text, message
):
    project, _ = new_project(tmp_path)
    config = write_config(tmp_path, text)
    before = tree_hash(project.root)
    code = scaffold_main([*BASE, "--source-config", str(config), "--project-dir", str(project.root)])
    out, err = capsys.readouterr()
    assert code == 2, out + err
    lines = err.splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"scaffold.py: {config}"), err
    assert message in lines[0]
    assert SECRET not in err + out
    assert tree_hash(project.root) == before


def test_a_bad_config_from_the_command_line_exits_2_and_writes_nothing(tmp_path):
    project, env = new_project(tmp_path)
    config = write_config(tmp_path, BAD_CONFIGS[0][0])
    before = tree_hash(project.root)
    done = run_script("scaffold.py", *BASE, "--source-config", str(config), cwd=project.root, env=env)
    assert done.returncode == 2 and done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert BAD_CONFIGS[0][1] in done.stderr
    assert tree_hash(project.root) == before


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--resources", "a"], "--resources: give these in the --source-config file, not as flags"),
        (["--source", "sql_database"], "--source sql_database but the config describes a rest_api source"),
        (["--parallel", "2"], "parallel and partitions: choose one"),
    ],
)
def test_flags_that_contradict_the_config_are_refused(tmp_path, extra, message):
    project, env = new_project(tmp_path)
    config = write_config(
        tmp_path,
        REST + "resource_defaults: {primary_key: id, write_disposition: merge, endpoint: {incremental: "
        "{cursor_path: u, start_param: s, end_param: e}}}\nresources: [a]\n"
        "dagster: {partitions: {type: daily, start: '2026-01-01'}}",
    )
    before = tree_hash(project.root)
    done = run_script("scaffold.py", *BASE, "--source-config", str(config), *extra, cwd=project.root, env=env)
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert tree_hash(project.root) == before


def test_a_missing_config_file_is_one_line(tmp_path):
    project, env = new_project(tmp_path)
    done = run_script("scaffold.py", *BASE, "--source-config", "nope.yaml", cwd=project.root, env=env)
    assert done.returncode == 2
    assert (
        done.stderr.strip()
        == "scaffold.py: nope.yaml: cannot read the source config: No such file or directory"
    )


def test_secrets_in_the_config_are_never_written_and_their_env_vars_are_printed(tmp_path):
    project, env = new_project(tmp_path)
    config = write_config(
        tmp_path,
        f"""
        client:
          base_url: http://127.0.0.1:9/
          auth: {{type: bearer, token: {SECRET}}}
        resources:
          - name: orders
            endpoint: {{path: orders, auth: {{type: api_key, name: X-Key, api_key: {SECRET}-2}}}}
        """,
    )
    done = run_script("scaffold.py", *BASE, "--source-config", str(config), cwd=project.root, env=env)
    assert done.returncode == 0, done.stderr
    written = "".join(p.read_text() for p in project.root.rglob("*") if p.is_file() and p.suffix != ".pyc")
    assert SECRET not in written
    loads = (project.defs_dir / "shop" / "loads.py").read_text()
    assert 'dlt.secrets["sources.shop.token"]' in loads and 'dlt.secrets["sources.shop.api_key"]' in loads
    assert "SOURCES__SHOP__TOKEN" in done.stdout and "SOURCES__SHOP__API_KEY" in done.stdout
    assert SECRET not in done.stdout


@pytest.mark.parametrize(
    ("flags", "config"),
    [
        (
            [
                "--source",
                "rest_api",
                "--base-url",
                "http://127.0.0.1:9/",
                "--resources",
                "orders,users",
                "--incremental-cursor",
                "updated_at",
            ],
            """
            client:
              base_url: http://127.0.0.1:9/
              paginator: {type: json_link, next_url_path: next}
            resource_defaults:
              primary_key: id
              write_disposition: merge
              endpoint:
                data_selector: data
                incremental:
                  cursor_path: updated_at
                  start_param: updated_since
                  end_param: updated_until
                  initial_value: "1970-01-01T00:00:00+00:00"
            resources: [orders, users]
            """,
        ),
        (["--source", "sql_database", "--resources", "customers"], "tables: [{name: customers}]"),
        (
            ["--source", "filesystem", "--resources", "orders"],
            "resources: [{name: orders, file_glob: 'orders*.csv', reader: csv}]",
        ),
    ],
)
def test_shorthand_flags_write_the_same_code_as_the_config_they_stand_for(tmp_path, flags, config):
    from_flags, env = new_project(tmp_path, "flags")
    assert run_script("scaffold.py", *BASE, *flags, cwd=from_flags.root, env=env).returncode == 0
    from_config, env = new_project(tmp_path, "config")
    path = write_config(tmp_path, config)
    done = run_script("scaffold.py", *BASE, "--source-config", str(path), cwd=from_config.root, env=env)
    assert done.returncode == 0, done.stderr
    for name in ("loads.py", "defs.yaml"):
        assert (from_flags.defs_dir / "shop" / name).read_text() == (
            from_config.defs_dir / "shop" / name
        ).read_text()


def _run_loads(loads: Path, env: dict[str, str], tmp_path: Path) -> subprocess.CompletedProcess:
    """Import the generated loads.py and run its pipeline, as a launch would."""
    code = "import runpy, sys; m = runpy.run_path(sys.argv[1]); m['shop_pipeline'].run(m['shop_source'])"
    env = {**env, "DLT_DATA_DIR": str(tmp_path / "dlt"), "RUNTIME__LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-c", code, str(loads)], env=env, capture_output=True, text=True, timeout=300
    )


def test_a_missing_or_wrong_secret_fails_clearly_with_the_secret_masked(tmp_path):
    auth = {"type": "api_key", "name": "key", "location": "query", "api_key": "the-right-key"}
    with RestApiServer({"orders": 3}, auth=auth) as api:
        project, env = new_project(tmp_path)
        config = write_config(
            tmp_path,
            f"""
            client:
              base_url: {api.url}
              auth: {{type: api_key, name: key, location: query}}
              paginator: {{type: json_link, next_url_path: next}}
            resources: [{{name: orders, endpoint: {{data_selector: data}}}}]
            """,
        )
        done = run_script("scaffold.py", *BASE, "--source-config", str(config), cwd=project.root, env=env)
        assert done.returncode == 0, done.stderr
        loads = project.defs_dir / "shop" / "loads.py"

        missing = _run_loads(loads, env, tmp_path)
        assert missing.returncode != 0
        assert "(Environment Variables, SOURCES__SHOP__API_KEY)" in missing.stderr

        wrong = _run_loads(loads, {**env, "SOURCES__SHOP__API_KEY": "WRONG-k3y-value"}, tmp_path)
        assert wrong.returncode != 0
        assert "401 Client Error: Unauthorized for url" in wrong.stderr and "key=***" in wrong.stderr
        assert "WRONG-k3y-value" not in wrong.stdout + wrong.stderr

        right = _run_loads(loads, {**env, "SOURCES__SHOP__API_KEY": "the-right-key"}, tmp_path)
        assert right.returncode == 0, right.stderr
        assert {r.query.get("key") for r in api.requests} == {"WRONG-k3y-value", "the-right-key"}


EXAMPLES = sorted((SCRIPTS.parent / "assets" / "templates" / "source-config" / "examples").glob("*.yaml"))


def test_there_is_an_example_for_every_source_kind():
    assert [p.stem for p in EXAMPLES] == ["filesystem", "rest_api", "sql_database"]


@pytest.mark.parametrize("example", EXAMPLES, ids=lambda p: p.stem)
def test_each_shipped_example_config_scaffolds(tmp_path, capsys, scaffold_main, example):
    """The examples in assets/templates/source-config/examples pass scaffold.py's checks
    (dlt's validation, the JSON Schemas) and render code that compiles (--dry-run)."""
    project, _ = new_project(tmp_path)
    before = tree_hash(project.root)
    code = scaffold_main(
        [*BASE, "--source-config", str(example), "--project-dir", str(project.root), "--dry-run"]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    assert "would write" in out
    assert tree_hash(project.root) == before


def _prepared_rest(
    resource_defaults: dict, resources: list, newest_wins: bool | None = None
) -> tuple[dict, list[str]]:
    import source_config

    from evals.skill import templating  # noqa: F401 (puts scripts/ on sys.path)

    config = {
        "client": {"base_url": "http://127.0.0.1:9/"},
        "resource_defaults": resource_defaults,
        "resources": resources,
    }
    prepared = source_config.prepare(config, "rest_api", "shop", Path("source.yaml"), validate_with_dlt=False)
    if newest_wins is not None:  # the template's comment on dedup_sort is there only when the scaffold set it
        assert prepared.newest_wins is newest_wins
    return prepared.config, prepared.notes


def _incremental(cursor_path: str) -> dict:
    return {
        "incremental": {"cursor_path": cursor_path, "start_param": "since", "initial_value": "2026-01-01"}
    }


def test_a_merged_incremental_resource_keeps_the_newest_version_of_a_key():
    """dedup_sort desc on the cursor column (references/incremental-backfill-parallel.md)."""
    merged = {"primary_key": "id", "write_disposition": "merge", "endpoint": _incremental("updated_at")}
    config, notes = _prepared_rest(merged, ["orders"], newest_wins=True)
    assert config["resource_defaults"]["columns"] == {"updated_at": {"dedup_sort": "desc"}} and notes == []

    nested = {
        "name": "o",
        "primary_key": "id",
        "write_disposition": "merge",
        "endpoint": _incremental("meta.changed_at"),
    }
    config, _ = _prepared_rest({}, [nested])
    assert config["resources"][0]["columns"] == {"meta__changed_at": {"dedup_sort": "desc"}}


def test_dedup_sort_is_left_alone_where_it_does_not_apply_or_the_user_chose():
    appended = {"name": "a", "endpoint": _incremental("updated_at")}
    keyed = {"primary_key": "id", "endpoint": _incremental("updated_at")}
    scd2 = {"name": "s", **keyed, "write_disposition": {"disposition": "merge", "strategy": "scd2"}}
    own = {"version": {"dedup_sort": "desc"}, "updated_at": {"data_type": "timestamp"}}
    chosen = {"name": "c", **keyed, "write_disposition": "merge", "columns": own}
    config, notes = _prepared_rest({}, [appended, scd2, chosen], newest_wins=False)
    assert "columns" not in config["resources"][0] and "columns" not in config["resources"][1]
    assert config["resources"][2]["columns"] == {
        "version": {"dedup_sort": "desc"},
        "updated_at": {"data_type": "timestamp"},
    }
    assert notes == []


def test_a_cursor_path_that_is_not_a_plain_column_gets_a_note_instead_of_a_guess():
    merged = {
        "name": "o",
        "primary_key": "id",
        "write_disposition": "merge",
        "endpoint": _incremental("$.meta[0].ts"),
    }
    config, notes = _prepared_rest({}, [merged], newest_wins=False)
    assert "columns" not in config["resources"][0]
    assert (
        notes and "o: set the dedup_sort: desc hint on the column of cursor_path '$.meta[0].ts'" in notes[0]
    )
