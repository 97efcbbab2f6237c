"""The documented partition patterns fail when the partition no longer bounds the load."""

from __future__ import annotations

import dataclasses

import pytest

from evals.runner import run_case
from evals.snippets import plan

pytestmark = pytest.mark.slow


def doc_case(name: str):
    (case,) = [c for c in plan().cases if c.name == name]
    return case


def with_file_edited(case, path: str, old: str, new: str):
    assert old in case.files[path], f"{path} no longer contains {old!r}: update this test"
    return dataclasses.replace(case, files={**case.files, path: case.files[path].replace(old, new)})


def test_component_partitions_load_only_their_window_and_fail_without_the_subclass():
    case = doc_case("doc-component-partitions")
    assert run_case(case).passed

    # the plain component runs the same unbounded source for every partition
    plain = with_file_edited(
        case, "daily/defs.yaml", ".loads.DailyEventsLoad", "dagster_dlt.DltLoadCollectionComponent"
    )
    broken = run_case(plain)
    assert not broken.passed and broken.stage == "assert"
    assert "events_raw.events has 60 rows, expected 23" in broken.message


def test_pythonic_partitions_load_only_their_window_and_fail_without_the_bounded_source():
    case = doc_case("doc-incremental-backfill-parallel-partitions")
    assert run_case(case).passed

    unbounded = with_file_edited(
        case,
        "daily.py",
        "dlt_resource.run(context=context, dlt_source=source)",
        "dlt_resource.run(context=context)",
    )
    broken = run_case(unbounded)
    assert not broken.passed and broken.stage == "assert"
    assert "events_raw.events has 30 rows, expected 23" in broken.message
