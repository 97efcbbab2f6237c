"""The evals' PostgreSQL server: private, password-only, stopped on every way out, and a
server that cannot start fails the cases that need it with one line (never a skip)."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest

from evals.cases import case_from_data
from evals.runner import run_case
from evals.services import postgres
from evals.skill import SKILL_ROOT
from tests.support.interrupt import interrupt_when_started


def refused(port: int) -> bool:
    with socket.socket() as sock:
        return sock.connect_ex((postgres.HOST, port)) != 0


def gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return Path(f"/proc/{pid}/status").read_text().find("State:\tZ") >= 0  # exited, not yet reaped


def test_two_servers_at_once_have_their_own_port_folder_and_passwords():
    with postgres.PostgresServer() as first, postgres.PostgresServer() as second:
        assert first.port != second.port and first.folder != second.folder
        assert first.folder.stat().st_mode & 0o077 == 0  # nobody else reads the data folder
        a, b = first.database("same-name"), second.database("same-name")
        a.execute("create table only_in_first (id int)")
        assert "public.only_in_first" in a.table_names()
        assert "public.only_in_first" not in b.table_names()
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(host=a.host, port=a.port, user=a.user, password=b.password, dbname=a.database)


def test_a_case_database_is_private_to_its_role():
    with postgres.PostgresServer() as server:
        mine, other = server.database("mine"), server.database("mine")
        assert mine.database != other.database  # one name twice still gets two databases
        with pytest.raises(psycopg2.OperationalError, match="permission denied for database"):
            psycopg2.connect(
                host=other.host,
                port=other.port,
                user=other.user,
                password=other.password,
                dbname=mine.database,
            )


def test_the_server_listens_on_loopback_with_passwords_only():
    with postgres.PostgresServer() as server:
        db = server.database("auth")
        with pytest.raises(psycopg2.OperationalError, match="password authentication failed"):
            psycopg2.connect(host=db.host, port=db.port, user=db.user, password="wrong", dbname=db.database)
        with db.connect() as connection, connection.cursor() as cursor:
            cursor.execute("show listen_addresses")
            assert cursor.fetchone() == ("127.0.0.1",)


def test_a_failure_inside_the_block_still_stops_the_server_and_removes_its_folder():
    with pytest.raises(RuntimeError), postgres.PostgresServer() as server:
        pid, port, folder = server.process.pid, server.port, server.folder
        raise RuntimeError("the case failed")
    assert gone(pid) and refused(port) and not folder.exists()


def test_a_taken_port_is_skipped(monkeypatch):
    with socket.socket() as taken:
        taken.bind((postgres.HOST, 0))
        taken.listen()
        busy = taken.getsockname()[1]
        ports = iter([busy])
        monkeypatch.setattr(postgres, "free_port", lambda: next(ports, 0) or postgres_free_port())
        with postgres.PostgresServer() as server:
            assert server.port != busy and server.database("x").table_names() == set()


postgres_free_port = postgres.free_port


def test_ctrl_c_stops_the_server(tmp_path):
    """SIGINT (KeyboardInterrupt) in a process holding a server: the server and its folder go."""
    script = (
        "import json, sys, time\n"
        "from evals.services.postgres import PostgresServer\n"
        "with PostgresServer() as s:\n"
        "    print(json.dumps([s.process.pid, s.port, str(s.folder)]), flush=True)\n"
        "    time.sleep(120)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", script],
        cwd=SKILL_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    pid, port, folder = json.loads(proc.stdout.readline())
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert "KeyboardInterrupt" in err
    assert gone(pid) and refused(port) and not Path(folder).exists()


def test_a_sigkilled_owner_leaves_no_server_behind(tmp_path):
    """SIGKILL runs no atexit or handler: the watcher stops the server and removes its folder."""
    script = (
        "import json, time\n"
        "from evals.services.postgres import PostgresServer\n"
        "s = PostgresServer().start()\n"
        "print(json.dumps([s.process.pid, s.port, str(s.folder), s.watcher.pid]), flush=True)\n"
        "time.sleep(120)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], cwd=SKILL_ROOT, stdout=subprocess.PIPE, text=True)
    pid, port, folder, watcher = json.loads(proc.stdout.readline())
    proc.kill()
    proc.wait(timeout=10)
    deadline = time.monotonic() + 30
    while not (gone(pid) and gone(watcher)) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert gone(pid) and refused(port) and not Path(folder).exists()
    assert gone(watcher)


def test_a_normal_stop_ends_the_watcher_without_it_touching_anything():
    server = postgres.PostgresServer().start()
    watcher = server.watcher
    server.stop()
    assert watcher.returncode == 0 and server.watcher is None


def test_missing_binaries_are_one_line_naming_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(postgres.glob, "glob", lambda pattern: [])
    with pytest.raises(postgres.PostgresUnavailable) as info:
        postgres.find_bindir()
    message = str(info.value)
    assert "\n" not in message and "apt-get install postgresql" in message


def test_a_broken_server_fails_initdb_in_one_line(tmp_path):
    (tmp_path / "initdb").write_text("#!/bin/sh\necho 'initdb: error: cannot be run as root' >&2\nexit 1\n")
    (tmp_path / "initdb").chmod(0o755)
    with pytest.raises(postgres.PostgresUnavailable, match=r"^initdb failed") as info:
        postgres.PostgresServer(bindir=tmp_path).start()
    assert "\n" not in str(info.value)


def test_a_case_needing_postgres_fails_with_that_line_when_the_server_cannot_start(tmp_path):
    case = case_from_data(
        {
            "name": "needs-pg",
            "files": {"a.py": "import dagster as dg\n\n\n@dg.asset\ndef a() -> None:\n    pass\n"},
            "postgres": {},
            "steps": [{"launch": {}}],
        },
        Path("needs-pg.yaml"),
    )
    unavailable = postgres.SharedServer(bindir=tmp_path)  # an empty folder: no initdb there
    result = run_case(case, postgres_server=unavailable)
    assert not result.passed and result.stage == "render"
    assert "needs PostgreSQL, which cannot start here: initdb failed" in result.message
    assert "\n" not in result.message


@pytest.mark.slow
def test_ctrl_c_during_an_eval_run_stops_the_shared_server(tmp_path):
    """The harness's own Ctrl-C path (evals.cli -> run_cases): the server of the run goes too."""
    cases_dir, scratch, port_file = tmp_path / "cases", tmp_path / "scratch", tmp_path / "port"
    cases_dir.mkdir()
    scratch.mkdir()
    hanging = f"""\
import os
import time
from pathlib import Path

import dagster as dg


@dg.asset
def hangs() -> None:
    Path({str(port_file)!r}).write_text(os.environ["PG_PORT"])
    time.sleep(600)
"""
    case = {"files": {"hangs.py": hanging}, "postgres": {}, "env": {"PG_PORT": "{postgres_port}"}}
    (cases_dir / "pg-hangs.yaml").write_text(json.dumps({**case, "steps": [{"launch": {}}]}))
    seen = {}

    def server_is_up() -> None:
        seen["port"] = int(port_file.read_text())
        assert not refused(seen["port"])

    args = ["--cases", str(cases_dir), "--no-docs", "--no-scenarios"]
    returncode, output = interrupt_when_started(args, port_file, scratch, on_started=server_is_up)
    assert returncode == 130, output
    assert refused(seen["port"])
