"""Wire new modules into a classic code location's one module-level ``Definitions``.

The edit is as small as it can be and only adds lines: one import next to the module's
imports, and right after the existing ``defs = Definitions(...)`` statement

    defs = Definitions.merge(defs, new_module.defs)

so every character of the user's own code stays where it was. Positions come from the
syntax tree of Python's own parser (``ast``, which also keeps end lines and columns), never
from text patterns, and the result is parsed again and compared statement by statement with
the original before it is offered. Where the Definitions cannot be found and edited safely
(unparseable file, several Definitions, one built by a function or reassigned, a name
already taken) it raises WiringError with the exact lines to add by hand.
"""

from __future__ import annotations

import ast
import difflib
from dataclasses import dataclass
from pathlib import Path

DYNAMIC_BUILDERS = {
    "merge",
    "definitions",
    "repository",
    "load_definitions_from_module",
    "load_definitions_from_modules",
    "load_definitions_from_current_module",
    "load_definitions_from_package_module",
    "load_from_defs_folder",
    "load_defs",
}


class WiringError(Exception):
    """The Definitions cannot be edited safely; the message ends with the lines to add by hand."""


@dataclass(frozen=True)
class Wiring:
    path: Path
    old_text: str
    new_text: str

    def diff(self) -> str:
        return "".join(
            difflib.unified_diff(
                self.old_text.splitlines(keepends=True),
                self.new_text.splitlines(keepends=True),
                f"a/{self.path.name}",
                f"b/{self.path.name}",
            )
        )


def exports(module: str, text: str) -> list[str]:
    """What a new module offers to a Definitions: its own `defs`, or its assets, jobs and schedules."""
    tree = ast.parse(text)
    names: dict[str, list[str]] = {"assets": [], "jobs": [], "schedules": [], "sensors": []}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            target = node.targets[0].id if isinstance(node.targets[0], ast.Name) else None
            called = _called_name(node.value.func)
            if called == "Definitions" and target:
                return [f"{module}.{target}"]
            kind = {"define_asset_job": "jobs", "ScheduleDefinition": "schedules"}.get(called or "")
            if kind and target:
                names[kind].append(f"{module}.{target}")
        elif isinstance(node, ast.FunctionDef):
            decorators = {_called_name(d.func if isinstance(d, ast.Call) else d) for d in node.decorator_list}
            if decorators & {"asset", "dlt_assets", "multi_asset"}:
                names["assets"].append(f"{module}.{node.name}")
            elif decorators & {"sensor", "asset_sensor"}:
                names["sensors"].append(f"{module}.{node.name}")
    args = ", ".join(f"{k}=[{', '.join(v)}]" for k, v in names.items() if v)
    return [f"Definitions({args})"] if args else []


def plan_wiring(path: Path, import_line: str, new_exports: list[str], new_names: list[str]) -> Wiring | None:
    """The edited text of `path`, or None when it already holds exactly these lines."""
    shown = str(path)
    by_hand = _by_hand(import_line, new_exports)
    try:
        raw = path.read_bytes()
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise WiringError(f"{shown}: not UTF-8 text (byte {exc.start}); {by_hand}") from exc
    try:
        tree = ast.parse(text, filename=shown)
    except SyntaxError as exc:
        problem = f"{shown}:{exc.lineno}: not valid Python ({exc.msg}); fix it and rerun;"
        raise WiringError(f"{problem} {by_hand}") from exc
    statement, anchor, target, callee = _the_definitions(tree, shown, by_hand)
    merge_line = _merge_line(target, callee, new_exports)
    by_hand = _by_hand(import_line, new_exports, target, callee)
    lines = text.splitlines(keepends=True)
    present = {ast.dump(node) for node in tree.body}
    if {ast.dump(ast.parse(import_line).body[0]), ast.dump(ast.parse(merge_line).body[0])} <= present:
        return None
    taken = _top_level_names(tree)
    for name in new_names:
        if name in taken:
            raise WiringError(
                f"{shown}:{taken[name]}: the name {name!r} is already used there, and the import would "
                "replace it; nothing changed: choose another --defs-name"
            )
    if any(other is not anchor and other.lineno == anchor.end_lineno for other in tree.body):
        raise WiringError(
            f"{shown}:{anchor.end_lineno}: another statement shares the line that ends the "
            f"Definitions; {by_hand}"
        )
    newline = "\r\n" if "\r\n" in text else "\n"
    if lines and not lines[-1].endswith(("\n", "\r")):
        lines[-1] += newline
    import_after = _import_position(tree, statement)
    new_lines = list(lines)
    new_lines.insert(anchor.end_lineno, merge_line.replace("\n", newline) + newline)
    new_lines.insert(import_after, import_line + newline)
    new_text = "".join(new_lines)
    _same_statements(tree, new_text, shown, by_hand)
    return Wiring(path, text, new_text)


