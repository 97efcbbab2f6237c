"""Every fenced code block in SKILL.md and references/*.md: executed, schema-checked, run by a
named test, or skipped.

A block is marked by an HTML comment right before it, holding YAML:

    <!-- eval: {group: basic, file: ingest/loads.py} -->          a file of a program
    <!-- eval: {group: basic, commands: true} -->                 `uv run dg ...` lines to run
                                    (a trailing `# fails: TEXT` expects the command to fail with TEXT)
    <!-- eval: {group: basic, commands: true, expect: {...}} -->   ...then check the tables
    <!-- eval: {group: basic, commands: true, add_records: {...}} -->  add API records first
    <!-- eval: {group: basic, case: {expect: {tables: [...]}}} -->  case options for the group
    <!-- eval: {schema: component} -->       validated (component | dagster_instance
                                              | dagster_plus_settings)
    <!-- eval: {test: tests/test_x.py::test_y} -->  run, as written, by that test
    <!-- eval: {skip: "why it cannot run here"} -->
    <!-- eval: {group: dup-fixed, fixes: dup, file: dup/loads.py} -->   the same project as
                                    group `dup` (its files, data and env) after a fix: these blocks
                                    replace or add files; the broken group's failing check,
                                    commands and `without_packages` are left out
    <!-- eval: {group: x-fixed, fixes: true, file: ...} -->   a fix shown as a whole project
                                    (its error is reproduced by a test, see below)
    <!-- eval: {group: x, commands: true, keep_executor: true} -->  launches keep the assets'
                                    own executor (fast mode otherwise runs plain launches in-process)
    <!-- eval: {skip: "...", test: "tests/test_x.py::test_y", proves: error | fix} -->  run by that test

Blocks of one group (in one Markdown file) become one eval case: `file` blocks are written
into a fresh project's defs folder, `commands` blocks become launch steps (`uv run dg
check defs` is the check stage, which always runs), and `case` adds options (env, server,
sqlite, data_files, check, expect, timeout, without_packages, with_packages,
postgres; `expect` runs
after the last launch). `export NAME=VALUE` lines need NAME in the group's `case: {env:
...}` (the value this machine needs). A `uv add PKG` line in a commands block says the case
runs with PKG installed (it must be installed in the harness's environment). A `test`
block is one a test reads from the Markdown and runs as written (commands outside a dg
project, such as `dg plus deploy configure`); the named test function must exist. A block
with no marker is an error: nothing is skipped silently. Failures name `file:line`.
"""

from __future__ import annotations

import json
import re
import shlex
import sys
import tempfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml
from markdown_it import MarkdownIt

from evals.cases import Case, CaseError, Launch, case_from_data
from evals.commands import run_command
from evals.project import clean_env, create_project
from evals.skill import SKILL_ROOT, schema_problems

if TYPE_CHECKING:
    from evals.runner import CaseResult

MARKER = re.compile(r"^<!--\s*eval:\s*(?P<body>.*?)\s*-->\s*$", re.DOTALL)
SCHEMAS = ("component", "dagster_instance", "dagster_plus_settings")
CASE_OPTIONS = {
    "env",
    "server",
    "sqlite",
    "data_files",
    "check",
    "expect",
    "timeout",
    "description",
    "without_packages",
    "with_packages",
    "postgres",
}


@dataclass(frozen=True)
class Block:
    doc: Path
    line: int  # 1-based line of the opening fence
    lang: str
    text: str
    marker: dict[str, Any] | None

    @property
    def where(self) -> str:
        return f"{_relative(self.doc)}:{self.line}"


@dataclass
class Coverage:
    found: int = 0
    executed: list[Block] = field(default_factory=list)  # in a case that ran
    schema_checked: list[Block] = field(default_factory=list)
    skipped: list[tuple[Block, str]] = field(default_factory=list)
    tested: list[tuple[Block, str]] = field(default_factory=list)  # (block, the test that runs it)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file:line, why)


def documents(root: Path = SKILL_ROOT) -> list[Path]:
    return [root / "SKILL.md", *sorted((root / "references").glob("*.md"))]


