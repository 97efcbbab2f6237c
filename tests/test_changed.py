"""--changed-since never selects too little: a change to any file a case reads selects that case.

What a case reads is measured, not taken from evals/changed.py's own rules: the template
and scaffold cases are rendered (scaffold.py --dry-run, as the harness runs it) in a child
interpreter whose audit hook records every file opened and every module imported under the
skill root; a doc case reads the Markdown file its blocks come from. Then each of those
files, changed alone, must select the case.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from evals import changed, scenarios, snippets
from evals.cases import discover
from evals.project import create_project
from evals.skill import SKILL_ROOT

ORACLE = r"""
import json, os, runpy, sys
root, plan = sys.argv[1], json.loads(sys.argv[2])
opened = set()
def hook(event, args):
    if event == "open" and isinstance(args[0], (str, bytes, os.PathLike)):
        opened.add(os.path.abspath(os.fsdecode(args[0])))
sys.addaudithook(hook)
sys.path.insert(0, os.path.join(root, "scripts"))
import templating
reads = {}
for name, kind, payload in plan:
    # Each case in a fork of this interpreter: modules a previous case imported are not
    # cached here, so what this case imports is seen as read by this case only.
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read_end)
        opened.clear()
        if kind == "template":
            templating.render(payload["approach"], payload["vars"])
        else:
            for argv in payload:
                sys.argv = ["scaffold.py", *argv, "--dry-run"]
                try:
                    runpy.run_path(os.path.join(root, "scripts", "scaffold.py"), run_name="__main__")
                except SystemExit:
                    pass
        modules = {getattr(m, "__file__", None) for m in list(sys.modules.values())}
        files = {os.path.abspath(f) for f in opened | modules if f}
        inside = [os.path.relpath(f, root) for f in files if f.startswith(root + os.sep)]
        found = sorted(f for f in inside if "__pycache__" not in f and not f.startswith(".venv"))
        with os.fdopen(write_end, "w") as out:
            json.dump(found, out)
        os._exit(0)
    os.close(write_end)
    with os.fdopen(read_end) as got:
        reads[name] = json.loads(got.read())
    os.waitpid(pid, 0)
