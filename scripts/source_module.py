"""`scaffold.py --source-module MODULE:FUNCTION`: check the user's own @dlt.source before the
generated code imports it, by reading the module's file (never importing it: an import
could run a load).

Refused, with what to do: a module the project cannot import (a dg project imports its
package under src/ and installed packages, not files at the project root), a function that
is not a `@dlt.source` (a `@dlt.resource` is shown how to wrap), and a module that runs a
load when imported (`pipeline.run(...)` outside `if __name__ == "__main__":`), which Dagster
would do each time it loads the definitions.
"""

from __future__ import annotations

import ast
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

SPEC = re.compile(r"^(?P<module>[A-Za-z_]\w*(\.[A-Za-z_]\w*)*):(?P<function>[A-Za-z_]\w*)$")
LOAD_CALLS = ("run", "extract", "normalize")  # pipeline.run() and its steps (not json.load and the like)
SCRIPTS_DIR = Path(__file__).resolve().parent


class SourceModuleError(Exception):
    """The module or function cannot be used; the message says why and what to do."""


@dataclass
class Vetted:
    module: str
    function: str
    path: Path  # the module's file
    env_vars: list[str] = field(default_factory=list)  # of its dlt.secrets.value / dlt.config.value arguments
    notes: list[str] = field(default_factory=list)


def parse(spec: str) -> tuple[str, str]:
    match = SPEC.match(spec)
    if not match:
        raise SourceModuleError(
            f"--source-module {spec!r}: expected MODULE:FUNCTION, e.g. my_project.sources.crm:crm_source"
        )
    return match["module"], match["function"]


def import_roots(project_root: Path, dg_project: bool) -> list[Path]:
    """Where the project's code imports modules from: its src/ (and, for a classic code
    location run from its root, the root itself), then installed packages."""
    roots = [project_root / "src"] + ([] if dg_project else [project_root])
    here = {SCRIPTS_DIR, project_root.resolve()}
    roots += [Path(p) for p in sys.path if p and Path(p).is_dir() and Path(p).resolve() not in here]
    return roots


def find_file(module: str, roots: list[Path]) -> Path | None:
    relative = Path(*module.split("."))
    for root in roots:
        for candidate in (root / relative.with_suffix(".py"), root / relative / "__init__.py"):
            if candidate.is_file():
                return candidate
    return None


def vet(spec: str, project_root: Path, dg_project: bool) -> Vetted:
    module, function = parse(spec)
    project_root = project_root.resolve()
    path = find_file(module, import_roots(project_root, dg_project))
    if path is None:
        beside = find_file(module, [project_root])
        if beside is not None:
            raise SourceModuleError(
                f"--source-module {spec}: {beside} is at the project root, outside the package, and a dg "
                "project does not import from there (ModuleNotFoundError in dg check defs). Move it into "
                "src/<your package>/ and name it by its package path, "
                f"e.g. <your package>.{module}:{function}"
            )
        raise SourceModuleError(
            f"--source-module {spec}: no module {module} under {project_root / 'src'}"
            f"{'' if dg_project else ' or ' + str(project_root)} or among the installed packages"
        )
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    except (OSError, SyntaxError) as exc:
        raise SourceModuleError(f"--source-module {spec}: cannot read {path}: {exc}") from exc
    _refuse_loads_at_import(tree, path, spec)
    definition = _function(tree, function, path, spec)
    vetted = Vetted(module, function, path)
    section = module.rsplit(".", 1)[-1]
    name = _source_name(definition) or function
    for arg, kind in _injected_arguments(definition):
        variable = f"SOURCES__{section.upper()}__{name.upper()}__{arg.upper()}"
        vetted.env_vars.append(variable if kind == "secrets" else f"{variable} (config: or .dlt/config.toml)")
    own_config = [p / ".dlt" for p in path.parents if p != project_root and project_root in p.parents]
    for folder in own_config:
        if folder.is_dir():
            vetted.notes.append(
                f"{folder} is not read when Dagster runs the pipeline: dlt reads .dlt/ from the folder "
                f"`dg launch` starts in (the project root). Move its config.toml to {project_root / '.dlt'} "
                "and give secrets as env vars"
            )
    return vetted


def _decorator_name(node: ast.expr) -> str:
    target = node.func if isinstance(node, ast.Call) else node
    if isinstance(target, ast.Attribute):
        return target.attr
    return target.id if isinstance(target, ast.Name) else ""


def _function(tree: ast.Module, function: str, path: Path, spec: str) -> ast.FunctionDef:
    defs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    sources = [name for name, n in defs.items() if "source" in map(_decorator_name, n.decorator_list)]
    if function not in defs:
        found = f"; its @dlt.source functions: {', '.join(sources)}" if sources else ""
        raise SourceModuleError(f"--source-module {spec}: {path} defines no function {function}{found}")
    decorators = [_decorator_name(d) for d in defs[function].decorator_list]
    if "source" in decorators:
        return defs[function]
    if "resource" in decorators:
        raise SourceModuleError(
            f"--source-module {spec}: {function} is a @dlt.resource; the loads take a @dlt.source. "
            f"Add one beside it in {path.name} and name that instead:\n"
            f"    @dlt.source\n    def {function}_source():\n        return {function}()"
        )
    raise SourceModuleError(f"--source-module {spec}: {function} in {path} is not decorated with @dlt.source")


def _source_name(definition: ast.FunctionDef) -> str | None:
    """name= of @dlt.source(name=...), the source's name (its config section) if given."""
    for decorator in definition.decorator_list:
        if isinstance(decorator, ast.Call) and _decorator_name(decorator) == "source":
            for keyword in decorator.keywords:
                if keyword.arg == "name" and isinstance(keyword.value, ast.Constant):
                    return str(keyword.value.value)
    return None


def _injected_arguments(definition: ast.FunctionDef) -> list[tuple[str, str]]:
    """(argument, "secrets" or "config") for defaults dlt.secrets.value / dlt.config.value: dlt
    injects those from the environment (SOURCES__<module>__<source name>__<ARGUMENT>)."""
    arguments = definition.args
    positional = arguments.posonlyargs + arguments.args
    pairs = list(
        zip(positional[len(positional) - len(arguments.defaults) :], arguments.defaults, strict=True)
    )
    pairs += [
        (a, d) for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True) if d is not None
    ]
    found = []
    for arg, default in pairs:
        text = ast.unparse(default)
        for kind in ("secrets", "config"):
            if text in (f"dlt.{kind}.value", f"{kind}.value"):
                found.append((arg.arg, kind))
    return found


def _refuse_loads_at_import(tree: ast.Module, path: Path, spec: str) -> None:
    for statement in tree.body:
        if isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) or _is_main_guard(
            statement
        ):
            continue
        for node in ast.walk(statement):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in LOAD_CALLS
            ):
                raise SourceModuleError(
                    f"--source-module {spec}: importing {path} runs {ast.unparse(node)} "
                    f"(line {node.lineno}), and Dagster imports it each time it loads the definitions. "
                    'Put that code under `if __name__ == "__main__":`'
                )


def _is_main_guard(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.If)
        and isinstance(statement.test, ast.Compare)
        and ast.unparse(statement.test).replace("'", '"')
        in ('__name__ == "__main__"', '"__main__" == __name__')
    )
