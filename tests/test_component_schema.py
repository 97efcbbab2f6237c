"""The installed DltLoadCollectionComponent schema matches the committed snapshot, and a
difference reads as a line diff that names the attribute."""

from __future__ import annotations

import pytest

from evals import component_schema


@pytest.fixture(scope="module")
def installed() -> str:
    return component_schema.installed()


def test_installed_component_schema_matches_the_snapshot(installed):
    changes = component_schema.diff(component_schema.SNAPSHOT.read_text(encoding="utf-8"), installed)
    assert not changes, (
        "DltLoadCollectionComponent's defs.yaml schema changed upstream; review the diff, fix the skill, "
        "then `uv run python -m evals.component_schema --update`:\n" + changes
    )


def test_the_snapshot_holds_what_the_skill_writes_in_defs_yaml(installed):
    for attribute in ("loads:", "pipeline: <string>", "source: <string>", "translation:", "partitions_def:"):
        assert attribute in installed


def test_an_upstream_rename_shows_as_a_readable_diff(installed):
    renamed = installed.replace("      pipeline: <string>", "      dlt_pipeline: <string>")
    changes = component_schema.diff(installed, renamed)
    assert "-      pipeline: <string>  # Required" in changes
    assert "+      dlt_pipeline: <string>  # Required" in changes
    assert changes.startswith("--- evals/snapshots/")
