"""--changed-since REF: which cases a change between REF and the work tree can affect, and why.

Each changed path (relative to the skill root) is classified:

- harness code or pins (evals/ outside its case data, pyproject.toml, uv.lock, CI workflows),
  or a path no rule knows: every case runs;
- SKILL.md or references/*.md: the doc blocks of that file (schema checks and coverage;
  evals/snippets.py), and the doc cases whose blocks changed since the merge base (or that
  fix a group whose blocks did); a prose-only edit runs no case;
- a case file (evals/cases/*.yaml; evals/scenarios/decisions.yaml or evals/evals.json for
  the scenarios): the cases it holds;
- a template, partial or template manifest (assets/templates/): the cases that render it,
  following Jinja `{% include %}`s; variables.schema.json: every case that renders;
- a script (scripts/*.py): the cases that run it or import it, following imports between
  the scripts;
- anything the evals never read (README.md, tests/, benchmarks/, ...): nothing.

Nothing is skipped silently: the selection prints each case with its reasons, and each
changed path that selects nothing with why.
"""

from __future__ import annotations

import ast
import functools
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from fnmatch import fnmatch
from pathlib import Path, PurePosixPath

import jinja2
from jinja2 import meta

from evals.cases import Case
from evals.commands import run_command
from evals.skill import SKILL_ROOT, templating

TEMPLATES = "assets/templates"
SCRIPTS = "scripts"
DOCS = ("SKILL.md", "references/*.md")
SCENARIO_DATA = ("evals/scenarios/decisions.yaml", "evals/evals.json")
# Read by no eval case: changing them changes no case's outcome.
UNREAD = (
    "README.md",
    "*.md",  # Markdown outside SKILL.md and references/*.md (the evals read only those)
    "tests/*",
    "benchmarks/*",
    ".ci/*",
    ".gitignore",
    "LICENSE*",
    "evals/scenarios/trigger_evals.json",  # description tuning queries, read by tests only
    "evals/durations.json",  # shard balancing only (evals/shards.py)
    "evals/snapshots/*",  # compared by tests (tests/test_component_schema.py)
    "scripts/frontmatter.schema.json",  # read by scripts/validate.py, which no case runs
)
# Harness code and pins: a change may affect any case.
EVERYTHING = ("evals/*", "pyproject.toml", "uv.lock", ".python-version", ".github/*")


class ChangeError(Exception):
    """The REF or the repository cannot be read; the message says which."""


@dataclass
class Impact:
    """What a set of changed paths affects: the cases to run and why (evals/selection.py
    narrows by name first; this narrows what is left by what changed)."""

    changed: list[str]
    everything: list[str] = field(default_factory=list)  # reasons to run every case
    documents: list[str] = field(default_factory=list)  # Markdown files whose doc blocks run
    reasons: dict[str, list[str]] = field(default_factory=dict)  # case name -> why it runs
    unread: list[str] = field(default_factory=list)  # changed paths no case reads
    left_out: list[str] = field(default_factory=list)  # doc cases of a changed file, blocks unchanged

    def keeps(self, case: Case) -> bool:
        return bool(self.everything) or case.name in self.reasons

    def report(self, cases: list[Case], since: str) -> str:
        lines = [f"changed since {since}: {len(self.changed)} path(s)"]
        if self.everything:
            lines += [f"  every case runs: {why}" for why in self.everything]
            return "\n".join(lines)
        chosen = [c for c in cases if c.name in self.reasons]
        lines.append(f"selected {len(chosen)} of {len(cases)} case(s):")
        lines += [f"  {c.name}: {'; '.join(self.reasons[c.name])}" for c in chosen]
        lines += [f"  (no eval reads {path})" for path in self.unread]
        if self.left_out:
            lines.append(
                f"  (left out, their blocks did not change: {len(self.left_out)} doc case(s), "
                + ", ".join(self.left_out)
                + ")"
            )
        return "\n".join(lines)


def _git(root: Path, *args: str) -> str:
    try:
        done = run_command(["git", *args], root, dict(os.environ), timeout=60, stderr_apart=True)
    except OSError as exc:
        raise ChangeError(f"git {' '.join(args)}: {exc}") from exc
    if done.timed_out:
        raise ChangeError(f"git {' '.join(args)}: timed out after 60 s in {root}")
    if done.returncode != 0:
        raise ChangeError(f"git {' '.join(args)} failed in {root}: {done.stderr.strip()}")
    return done.output