def extract(doc: Path, text: str | None = None) -> list[Block]:
    """The fenced blocks of `doc` (of `text` instead of the file's, e.g. an older version)."""
    tokens = MarkdownIt().parse(doc.read_text(encoding="utf-8") if text is None else text)
    blocks = []
    for index, token in enumerate(tokens):
        if token.type != "fence":
            continue
        marker = None
        previous = tokens[index - 1] if index else None
        if previous is not None and previous.type == "html_block":
            match = MARKER.match(previous.content.strip())
            if match:
                marker = _parse_marker(match.group("body"), doc, token.map[0] + 1)
        blocks.append(
            Block(doc, token.map[0] + 1, token.info.split()[0] if token.info else "", token.content, marker)
        )
    return blocks


def _parse_marker(body: str, doc: Path, line: int) -> dict[str, Any]:
    try:
        marker = yaml.safe_load(body)
    except yaml.YAMLError as exc:
        raise CaseError(f"{_relative(doc)}:{line}: unreadable eval marker: {exc}") from exc
    if not isinstance(marker, dict):
        raise CaseError(f"{_relative(doc)}:{line}: an eval marker must be a YAML mapping")
    return marker


@dataclass
class Plan:
    cases: list[Case] = field(default_factory=list)
    blocks_by_case: dict[str, list[Block]] = field(default_factory=dict)
    schema_blocks: list[Block] = field(default_factory=list)
    coverage: Coverage = field(default_factory=Coverage)


def plan(docs: list[Path] | None = None) -> Plan:
    """Classify every block and build one case per group."""
    result = Plan()
    for doc in docs if docs is not None else documents():
        groups: dict[str, list[Block]] = {}
        for block in extract(doc):
            result.coverage.found += 1
            marker = block.marker
            if marker is None:
                result.coverage.failed.append((block.where, "fenced block without an eval marker"))
            elif "skip" in marker:
                reason = str(marker["skip"]).strip()
                if not reason:
                    result.coverage.failed.append((block.where, "skip needs a reason"))
                else:
                    result.coverage.skipped.append((block, reason))
            elif "test" in marker:
                problem = _missing_test(str(marker["test"]))
                if problem:
                    result.coverage.failed.append((block.where, problem))
                else:
                    result.coverage.tested.append((block, str(marker["test"])))
            elif "schema" in marker:
                if marker["schema"] not in SCHEMAS:
                    result.coverage.failed.append((block.where, f"unknown schema {marker['schema']!r}"))
                else:
                    result.schema_blocks.append(block)
            elif "group" in marker:
                groups.setdefault(str(marker["group"]), []).append(block)
            else:
                result.coverage.failed.append(
                    (block.where, f"marker needs group, schema, test or skip: {marker}")
                )
        for name, blocks in sorted(groups.items(), key=lambda item: _fixes(item[1]) is not None):
            try:
                base = _fixes(blocks)
                if base is not None and base not in groups:
                    raise CaseError(f"{blocks[0].where}: fixes: no group {base!r} in {_relative(doc)}")
                case = group_case(doc, name, blocks, groups.get(base) if base else None)
            except CaseError as exc:
                result.coverage.failed.append((blocks[0].where, str(exc)))
                continue
            result.cases.append(case)
            result.blocks_by_case[case.name] = blocks
    return result


def _missing_test(test: str) -> str | None:
    """None when `path::name` names a test function of this checkout, else why not."""
    path, _, name = test.partition("::")
    source = SKILL_ROOT / path
    if not name or not path.startswith("tests/") or not source.is_file():
        return f"test {test!r} is not tests/FILE.py::test_name of this checkout"
    if f"def {name}(" not in source.read_text(encoding="utf-8"):
        return f"test {test!r}: {path} has no function {name}"
    return None


def blocks_run_by(test: str, docs: list[Path] | None = None) -> list[Block]:
    """The blocks whose marker names `test` (`tests/FILE.py::test_name`), for that test to run."""
    return [
        block
        for doc in (docs if docs is not None else documents())
        for block in extract(doc)
        if block.marker and block.marker.get("test") == test
    ]


def doc_case_name(doc: Path, group: str) -> str:
    return f"doc-{doc.stem}-{group}"


def _grouped(blocks: list[Block]) -> dict[str, list[Block]]:
    groups: dict[str, list[Block]] = {}
    for block in blocks:
        if block.marker and "group" in block.marker:
            groups.setdefault(str(block.marker["group"]), []).append(block)
    return groups


