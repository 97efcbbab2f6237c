"""Cases that use PostgreSQL: the docs' Postgres variables are the ones the cases set, and a
case's database password is masked everywhere, even when only the run knows it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from evals import snippets
from evals.cases import case_from_data, discover
from evals.runner import run_case
from evals.services import postgres
from evals.skill import SKILL_ROOT
from tests.support.reports import assert_nowhere

SECRETS_AND_ENV = SKILL_ROOT / "references" / "secrets-and-env.md"


def postgres_rows() -> dict[str, list[str]]:
    """secrets-and-env.md's env var table: the rows about PostgreSQL -> the variables they name."""
    rows = {}
    for line in SECRETS_AND_ENV.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 2 and "PostgreSQL" in cells[0]:
            rows[cells[0]] = re.findall(r"`([A-Z][A-Z0-9_]+)`", cells[1])
    return rows


def test_every_postgres_variable_of_secrets_and_env_is_set_by_a_postgres_case():
    rows = postgres_rows()
    assert len(rows) >= 3 and all(rows.values()), rows
    cases = [c for c in [*discover(), *snippets.plan().cases] if c.postgres is not None]
    set_by_cases = {name: value for case in cases for name, value in case.env.items()}
    for what, names in rows.items():
        for name in names:
            assert name in set_by_cases, f"{what}: no PostgreSQL case sets {name}"
    # the source URL names its driver in the table, and so does the case that runs it
    table = SECRETS_AND_ENV.read_text(encoding="utf-8")
    row = "| sql_database from PostgreSQL | `SOURCES__SQL_DATABASE__CREDENTIALS` = `postgresql+psycopg2://"
    assert row in table
    assert "{postgres_psycopg2_url}" in {c.env.get("SOURCES__SQL_DATABASE__CREDENTIALS") for c in cases}


LEAKY = """\
import os

import dagster as dg


@dg.asset
def leaks() -> None:
    url = os.environ["DESTINATION__POSTGRES__CREDENTIALS"]
    raise RuntimeError(f"url {url} password {os.environ['PG_PART']}")
"""


@pytest.mark.slow
def test_a_case_database_password_is_masked_in_messages_outputs_and_reports():
    """The password exists only once the run made the database ({postgres_password}), so the
    harness must mask the values it expanded, not only the case file's text."""
    case = case_from_data(
        {
            "name": "pg-leaks",
            "files": {"leaks.py": LEAKY},
            "postgres": {},
            "env": {"DESTINATION__POSTGRES__CREDENTIALS": "{postgres_url}"},
            "steps": [{"launch": {"env": {"PG_PART": "{postgres_password}"}}}],
        },
        Path("pg-leaks.yaml"),
    )
    captured = {}

    class Recording(postgres.SharedServer):
        def database(self, case_name):
            captured["db"] = super().database(case_name)
            return captured["db"]

    with Recording() as server:
        result = run_case(case, postgres_server=server)
    password = captured["db"].password
    assert not result.passed and "url *** password ***" in result.output
    assert_nowhere(password, result)
