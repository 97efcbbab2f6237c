"""A throwaway PostgreSQL server for the evals: one per eval run, one database per case.

The server is the operating system's own PostgreSQL (Debian's `postgresql` package, which
`.ci/run` installs when it is missing; see README "PostgreSQL"). Each server has its own
data folder under the temp folder, listens on a free port of 127.0.0.1 only (and on a
Unix socket inside that folder), and accepts only password logins (scram-sha-256). Each
case gets its own role and database, with a random password, that other roles cannot
connect to. PostgreSQL refuses to run as root, so as root the server runs as the
`postgres` system user that the package creates.

`stop()` ends the server's process group and deletes its folder; it runs on leaving the
`with` block, at interpreter exit (atexit) and is safe to call twice. When the process that
started the server dies without stopping it (SIGKILL), a watcher process does the same
(evals/services/orphan_watch.py). Where the server
cannot start, `PostgresUnavailable` carries one line saying why and what to install.
"""

from __future__ import annotations

import atexit
import contextlib
import glob
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import psycopg2

from evals.commands import run_command
from evals.services import orphan_watch

INSTALL_HINT = (
    "install PostgreSQL (Debian/Ubuntu: apt-get install postgresql; macOS: brew install postgresql)"
)
HOST = "127.0.0.1"
ADMIN = "dlt_evals_admin"
START_TIMEOUT = 30.0
WATCHER = Path(orphan_watch.__file__)  # run as a script: it imports nothing of the harness
PORT_ATTEMPTS = 5  # a free port can be taken by someone else before the server binds it
SETTINGS = {  # a throwaway server: durability off, so writes and start-up are fast
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
    "shared_buffers": "32MB",
}


class PostgresUnavailable(Exception):
    """The server cannot start here; str() is one line saying why."""


@dataclass(frozen=True)
class Database:
    """One case's database: a role of its own that owns it, with a password."""

    host: str
    port: int
    user: str
    password: str
    database: str

    @property
    def url(self) -> str:
        """The URL form dlt and SQLAlchemy read (DESTINATION__POSTGRES__CREDENTIALS)."""
        password = quote(self.password, safe="")
        return f"postgresql://{self.user}:{password}@{self.host}:{self.port}/{self.database}"

    @property
    def psycopg2_url(self) -> str:
        """The URL naming its driver, for SQLAlchemy (sql_database): SQLAlchemy 2.1 reads a plain
        postgresql:// as psycopg 3, which dlt[postgres] does not install."""
        return self.url.replace("postgresql://", "postgresql+psycopg2://", 1)

    def placeholders(self) -> dict[str, str]:
        """What a case may write as {postgres_url}, {postgres_password}, ... in env, vars and steps."""
        return {
            "postgres_psycopg2_url": self.psycopg2_url,
            "postgres_url": self.url,
            "postgres_host": self.host,
            "postgres_port": str(self.port),
            "postgres_user": self.user,
            "postgres_password": self.password,
            "postgres_database": self.database,
        }

    def connect(self):
        return psycopg2.connect(
            host=self.host, port=self.port, user=self.user, password=self.password, dbname=self.database
        )

    def execute(self, script: str) -> None:
        """Run a SQL script (several statements) in this database, committed."""
        with contextlib.closing(self.connect()) as connection, connection, connection.cursor() as cursor:
            cursor.execute(script)

    def table_names(self) -> set[str]:
        """Every user table, as "schema.table" (as the DuckDB reader names them)."""
        query = (
            "select table_schema, table_name from information_schema.tables"
            " where table_schema not in ('pg_catalog', 'information_schema')"
        )
        with contextlib.closing(self.connect()) as connection, connection.cursor() as cursor:
            cursor.execute(query)
            return {f"{schema}.{table}" for schema, table in cursor.fetchall()}

    def count(self, schema: str, table: str, where: str | None = None) -> int:
        condition = f" where {where}" if where else ""
        with contextlib.closing(self.connect()) as connection, connection.cursor() as cursor:
            cursor.execute(f'select count(*) from "{schema}"."{table}"{condition}')
            return cursor.fetchone()[0]