def merge_base(ref: str, root: Path = SKILL_ROOT) -> str:
    """The commit REF and HEAD share, which a pull request's changes are measured from."""
    try:
        _git(root, "rev-parse", "--verify", "--quiet", f"{ref}^{{commit}}")
    except ChangeError:
        raise ChangeError(
            f"--changed-since {ref}: no such commit in {root} (a shallow clone may need `git fetch`)"
        ) from None
    return _git(root, "merge-base", ref, "HEAD").strip()


def changed_paths(ref: str, root: Path = SKILL_ROOT) -> list[str]:
    """Paths (relative to root) that differ between REF's merge base with HEAD and the work
    tree: committed, staged, unstaged, deleted and untracked files alike."""
    base = merge_base(ref, root)
    diff = _git(root, "diff", "--name-only", "--no-renames", "--relative", base, "--")
    untracked = _git(root, "ls-files", "--others", "--exclude-standard")
    return sorted({line for line in (diff + untracked).splitlines() if line.strip()})


def text_at(base: str, path: str, root: Path = SKILL_ROOT) -> str | None:
    """The file's text at commit `base` (None: it did not exist there)."""
    try:
        return _git(root, "show", f"{base}:./{path}")
    except ChangeError:
        return None


def changed_doc_cases(path: str, old_text: str | None, root: Path = SKILL_ROOT) -> set[str] | None:
    """The doc cases of one Markdown file whose blocks differ from `old_text`: a group whose
    blocks (text, language, marker) changed, appeared, or fix a group that did. None: every
    doc case of the file (it is new, or its markers do not parse)."""
    from evals import snippets
    from evals.cases import CaseError

    doc = root / path
    if old_text is None or not doc.is_file():
        return None
    try:
        old = snippets.group_signatures(snippets.extract(doc, text=old_text))
        blocks = snippets.extract(doc)
        fixes = snippets.group_fixes(blocks)
    except CaseError:
        return None
    new = snippets.group_signatures(blocks)
    changed = {group for group, signature in new.items() if old.get(group) != signature}
    changed |= {group for group, base in fixes.items() if base in changed}
    return {snippets.doc_case_name(doc, group) for group in changed}


def _matches(path: str, patterns: tuple[str, ...]) -> bool:
    return any(fnmatch(path, pattern) for pattern in patterns)


def relative(path: Path | str) -> str:
    """A case's source file relative to the skill root (doc cases carry `file:line`,
    scenario cases `decisions.yaml#id`)."""
    text = str(path).split("#")[0]
    if ".md:" in text:
        text = text.rsplit(":", 1)[0]
    candidate = Path(text)
    if candidate.is_absolute():
        try:
            return candidate.resolve().relative_to(SKILL_ROOT).as_posix()
        except ValueError:
            return candidate.as_posix()
    return PurePosixPath(text).as_posix()


@functools.lru_cache
def template_files(approach: str, templates_dir: Path) -> frozenset[str]:
    """The manifest of one approach and every template it renders, following includes."""
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir)))
    manifest = templating.load_manifest(approach, templates_dir)
    todo = [entry["template"] for entry in manifest["files"]]
    seen = {f"{approach}/template.yaml", "variables.schema.json"}
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        source = (templates_dir / name).read_text(encoding="utf-8")
        referenced = list(meta.find_referenced_templates(env.parse(source)))
        if None in referenced:  # an include whose name is computed: assume it reads them all
            return frozenset(
                p.relative_to(templates_dir).as_posix() for p in templates_dir.rglob("*") if p.is_file()
            )
        todo += [n for n in referenced if n]
    return frozenset(seen)


