"""Every doc block is executed, schema-checked or skipped with a reason; a broken one fails at file:line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from evals import snippets
from evals.project import clean_env
from evals.runner import run_cases
from evals.skill import SKILL_ROOT, templating


def test_every_shipped_block_is_accounted_for():
    plan = snippets.plan()
    assert plan.coverage.failed == []
    planned = (
        sum(len(b) for b in plan.blocks_by_case.values())
        + len(plan.schema_blocks)
        + len(plan.coverage.skipped)
        + len(plan.coverage.tested)
    )
    assert planned == plan.coverage.found > 0
    assert all(reason for _, reason in plan.coverage.skipped)
    docs = {b.doc.name for blocks in plan.blocks_by_case.values() for b in blocks}
    assert {
        "component.md",
        "pythonic.md",
        "secrets-and-env.md",
        "jobs-and-schedules.md",
        "incremental-backfill-parallel.md",
        "troubleshooting.md",
    } <= docs


def test_shipped_schema_blocks_validate():
    plan = snippets.plan()
    snippets.check_schemas(plan, clean_env())
    assert plan.coverage.failed == []
    kinds = {b.marker["schema"] for b in plan.coverage.schema_checked}
    assert kinds >= {"dagster_instance", "dagster_plus_settings"}


def copy_doc(tmp_path: Path, name: str) -> Path:
    target = tmp_path / name
    shutil.copy(SKILL_ROOT / "references" / name, target)
    return target


def test_an_unmarked_block_and_a_reasonless_skip_fail_at_their_line(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text("# T\n\n```python\nprint(1)\n```\n\n<!-- eval: {skip: ''} -->\n```bash\nls\n```\n")
    plan = snippets.plan([doc])
    assert [where.rsplit(":", 1)[1] for where, _ in plan.coverage.failed] == ["3", "8"]
    assert "without an eval marker" in plan.coverage.failed[0][1]
    assert "skip needs a reason" in plan.coverage.failed[1][1]


def test_a_test_marker_must_name_an_existing_test_function(tmp_path):
    doc = tmp_path / "doc.md"
    real = "tests/test_snippets.py::test_a_test_marker_must_name_an_existing_test_function"
    doc.write_text(
        f"<!-- eval: {{test: {real}}} -->\n```bash\nls\n```\n\n"
        "<!-- eval: {test: tests/test_snippets.py::test_gone} -->\n```bash\nls\n```\n\n"
        "<!-- eval: {test: tests/nowhere.py::test_x} -->\n```bash\nls\n```\n"
    )
    plan = snippets.plan([doc])
    assert [(block.line, test) for block, test in plan.coverage.tested] == [(2, real)]
    assert [(where.rsplit(":", 1)[1], why) for where, why in plan.coverage.failed] == [
        ("7", "test 'tests/test_snippets.py::test_gone': tests/test_snippets.py has no function test_gone"),
        ("12", "test 'tests/nowhere.py::test_x' is not tests/FILE.py::test_name of this checkout"),
    ]
    assert [b.line for b in snippets.blocks_run_by(real, [doc])] == [2]
    assert f"1 run by tests\n  run by {real}: {doc}:2" in snippets.coverage_report(plan.coverage)


def test_add_records_on_a_commands_block_comes_before_its_launches(tmp_path):
    doc = tmp_path / "doc.md"
    doc.write_text(
        "<!-- eval: {group: g, file: a.py, case: {server: {resources: {events: 1}}}} -->\n"
        "```python\nx = 1\n```\n\n"
        "<!-- eval: {group: g, commands: true} -->\n```bash\nuv run dg launch --assets '*'\n```\n\n"
        "<!-- eval: {group: g, commands: true, add_records: {events: 2}} -->\n"
        "```bash\nuv run dg launch --assets '*'\n```\n"
    )
    (case,) = snippets.plan([doc]).cases
    assert [type(step).__name__ for step in case.steps] == ["Launch", "AddRecords", "Launch"]
    assert case.steps[1].counts == {"events": 2}


def test_a_broken_schema_block_fails_at_its_line(tmp_path):
    doc = copy_doc(tmp_path, "scale-out.md")
    doc.write_text(doc.read_text().replace("max_concurrent_runs: 4", "max_concurent_runs: 4"))
    plan = snippets.plan([doc])
    snippets.check_schemas(plan, clean_env())
    lines = doc.read_text().splitlines()
    line = next(i for i, text in enumerate(lines, 1) if "max_concurent_runs: 4" in text) - 3  # its fence
    assert lines[line - 1] == "```yaml"
    assert [where for where, _ in plan.coverage.failed] == [f"{doc}:{line}"]
    assert 'unexpected config entry "max_concurent_runs"' in plan.coverage.failed[0][1]


@pytest.mark.slow
def test_breaking_one_code_block_fails_its_case_at_that_block(tmp_path):
    doc = copy_doc(tmp_path, "pythonic.md")
    text = doc.read_text()
    doc.write_text(
        text.replace('yield [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Grace"}]', "yield 1 / 0")
    )
    plan = snippets.plan([doc])
    results = {r.name: r for r in run_cases(plan.cases, jobs=2)}
    broken = results["doc-pythonic-basic"]
    fence_line = next(
        b.line for b in plan.blocks_by_case["doc-pythonic-basic"] if b.marker.get("file") == "crm.py"
    )
    assert not broken.passed and broken.stage == "materialize"
    assert f"(rendered from {doc}:{fence_line})" in broken.message
    assert all(r.passed for name, r in results.items() if name != "doc-pythonic-basic")


def test_the_incremental_reference_shows_the_template_s_cursor_binding():
    rendered = templating.render(
        "component",
        {
            "pipeline_name": "events",
            "dataset_name": "events_raw",
            "source_kind": "rest_api",
            "base_url": "http://x/",
            "incremental_cursor": "updated_at",
        },
    )[0].text
    reference = (SKILL_ROOT / "references" / "incremental-backfill-parallel.md").read_text()

    def incremental_block(text: str) -> list[str]:
        lines = [line.strip() for line in text.splitlines()]
        start = lines.index('"incremental": {')
        return lines[start : lines.index("},", start) + 1]

    assert incremental_block(rendered) == incremental_block(reference)
    assert 'os.environ.get("EVENTS_END_VALUE") or None' in rendered
    assert 'os.environ.get("EVENTS_END_VALUE") or None' in reference


def test_references_use_the_templates_explicit_duckdb_root():
    root_line = (
        'PROJECT_ROOT = next(p for p in Path(__file__).resolve().parents if (p / "pyproject.toml").is_file())'
    )
    rendered = templating.render(
        "component", {"pipeline_name": "events", "dataset_name": "events_raw", "source_kind": "custom"}
    )[0].text
    assert root_line in rendered  # the template's default marker, as the references show it
    for name in ("component.md", "pythonic.md", "incremental-backfill-parallel.md"):
        assert root_line in (SKILL_ROOT / "references" / name).read_text(), name