def find_bindir() -> Path:
    """The folder holding initdb and postgres: from PATH, else Debian's /usr/lib/postgresql/N/bin."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("postgres"):
        return Path(on_path).resolve().parent
    debian = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version_key, reverse=True)
    if debian:
        return Path(debian[0]).parent
    raise PostgresUnavailable(
        f"PostgreSQL server not found (no initdb on PATH or in /usr/lib/postgresql): {INSTALL_HINT}"
    )


def _version_key(path: str) -> tuple[int, ...]:
    return tuple(int(n) for n in re.findall(r"\d+", path))


def _server_user() -> pwd.struct_passwd | None:
    """None: run as ourselves. As root: the `postgres` user (PostgreSQL refuses root)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresUnavailable(
            "running as root, PostgreSQL refuses root and there is no 'postgres' user to run it as: "
            + INSTALL_HINT
        ) from None


def _temp_parent(user: pwd.struct_passwd | None) -> str:
    """The temp folder, or /tmp when the server's user cannot reach it (root's TMPDIR under
    /root, say): the server's own folder is private (0700) either way."""
    parent = tempfile.gettempdir()
    if user is None or all(os.stat(p).st_mode & 0o001 for p in [parent, *map(str, Path(parent).parents)]):
        return parent
    return "/tmp"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class PostgresServer:
    """A private server; `database(name)` makes a role and database for one case."""

    def __init__(self, bindir: Path | None = None):
        self.bindir = bindir
        self.folder: Path | None = None
        self.port = 0
        self.admin_password = secrets.token_urlsafe(18)
        self.process: subprocess.Popen | None = None
        self.watcher: subprocess.Popen | None = None  # stops the server if this process is killed
        self.start_seconds = 0.0
        self._lock = threading.Lock()
        self._names: set[str] = set()

    # -- lifecycle ---------------------------------------------------------------------

    def start(self) -> PostgresServer:
        began = time.monotonic()
        atexit.register(self.stop)
        try:
            self._start()
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - began
        return self

    def _start(self) -> None:
        bindir = self.bindir or find_bindir()
        user = _server_user()
        self.folder = Path(tempfile.mkdtemp(prefix="dlt-dagster-postgres-", dir=_temp_parent(user)))
        password_file = self.folder / "admin-password"
        password_file.write_text(self.admin_password + "\n", encoding="utf-8")
        password_file.chmod(0o600)
        if user is not None:
            for path in (self.folder, password_file):
                os.chown(path, user.pw_uid, user.pw_gid)
        data = self.folder / "data"
        self._run_as(
            user,
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                ADMIN,
                f"--pwfile={password_file}",
                "--auth=scram-sha-256",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ],
            what="initdb",
        )
        password_file.unlink()
        for _ in range(PORT_ATTEMPTS):
            self.port = free_port()
            if self._launch(bindir, data, user):
                self._watch()
                return
        raise PostgresUnavailable(f"PostgreSQL did not start after {PORT_ATTEMPTS} ports: {self._log_tail()}")

    def _run_as(self, user: pwd.struct_passwd | None, args: list[str], what: str) -> None:
        try:
            result = run_command(args, self.folder, dict(os.environ), timeout=120, as_user=_as_user(user))
        except OSError as exc:
            raise PostgresUnavailable(f"{what} failed: {exc}") from exc
        if result.timed_out:
            raise PostgresUnavailable(f"{what} timed out after 120 s")
        if result.returncode != 0:
            last = result.output.strip().splitlines()[-1:] or ["(no output)"]
            raise PostgresUnavailable(f"{what} failed (exit {result.returncode}): {last[0]}")

    def _launch(self, bindir: Path, data: Path, user: pwd.struct_passwd | None) -> bool:
        """Start postgres on self.port; False when the port was taken meanwhile."""
        settings = [arg for name, value in SETTINGS.items() for arg in ("-c", f"{name}={value}")]
        log = open(self.folder / "server.log", "ab")  # noqa: SIM115 (the server keeps writing to it)
        try:
            # Not run_command: the server outlives this call; stop() ends its process group.
            self.process = subprocess.Popen(
                [
                    str(bindir / "postgres"),
                    "-D",
                    str(data),
                    "-h",
                    HOST,
                    "-p",
                    str(self.port),
                    "-k",
                    str(self.folder),
                    *settings,
                ],
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: stop() ends it and its workers
                **_as_user(user),
            )
        finally:
            log.close()
        deadline = time.monotonic() + START_TIMEOUT
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                if "Address already in use" in self._log_text():
                    return False
                code = self.process.returncode
                raise PostgresUnavailable(f"PostgreSQL exited at start (exit {code}): {self._log_tail()}")
            try:
                self._admin_connection().close()
                return True
            except psycopg2.OperationalError:
                time.sleep(0.05)
        raise PostgresUnavailable(
            f"PostgreSQL did not accept connections within {START_TIMEOUT:g}s: {self._log_tail()}"
        )

    def _watch(self) -> None:
        """A watcher that stops the server if this process dies without stopping it."""
        # Not run_command: the watcher outlives this call; stop() ends it through its stdin.
        self.watcher = subprocess.Popen(
            [sys.executable, str(WATCHER), str(self.process.pid), str(self.folder)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            start_new_session=True,  # a Ctrl-C to the eval run is not the watcher's
        )

    def _log_text(self) -> str:
        try:
            return (self.folder / "server.log").read_text(errors="replace")
        except OSError:
            return ""

    def _log_tail(self) -> str:
        lines = self._log_text().strip().splitlines()
        return lines[-1] if lines else "(empty server log)"

    def stop(self) -> None:
        """End the server (fast shutdown, then SIGKILL to its group) and delete its folder."""
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGINT)  # fast shutdown: aborts sessions, exits
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        folder, self.folder = self.folder, None
        if folder is not None:
            shutil.rmtree(folder, ignore_errors=True)
        watcher, self.watcher = self.watcher, None
        if watcher is not None:
            with contextlib.suppress(OSError):
                watcher.communicate(orphan_watch.STOPPED, timeout=10)
        atexit.unregister(self.stop)

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # -- databases ---------------------------------------------------------------------

    def _admin_connection(self):
        """Over the Unix socket in the server's own folder: surely this server, even if
        another program has meanwhile taken the TCP port (then the server exits instead)."""
        connection = psycopg2.connect(
            host=str(self.folder),
            port=self.port,
            user=ADMIN,
            password=self.admin_password,
            dbname="postgres",
            connect_timeout=5,
        )
        connection.autocommit = True  # CREATE DATABASE cannot run in a transaction
        return connection

    def database(self, case_name: str) -> Database:
        """A new role and database for one case, private to it (other roles cannot connect)."""
        name = self._unique_name(case_name)
        password = secrets.token_urlsafe(18)
        with contextlib.closing(self._admin_connection()) as connection, connection.cursor() as cursor:
            cursor.execute(f'create role "{name}" login password %s', (password,))
            cursor.execute(f'create database "{name}" owner "{name}"')
            cursor.execute(f'revoke all on database "{name}" from public')
        return Database(HOST, self.port, name, password, name)

    def _unique_name(self, case_name: str) -> str:
        base = "c_" + re.sub(r"[^a-z0-9_]", "_", case_name.lower())[:50]
        with self._lock:
            name, number = base, 1
            while name in self._names:
                number += 1
                name = f"{base}_{number}"
            self._names.add(name)
        return name


def _as_user(user: pwd.struct_passwd | None) -> dict:
    if user is None:
        return {}
    return {"user": user.pw_uid, "group": user.pw_gid, "extra_groups": [], "cwd": "/"}


class SharedServer:
    """One server for a whole eval run, started when the first case asks for a database.

    A start failure is remembered: every later case gets the same one-line reason at once.
    """

    def __init__(self, bindir: Path | None = None):
        self._bindir = bindir
        self._server: PostgresServer | None = None
        self._failure: PostgresUnavailable | None = None
        self._lock = threading.Lock()

    def database(self, case_name: str) -> Database:
        with self._lock:
            if self._failure is not None:
                raise self._failure
            if self._server is None:
                try:
                    self._server = PostgresServer(self._bindir).start()
                except PostgresUnavailable as exc:
                    self._failure = exc
                    raise
        return self._server.database(case_name)

    @property
    def server(self) -> PostgresServer | None:
        return self._server

    def stop(self) -> None:
        with self._lock:
            if self._server is not None:
                self._server.stop()
                self._server = None

    def __enter__(self) -> SharedServer:
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()
