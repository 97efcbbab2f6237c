"""Coverage of references/troubleshooting.md: each entry's error reproduced and its fix executed.

An entry is a `### heading` and the blocks up to the next heading. Its parts, as data in
the blocks' eval markers (evals/snippets.py):

- the error: a group whose case expects the failure (`check: {fails_with: ...}` or a
  `# fails: TEXT` command);
- the fix: a group marked `fixes: <that group>`, the same project after the fix, which
  must pass `dg check defs` and, when the error showed in a run, launch and assert tables;
- or either part run by a test: a skipped block marked `test: tests/...` and
  `proves: error | fix` (for what cannot run in a case, such as a scaffold offline).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from evals.cases import Case, Expect, Launch
from evals.skill import SKILL_ROOT
from evals.snippets import Block, Plan

TROUBLESHOOTING = SKILL_ROOT / "references" / "troubleshooting.md"


@dataclass
class Entry:
    heading: str
    line: int
    errors: list[Case] = field(default_factory=list)  # cases that reproduce the error
    fixes: list[Case] = field(default_factory=list)  # cases of the project after the fix
    error_tests: list[str] = field(default_factory=list)
    fix_tests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def run_error(self) -> bool:
        """The error shows in a run (dg launch), not while definitions load."""
        return any(isinstance(s, Launch) and s.fails_with for c in self.errors for s in c.steps)


def _headings(doc: Path) -> list[tuple[int, str]]:
    return [
        (number, line[4:].strip())
        for number, line in enumerate(doc.read_text(encoding="utf-8").splitlines(), start=1)
        if line.startswith("### ")
    ]


def _expects_failure(case: Case) -> bool:
    return bool(case.check_fails_with) or any(isinstance(s, Launch) and s.fails_with for s in case.steps)


def entries(plan: Plan, doc: Path = TROUBLESHOOTING) -> list[Entry]:
    """The entries of `doc` with the cases and tests that prove them, and what is missing."""
    headings = _headings(doc)
    found = [Entry(heading, line) for line, heading in headings]

    def entry_of(block: Block) -> Entry | None:
        owner = None
        for entry in found:
            if entry.line < block.line:
                owner = entry
        return owner

    for case in plan.cases:
        blocks = plan.blocks_by_case.get(case.name, [])
        if not blocks or blocks[0].doc.resolve() != doc.resolve():
            continue
        entry = entry_of(blocks[0])
        if entry is None:
            continue
        if any("fixes" in b.marker for b in blocks):
            entry.fixes.append(case)
        elif _expects_failure(case):
            entry.errors.append(case)
    for block, _ in plan.coverage.skipped:
        if block.doc.resolve() != doc.resolve() or "test" not in block.marker:
            continue
        entry = entry_of(block)
        test = str(block.marker["test"])
        if entry is None:
            continue
        if not (SKILL_ROOT / test.split("::")[0]).is_file():
            entry.problems.append(f"{block.where}: no test file {test}")
        elif block.marker.get("proves") == "fix":
            entry.fix_tests.append(test)
        elif block.marker.get("proves") == "error":
            entry.error_tests.append(test)
        else:
            entry.problems.append(f"{block.where}: `test:` needs `proves: error` or `proves: fix`")
    for entry in found:
        _check_parts(entry)
    return found


def _check_parts(entry: Entry) -> None:
    if not entry.errors and not entry.error_tests:
        entry.problems.append(f"{entry.heading!r}: no case or test reproduces its error")
    if not entry.fixes and not entry.fix_tests:
        entry.problems.append(f"{entry.heading!r}: its fix is not executed (no `fixes:` group or test)")
    for case in entry.fixes:
        if _expects_failure(case):
            entry.problems.append(f"{case.path}: the fixed project {case.name} still expects a failure")
        launched = any(isinstance(s, Launch) for s in case.steps)
        tables = any(isinstance(s, Expect) and s.tables for s in case.steps)
        if entry.run_error and not (launched and tables):
            entry.problems.append(f"{case.path}: a run's fix must launch and assert tables ({case.name})")


def problems(plan: Plan, doc: Path = TROUBLESHOOTING) -> list[str]:
    return [problem for entry in entries(plan, doc) for problem in entry.problems]


def coverage_line(plan: Plan, passed: set[str], doc: Path = TROUBLESHOOTING) -> str:
    """`troubleshooting: N entries, N errors reproduced, N fixes executed` for this run.

    A part counts when one of its cases passed in this run (`passed` holds case names), or
    when a test runs it (named; pytest runs those, so they are counted and listed apart).
    """
    found = entries(plan, doc)
    reproduced = fixed = 0
    by_tests = []
    for entry in found:
        if any(c.name in passed for c in entry.errors):
            reproduced += 1
        elif entry.error_tests:
            reproduced += 1
            by_tests += entry.error_tests
        if not entry.problems and any(c.name in passed for c in entry.fixes):
            fixed += 1
        elif not entry.problems and entry.fix_tests:
            fixed += 1
            by_tests += entry.fix_tests
    line = f"troubleshooting: {len(found)} entries, {reproduced} errors reproduced, {fixed} fixes executed"
    if by_tests:
        line += f" ({len(by_tests)} of these by tests: {', '.join(sorted(set(by_tests)))})"
    return line