def group_signatures(blocks: list[Block]) -> dict[str, list[tuple[str, str, str]]]:
    """Group -> what its case is built from (each block's language, text and marker), without
    line numbers: two versions of a file whose group has the same signature build the same case."""
    return {
        group: [(b.lang, b.text, json.dumps(b.marker, sort_keys=True, default=str)) for b in members]
        for group, members in _grouped(blocks).items()
    }


def group_fixes(blocks: list[Block]) -> dict[str, str]:
    """Fixing group -> the broken group it fixes (whose blocks its case starts from)."""
    fixes = {group: _fixes(members) for group, members in _grouped(blocks).items()}
    return {group: base for group, base in fixes.items() if base is not None}


def _fixes(blocks: list[Block]) -> str | None:
    """The broken group that this group fixes (`fixes:` on any of its blocks), if any."""
    named = {str(b.marker["fixes"]) for b in blocks if b.marker.get("fixes") not in (None, True)}
    if len(named) > 1:
        raise CaseError(f"{blocks[0].where}: one group fixes one other group, not {sorted(named)}")
    return named.pop() if named else None


# What a fixed project keeps of the broken one: everything but the failure it showed.
NOT_INHERITED = {"check", "expect", "without_packages", "description"}


def group_case(doc: Path, name: str, blocks: list[Block], broken: list[Block] | None = None) -> Case:
    files: dict[str, str] = {}
    commanded: list[dict[str, Any]] = []
    check_only = False  # the group's commands are `dg check defs` alone: nothing to launch
    options: dict[str, Any] = {}
    exported: list[str] = []
    for block in broken or []:
        if "file" in block.marker:
            files[str(block.marker["file"])] = block.text
        options.update({k: v for k, v in block.marker.get("case", {}).items() if k not in NOT_INHERITED})
    for block in blocks:
        marker = block.marker
        if "file" in marker:
            files[str(marker["file"])] = block.text
        if marker.get("commands"):
            if "add_records" in marker:
                commanded.append({"add_records": marker["add_records"]})
            launches = commands_to_launches(block, exported)
            if marker.get("keep_executor"):
                launches = [{**launch, "config": {}} for launch in launches]  # see evals/fast.py
            check_only = check_only or (not launches and "uv run dg check defs" in block.text)
            commanded += [{"launch": launch} for launch in launches]
            if "expect" in marker:
                commanded.append({"expect": marker["expect"]})
        unknown = set(marker.get("case", {})) - CASE_OPTIONS
        if unknown:
            raise CaseError(f"{block.where}: unknown case options {sorted(unknown)}")
        options.update(marker.get("case", {}))
    unset = [name for name in exported if name not in options.get("env", {})]
    if unset:
        raise CaseError(f"{blocks[0].where}: `export {unset[0]}=...` needs the value in the group's case env")
    if not files:
        raise CaseError(f"{blocks[0].where}: group {name!r} has no file block")
    expect = options.pop("expect", None)
    steps: list[dict[str, Any]] = commanded or [{"launch": {}}]
    if expect:
        steps.append({"expect": expect})
    if options.get("check", {}).get("fails_with") or (check_only and not commanded):
        steps = []  # the group shows an error at load time, or only `dg check defs`: nothing to launch
    data = {"name": doc_case_name(doc, name), "files": files, "steps": steps, **options}
    if not steps:
        data["steps"] = [{"expect": {"tables": []}}]
    return case_from_data(data, Path(blocks[0].where))


def commands_to_launches(block: Block, exports: list[str] | None = None) -> list[dict[str, Any]]:
    """`uv run dg launch ...` lines as launch steps; `uv run dg check defs` is the check stage.

    `export NAME=VALUE` lines are collected into `exports`: the group's `case: {env: ...}`
    must set each NAME (with the value this machine needs; the block shows the user's)."""
    exports = [] if exports is None else exports
    launches = []
    for raw in block.text.splitlines():
        line, _, comment = raw.partition(" #")
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        words = shlex.split(line)
        env: dict[str, str] = {}
        while words and re.match(r"^[A-Z_][A-Z0-9_]*=", words[0]):
            key, _, value = words.pop(0).partition("=")
            env[key] = value
        if words[:4] == ["uv", "run", "dg", "check"]:
            continue
        if words[:1] == ["export"] and len(words) == 2 and "=" in words[1]:
            exports.append(words[1].split("=", 1)[0])
            continue
        if words[:2] == ["uv", "add"]:
            _require_installed(block, [w for w in words[2:] if not w.startswith("-")])
            continue
        if words[:4] != ["uv", "run", "dg", "launch"]:
            raise CaseError(f"{block.where}: only `uv run dg launch|check ...` lines can run here: {line!r}")
        try:
            launch = Launch.from_argv(words[4:])
        except ValueError as exc:
            raise CaseError(f"{block.where}: {exc}: {line!r}") from exc
        step: dict[str, Any] = {k: v for k, v in vars(launch).items() if v is not None and k != "env"}
        if env:
            step["env"] = env
        if comment.strip().startswith("fails:"):
            step["fails_with"] = comment.strip()[len("fails:") :].strip()
        launches.append(step)
    return launches