@functools.lru_cache
def script_files(script: str, scripts_dir: Path) -> frozenset[str]:
    """A script and the scripts it imports (its own folder is on its import path)."""
    local = {p.stem for p in scripts_dir.glob("*.py")}
    todo, seen = [script], set()
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        tree = ast.parse((scripts_dir / f"{name}.py").read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                todo += [a.name.split(".")[0] for a in node.names if a.name.split(".")[0] in local]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.split(".")[0] in local:
                    todo.append(node.module.split(".")[0])
    return frozenset(f"{SCRIPTS}/{name}.py" for name in seen)


def _scaffold_approaches(case: Case) -> set[str]:
    named = set()
    for run in case.scaffold or ():
        if "--approach" in run and run.index("--approach") + 1 < len(run):
            named.add(run[run.index("--approach") + 1])
    known = set(templating.APPROACHES)
    return named & known if named and named <= known else known


def inputs(case: Case, root: Path = SKILL_ROOT) -> set[str]:
    """Every file under the skill root (besides harness code) that the case reads."""
    templates_dir, scripts_dir = root / TEMPLATES, root / SCRIPTS
    read = {relative(case.path)}
    approaches: set[str] = set()
    if case.template is not None:
        approaches = {case.template}
        read |= script_files("templating", scripts_dir)
    if case.scaffold is not None:
        approaches = _scaffold_approaches(case)
        read |= script_files("scaffold", scripts_dir)
    if case.scenario is not None:
        read |= set(SCENARIO_DATA)
    if (
        case.project_kind != "dg"
    ):  # a classic kind wires the project with these scripts (evals/classic_kind.py)
        read |= script_files("classic_scaffold", scripts_dir) | script_files("project_kind", scripts_dir)
    for approach in approaches:
        read |= {f"{TEMPLATES}/{name}" for name in template_files(approach, templates_dir)}
    return read


def _docs_naming(path: str, root: Path) -> list[str]:
    """The skill's Markdown files whose text names `path` (eval markers naming a test)."""
    docs = [root / "SKILL.md", *sorted((root / "references").glob("*.md"))]
    return [d.relative_to(root).as_posix() for d in docs if d.is_file() and path in d.read_text("utf-8")]


def impact(
    changed: list[str],
    cases: list[Case],
    root: Path = SKILL_ROOT,
    old_text: Callable[[str], str | None] | None = None,
) -> Impact:
    """Classify each changed path and pick the cases that read it. With `old_text` (a path's
    text before the change), a Markdown file selects only the doc cases whose blocks changed;
    without it, all of its doc cases."""
    affected = Impact(changed=list(changed))
    case_inputs = {case.name: inputs(case, root) for case in cases}
    for path in changed:
        readers = [c for c in cases if path in case_inputs[c.name]]
        if _matches(path, DOCS):
            affected.documents.append(path)
            why = f"doc block(s) of {path} changed"
            narrowed = changed_doc_cases(path, old_text(path), root) if old_text else None
            if narrowed is not None:
                affected.left_out += [c.name for c in readers if c.name not in narrowed]
                readers = [c for c in readers if c.name in narrowed]
                why = f"its blocks in {path} changed"
        elif readers and path.startswith(f"{TEMPLATES}/"):
            why = f"renders {path}"
        elif readers and path.startswith(f"{SCRIPTS}/"):
            why = f"runs {path}"
        elif readers:
            why = f"case file {path} changed"
        elif path.startswith("tests/") and _docs_naming(path, root):
            # a doc marker that names a test there (`test: tests/...`) is checked against it
            named_by = _docs_naming(path, root)
            affected.documents += [d for d in named_by if d not in affected.documents]
            affected.unread.append(f"{path} (only its name, in the markers of {', '.join(named_by)})")
            continue
        elif _matches(path, ("evals/cases/*", *SCENARIO_DATA)):
            affected.unread.append(f"{path} (no case left in it)")
            continue
        elif _matches(path, UNREAD) or path.startswith((f"{TEMPLATES}/", f"{SCRIPTS}/")):
            affected.unread.append(path)
            continue
        elif _matches(path, EVERYTHING):
            affected.everything.append(f"harness code or pins changed: {path}")
            continue
        else:
            affected.everything.append(f"no rule knows what reads {path}, so every case may")
            continue
        for case in readers:
            affected.reasons.setdefault(case.name, []).append(why)
    return affected


def apply(ref: str, cases: list[Case], docs):
    """The cases (and the doc plan: blocks of changed Markdown only) that a change since
    REF can affect; prints the selection and why. `docs` is a snippets.Plan or None."""
    from evals import snippets

    base = merge_base(ref)
    affected = impact(changed_paths(ref), cases, old_text=lambda path: text_at(base, path))
    print(affected.report(cases, ref), flush=True)
    if affected.everything:
        return cases, docs
    if docs is not None:
        changed_docs = [SKILL_ROOT / p for p in affected.documents if (SKILL_ROOT / p).is_file()]
        docs = snippets.plan(changed_docs) if changed_docs else None
    return [c for c in cases if affected.keeps(c)], docs