def _the_definitions(tree: ast.Module, shown: str, by_hand: str) -> tuple[ast.stmt, ast.stmt, str, str]:
    """The `NAME = Definitions(...)` statement, the last `NAME = Definitions.merge(NAME, ...)` that
    follows it (earlier wiring: the new line goes after it), NAME and how the module spells Definitions."""
    direct = [
        node
        for node in tree.body
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        and isinstance(node.value, ast.Call)
        and _called_name(node.value.func) == "Definitions"
    ]
    chained = [n for n in tree.body if direct and _is_chained_merge(n, direct[0])]
    inside_chained = {id(n) for c in chained for n in ast.walk(c)}
    calls = [
        n
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and _called_name(n.func) == "Definitions" and id(n) not in inside_chained
    ]
    dynamic = [
        n
        for n in ast.walk(tree)
        if id(n) not in inside_chained
        and (
            (isinstance(n, ast.Call) and _called_name(n.func) in DYNAMIC_BUILDERS - {"definitions"})
            or (
                isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))
                and {_called_name(d.func if isinstance(d, ast.Call) else d) for d in n.decorator_list}
                & {"definitions", "repository"}
            )
        )
    ]
    if len(calls) > 1:
        where = ", ".join(str(c.lineno) for c in calls)
        raise WiringError(f"{shown}: several Definitions (lines {where}); Dagster loads one; {by_hand}")
    if not direct:
        if calls or dynamic:
            line = _first_line((dynamic or calls)[0])
            raise WiringError(
                f"{shown}:{line}: the Definitions is built dynamically, not as "
                f"`defs = Definitions(...)` at module level; {by_hand}"
            )
        raise WiringError(f"{shown}: builds no Definitions at module level; {by_hand}")
    statement = direct[0]
    if dynamic:
        line = _first_line(dynamic[0])
        raise WiringError(f"{shown}:{line}: definitions are also built dynamically there; {by_hand}")
    targets = statement.targets if isinstance(statement, ast.Assign) else [statement.target]
    if len(targets) != 1 or not isinstance(targets[0], ast.Name):
        problem = f"{shown}:{statement.lineno}: the Definitions is not assigned to one plain name"
        raise WiringError(f"{problem}; {by_hand}")
    target = targets[0].id
    for node in tree.body:
        if node is not statement and node not in chained and target in _assigned_names(node):
            raise WiringError(f"{shown}:{node.lineno}: {target} is assigned again there; {by_hand}")
    callee = ast.unparse(statement.value.func)
    return statement, (chained[-1] if chained else statement), target, callee


def _is_chained_merge(node: ast.stmt, definitions: ast.stmt) -> bool:
    """`NAME = <Definitions>.merge(NAME, ...)` after `NAME = Definitions(...)`: earlier wiring."""
    target = definitions.targets[0] if isinstance(definitions, ast.Assign) else definitions.target
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(target, ast.Name)):
        return False
    value = node.value
    return (
        node.lineno > definitions.lineno
        and isinstance(node.targets[0], ast.Name)
        and node.targets[0].id == target.id
        and isinstance(value, ast.Call)
        and isinstance(value.func, ast.Attribute)
        and value.func.attr == "merge"
        and _called_name(value.func.value) == "Definitions"
        and bool(value.args)
        and isinstance(value.args[0], ast.Name)
        and value.args[0].id == target.id
    )


def _first_line(node: ast.AST) -> int:
    """A node's first line, counting a function's decorators."""
    return min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", []))])


def _called_name(func: ast.AST) -> str | None:
    if isinstance(func, ast.Attribute):
        return func.attr
    return func.id if isinstance(func, ast.Name) else None


def _assigned_names(node: ast.stmt) -> set[str]:
    targets = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _top_level_names(tree: ast.Module) -> dict[str, int]:
    names: dict[str, int] = {}
    for node in tree.body:
        bound = _assigned_names(node)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            bound = {node.name}
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            bound = {(a.asname or a.name).split(".")[0] for a in node.names}
        for name in bound:
            names.setdefault(name, _first_line(node))
    return names


def _import_position(tree: ast.Module, definitions: ast.stmt) -> int:
    """Line index after the last module-level import above the Definitions (else after the docstring)."""
    after = 0
    for node in tree.body:
        if node.lineno >= definitions.lineno:
            break
        is_docstring = (
            node is tree.body[0]
            and isinstance(node, ast.Expr)
            and isinstance(getattr(node, "value", None), ast.Constant)
            and isinstance(node.value.value, str)
        )
        if isinstance(node, (ast.Import, ast.ImportFrom)) or is_docstring:
            after = node.end_lineno
    return after


def _same_statements(old: ast.Module, new_text: str, shown: str, by_hand: str) -> None:
    """The edited module holds every original statement unchanged, in order, plus two new ones."""
    new = ast.parse(new_text)
    old_dumps = [ast.dump(n) for n in old.body]
    new_dumps = [ast.dump(n) for n in new.body]
    kept = iter(new_dumps)
    if len(new_dumps) != len(old_dumps) + 2 or not all(d in kept for d in old_dumps):
        raise WiringError(f"{shown}: the edit would change existing statements; {by_hand}")


def _merge_line(target: str, callee: str, new_exports: list[str]) -> str:
    """`defs = Definitions.merge(defs, ...)`, one argument per line when one line would pass 100."""
    arguments = [target, *(e.replace("Definitions(", callee + "(", 1) for e in new_exports)]
    line = f"{target} = {callee}.merge({', '.join(arguments)})"
    if len(line) <= 100:
        return line
    return f"{target} = {callee}.merge(\n" + "".join(f"    {a},\n" for a in arguments) + ")"


def _by_hand(import_line: str, exports_: list[str], target: str = "defs", callee: str = "Definitions") -> str:
    """The tail of a refusal: nothing changed, and the lines to add (indented, one per line)."""
    return (
        "nothing changed. Add these lines by hand, the import with the others and the merge right "
        f"after your Definitions (here named {target}):\n    {import_line}\n    "
        + _merge_line(target, callee, exports_).replace("\n", "\n    ")
    )