def _require_installed(block: Block, requirements: list[str]) -> None:
    """`uv add PKG` in a block: the case runs in the harness's environment, so PKG must be there."""
    for requirement in requirements:
        name = re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0]
        try:
            metadata.version(name)
        except metadata.PackageNotFoundError:
            raise CaseError(f"{block.where}: `uv add {requirement}`: {name} is not installed here") from None


def block_schema_problem(block: Block, component_schema: dict | None) -> str | None:
    """None when the block is valid under its schema, else why not."""
    kind = block.marker["schema"]
    try:
        document = yaml.safe_load(block.text)
    except yaml.YAMLError as exc:
        return f"not YAML: {exc}"
    if kind in ("dagster_instance", "dagster_plus_settings"):
        from evals.instance_config import instance_problems, plus_settings_problems

        return (instance_problems if kind == "dagster_instance" else plus_settings_problems)(document)
    problems = schema_problems.schema_problems(component_schema, document)
    if problems:
        return "; ".join(str(problem)[:300] for problem in problems[:3])
    return None


def component_schema(env: dict[str, str]) -> dict:
    """The JSON schema of every component type installed, from `dg utils generate-component-schema`."""
    with tempfile.TemporaryDirectory(prefix="dlt-dagster-schema-") as scratch:
        project = create_project(Path(scratch) / "project", "schemaproj")
        output = Path(scratch) / "schema.json"
        dg = Path(sys.executable).parent / "dg"
        done = run_command(
            [str(dg), "utils", "generate-component-schema", "--output-path", str(output)],
            project.root,
            {**env, "PYTHONPATH": str(project.root / "src")},
            timeout=300,
        )
        if done.returncode != 0 or not output.exists():
            raise RuntimeError(f"dg utils generate-component-schema failed:\n{done.output}")
        return json.loads(output.read_text())


def check_schemas(result: Plan, env: dict[str, str]) -> None:
    schema = (
        component_schema(env)
        if any(b.marker["schema"] == "component" for b in result.schema_blocks)
        else None
    )
    for block in result.schema_blocks:
        problem = block_schema_problem(block, schema)
        if problem:
            result.coverage.failed.append((block.where, f"{block.marker['schema']} schema: {problem}"))
        else:
            result.coverage.schema_checked.append(block)


def account(docs: Plan, results: Iterable[CaseResult], check_schemas_too: bool) -> Coverage:
    """Finish the coverage of a run: blocks of passed cases are executed, of failed ones failed;
    schema blocks are checked (not when a run was narrowed with -k)."""
    for result in results:
        blocks = docs.blocks_by_case.get(result.name)
        if blocks is None:
            continue
        if result.passed:
            docs.coverage.executed += blocks
        else:
            docs.coverage.failed.append((str(result.path), f"{result.stage}: {result.message}"))
    if check_schemas_too:
        check_schemas(docs, clean_env())
    return docs.coverage


def coverage_report(coverage: Coverage) -> str:
    executed, checked, skipped = len(coverage.executed), len(coverage.schema_checked), len(coverage.skipped)
    lines = [
        f"doc blocks: {coverage.found} found, {executed} executed, {checked} schema-checked, "
        f"{skipped} skipped, {len(coverage.failed)} failed, {len(coverage.tested)} run by tests"
    ]
    lines += [f"  run by {test}: {block.where}" for block, test in coverage.tested]
    lines += [f"  skipped {block.where}: {reason}" for block, reason in coverage.skipped]
    lines += [f"  FAILED {where}: {why}" for where, why in coverage.failed]
    return "\n".join(lines)


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(SKILL_ROOT))
    except ValueError:
        return str(path)
