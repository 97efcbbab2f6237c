"""The nightly drift run: what `latest-dagster` reports when a pin blocks the newest dagster,
and the Markdown summary of a failed run (versions, cases, first differing output)."""

from __future__ import annotations

from evals import drift, latest

# What the index held when this was written: dagster moved on, dagster-dlt and dg had not.
INDEX = {
    ("dagster",): {"dagster": "1.13.29"},
    ("dagster-dlt",): {"dagster-dlt": "0.29.27"},
    ("dagster-dg-cli",): {"dagster-dg-cli": "1.13.27"},
    ("dlt",): {"dlt": "1.31.0"},
    ("dagster-dlt==0.29.27",): {"dagster-dlt": "0.29.27", "dagster": "1.13.27", "dlt": "1.31.0"},
    ("dagster-dg-cli==1.13.27",): {"dagster-dg-cli": "1.13.27", "dagster": "1.13.27"},
    ("dagster==1.13.29",): {
        "dagster": "1.13.29",
        "dagster-shared": "1.13.29",
        "dagster-pipes": "1.13.29",
        "rich": "14",
    },
}


def fake_compile(requirements, python, no_deps=False):
    key = tuple(requirements)
    if key not in INDEX:
        raise latest.ResolveError(f"uv cannot resolve {' '.join(requirements)}")
    return INDEX[key]


def test_latest_dagster_names_the_pins_that_block_it_and_overrides_them(monkeypatch):
    monkeypatch.setattr(latest, "compile_versions", fake_compile)
    resolved = latest.latest_dagster("3.11")
    assert resolved.versions == {
        "dagster": "1.13.29",
        "dagster-dg-cli": "1.13.27",
        "dagster-dlt": "0.29.27",
        "dlt": "1.31.0",
    }
    assert resolved.blocked
    assert resolved.overrides == {
        "dagster": "1.13.29",
        "dagster-shared": "1.13.29",
        "dagster-pipes": "1.13.29",
    }
    assert any("dagster-dlt 0.29.27 (newest) requires dagster 1.13.27" in note for note in resolved.notes)


def test_latest_dagster_installs_plainly_once_nothing_blocks(monkeypatch):
    caught_up = {"dagster": "1.13.29", "dagster-dg-cli": "1.13.29", "dagster-dlt": "0.29.29", "dlt": "1.31.0"}
    index = {**INDEX, ("dagster==1.13.29", "dagster-dg-cli", "dagster-dlt", "dlt[duckdb]"): caught_up}
    monkeypatch.setattr(latest, "compile_versions", lambda r, p, no_deps=False: index[tuple(r)])
    resolved = latest.latest_dagster("3.11")
    assert resolved.versions == caught_up and not resolved.blocked


def test_drift_summary_names_versions_cases_and_the_first_differing_output():
    report = {
        "passed": 1,
        "failed": 1,
        "cases": [
            {"name": "ok", "passed": True, "stage": "assert", "message": "", "output": ""},
            {
                "name": "component-rest-api",
                "passed": False,
                "stage": "check",
                "message": "evals/cases/component-rest-api.yaml: dg check defs did not load",
                "output": "2026-01-01 - dagster - INFO - loading\nTraceback (most recent call last):\n"
                '  File "x.py", line 1\nValueError: unknown attribute loads.translation',
            },
        ],
    }
    text = drift.summary(
        "latest-dagster",
        {"dagster": "1.13.29", "dlt": "1.31.0"},
        {"dagster": "1.13.27", "dlt": "1.31.0"},
        ["pin blocks the upgrade: dagster-dlt 0.29.27 requires dagster 1.13.27"],
        report,
        1,
        "-      source: <string>\n+      dlt_source: <string>\n",
    )
    assert "| dagster | 1.13.27 | 1.13.29 (new) |" in text
    assert "| dlt | 1.31.0 | 1.31.0 |" in text
    assert "pin blocks the upgrade" in text
    assert "| component-rest-api | check |" in text
    assert "ValueError: unknown attribute loads.translation" in text
    assert "| ok |" not in text
    assert "+      dlt_source: <string>" in text


def test_a_run_that_wrote_no_report_says_so():
    text = drift.summary("latest", {}, {}, [], None, 2, "")
    assert "wrote no report (exit 2)" in text