print(json.dumps(reads))
"""


def all_cases():
    return discover() + snippets.plan().cases + scenarios.load_cases()


@pytest.fixture(scope="module")
def measured_reads(tmp_path_factory) -> dict[str, list[str]]:
    """Case name -> files under the skill root it read while rendering (measured)."""
    plan = []
    for case in discover() + scenarios.load_cases():
        base_url = {"base_url": "http://127.0.0.1:9"} if case.server else {}
        if case.template is not None:
            plan.append(
                [case.name, "template", {"approach": case.template, "vars": {**base_url, **case.vars}}]
            )
        elif case.scaffold is not None:
            runs = [[a.replace("{base_url}", "http://127.0.0.1:9") for a in run] for run in case.scaffold]
            plan.append([case.name, "scaffold", runs])
    project = create_project(tmp_path_factory.mktemp("oracle") / "project", "oracleproj")
    done = subprocess.run(
        [sys.executable, "-c", ORACLE, str(SKILL_ROOT), json.dumps(plan)],
        cwd=project.root,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    reads = json.loads(done.stdout.splitlines()[-1])
    # what the case's own data says is read too: its case file
    for case in discover() + scenarios.load_cases():
        reads.setdefault(case.name, []).append(changed.relative(case.path))
    return reads


def test_the_oracle_sees_templates_partials_and_scripts(measured_reads):
    """The measurement itself works: it would be no proof if it saw nothing."""
    component = measured_reads["component-rest-api"]
    assert "assets/templates/component/loads.py.j2" in component
    assert "assets/templates/_partials/source.py.j2" in component  # through an include
    assert "scripts/templating.py" in component
    scaffolded = measured_reads["scaffold-component-custom"]
    assert {"scripts/scaffold.py", "scripts/dg_project.py"} <= set(scaffolded)


def test_changing_any_file_a_template_or_scaffold_case_reads_selects_that_case(measured_reads):
    cases = all_cases()
    missed = []
    for name, files in measured_reads.items():
        for path in files:
            if changed._matches(path, changed.EVERYTHING) and not path.startswith(
                ("evals/cases/", "evals/sc", "evals/evals.json")
            ):
                continue  # harness code: selects everything, checked below
            selection = changed.impact([path], cases)
            if not selection.everything and name not in selection.reasons:
                missed.append(f"{path} -> {name}")
    assert not missed, "changed files that did not select a case reading them:\n" + "\n".join(missed)


def test_changing_a_markdown_file_selects_its_doc_blocks_and_nothing_else():
    docs = snippets.plan()
    cases = all_cases()
    by_doc: dict[str, set[str]] = {}
    for name, blocks in docs.blocks_by_case.items():
        by_doc.setdefault(changed.relative(blocks[0].doc), set()).add(name)
    assert len(by_doc) >= 5 and "references/component.md" in by_doc
    by_doc.setdefault("SKILL.md", set())  # its blocks are schema-checked or skipped, none grouped
    for doc, names in by_doc.items():
        selection = changed.impact([doc], cases)
        assert set(selection.reasons) == names, doc
        assert selection.documents == [doc]


def test_changing_a_case_file_selects_its_cases():
    cases = all_cases()
    for case in discover():
        selection = changed.impact([changed.relative(case.path)], cases)
        assert list(selection.reasons) == [case.name]
    selection = changed.impact(["evals/scenarios/decisions.yaml"], cases)
    assert set(selection.reasons) == {c.name for c in scenarios.load_cases()}


@pytest.mark.parametrize(
    "path",
    [
        "evals/stages.py",
        "evals/case.schema.json",
        "evals/project_skeleton/definitions.py",
        "pyproject.toml",
        "uv.lock",
    ],
)
def test_harness_code_or_pins_select_everything(path):
    cases = all_cases()
    selection = changed.impact([path], cases)
    assert selection.everything and all(selection.keeps(c) for c in cases)


def test_a_path_no_rule_knows_selects_everything():
    cases = all_cases()
    assert changed.impact(["data/new-thing.csv"], cases).everything


def test_paths_no_eval_reads_select_nothing_and_say_so():
    cases = all_cases()
    selection = changed.impact(["README.md", "tests/test_cases.py", "scripts/doctor.py"], cases)
    assert not selection.everything and not selection.reasons
    report = selection.report(cases, "main")
    assert "selected 0 of" in report and "(no eval reads scripts/doctor.py)" in report


def test_every_declared_input_exists():
    """A stale rule (a renamed template or script) would otherwise point at nothing."""
    for case in all_cases():
        for path in changed.inputs(case):
            assert (SKILL_ROOT / path).is_file(), f"{case.name}: {path}"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout


def _clone(tmp_path: Path) -> Path:
    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "--quiet", "--shared", str(SKILL_ROOT), str(clone))
    return clone


def _impact_since_head(clone: Path, paths: list[str]) -> changed.Impact:
    base = changed.merge_base("HEAD", clone)
    return changed.impact(
        paths, all_cases(), old_text=lambda path: changed.text_at(base, path, clone), root=clone
    )


def test_a_reference_paragraph_edited_in_a_checkout_replans_the_file_and_runs_no_case(tmp_path):
    """Through git: a clone of this repository, one paragraph of a reference changed. No
    block changed, so no doc case can change its outcome; the file is still re-planned."""
    clone = _clone(tmp_path)
    reference = clone / "references" / "component.md"
    text = reference.read_text(encoding="utf-8")
    paragraph = next(p for p in text.split("\n\n") if p[:1].isalpha())
    reference.write_text(text.replace(paragraph, paragraph + " Edited.", 1), encoding="utf-8")
    (clone / "notes.txt").write_text("untracked\n", encoding="utf-8")
    paths = changed.changed_paths("HEAD", clone)
    assert paths == ["notes.txt", "references/component.md"]
    selection = _impact_since_head(clone, ["references/component.md"])
    assert selection.documents == ["references/component.md"] and not selection.reasons
    component_cases = {name for name in changed.impact(["references/component.md"], all_cases()).reasons}
    assert component_cases and set(selection.left_out) == component_cases


def _blocks_of(doc: Path, group: str) -> list[snippets.Block]:
    return [b for b in snippets.extract(doc) if b.marker and b.marker.get("group") == group]


def test_an_edited_block_selects_its_group_and_the_group_that_fixes_it(tmp_path):
    clone = _clone(tmp_path)
    doc = clone / "references" / "troubleshooting.md"
    broken, fixed = "cursor-str", "cursor-str-fixed"
    text = doc.read_text(encoding="utf-8")
    (block,) = [b for b in _blocks_of(doc, broken) if b.lang == "python"]
    doc.write_text(text.replace(block.text, block.text + "# edited\n", 1), encoding="utf-8")
    selection = _impact_since_head(clone, ["references/troubleshooting.md"])
    assert set(selection.reasons) == {f"doc-troubleshooting-{broken}", f"doc-troubleshooting-{fixed}"}

    doc.write_text(text, encoding="utf-8")
    (block,) = _blocks_of(doc, fixed)
    doc.write_text(text.replace(block.text, block.text + "# edited\n", 1), encoding="utf-8")
    selection = _impact_since_head(clone, ["references/troubleshooting.md"])
    assert set(selection.reasons) == {f"doc-troubleshooting-{fixed}"}


def test_an_edited_marker_selects_its_group(tmp_path):
    clone = _clone(tmp_path)
    doc = clone / "references" / "troubleshooting.md"
    text = doc.read_text(encoding="utf-8")
    old = "<!-- eval: {group: cursor-str-sqlalchemy, commands: true} -->"
    assert old in text
    doc.write_text(
        text.replace(
            old, "<!-- eval: {group: cursor-str-sqlalchemy, commands: true, case: {timeout: 300}} -->"
        )
    )
    selection = _impact_since_head(clone, ["references/troubleshooting.md"])
    assert set(selection.reasons) == {"doc-troubleshooting-cursor-str-sqlalchemy"}


def test_a_new_markdown_file_selects_all_of_its_doc_cases(tmp_path):
    clone = _clone(tmp_path)
    assert changed.changed_doc_cases("references/component.md", None, clone) is None
    selection = changed.impact(
        ["references/component.md"], all_cases(), old_text=lambda path: None, root=clone
    )
    assert selection.reasons and not selection.left_out


def test_committed_staged_deleted_and_untracked_changes_all_count(tmp_path):
    _git(tmp_path, "init", "--quiet", "-b", "main")
    for name in ("a.md", "b.md", "c.md", "d.md"):
        (tmp_path / name).write_text(name, encoding="utf-8")
    _git(tmp_path, "add", ".")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-m", "base")
    _git(tmp_path, "checkout", "--quiet", "-b", "topic")
    (tmp_path / "a.md").write_text("committed", encoding="utf-8")
    _git(tmp_path, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "--quiet", "-am", "a")
    (tmp_path / "b.md").write_text("staged", encoding="utf-8")
    _git(tmp_path, "add", "b.md")
    (tmp_path / "c.md").unlink()
    (tmp_path / "e.md").write_text("untracked", encoding="utf-8")
    assert changed.changed_paths("main", tmp_path) == ["a.md", "b.md", "c.md", "e.md"]


def test_an_unknown_ref_is_one_clear_error(tmp_path):
    with pytest.raises(changed.ChangeError, match="--changed-since no-such-ref: no such commit"):
        changed.changed_paths("no-such-ref")


def test_a_test_named_by_a_doc_marker_replans_that_doc_without_running_its_cases():
    """`test: tests/...` in a marker is checked against that file: the doc's coverage runs again."""
    cases = all_cases()
    named = "tests/test_cloud_deployment.py"
    assert f"test: {named}" in (SKILL_ROOT / "references" / "cloud-deployment.md").read_text(encoding="utf-8")
    selection = changed.impact([named], cases)
    assert selection.documents == ["references/cloud-deployment.md"]
    assert not selection.reasons and not selection.everything
    assert changed.impact(["tests/test_cases.py"], cases).documents == []


def test_a_script_the_classic_kind_runs_selects_every_classic_case():
    """Template cases of a classic kind are wired by scripts/classic_scaffold.py in the harness
    (evals/classic_kind.py), which the oracle above, rendering only, does not see."""
    cases = all_cases()
    classic = {c.name for c in cases if c.project_kind != "dg"}
    assert classic
    for script in ("scripts/classic_scaffold.py", "scripts/wire_definitions.py", "scripts/project_kind.py"):
        selection = changed.impact([script], cases)
        assert classic <= set(selection.reasons), (script, classic - set(selection.reasons))
