"""Which kind of Dagster project is this, and where do its definitions live?

Three kinds, looked for in this order (the first that matches wins):

- ``dg``: pyproject.toml has ``[tool.dg]``; definitions are autoloaded from the defs folder
  (scripts/dg_project.py finds it the way ``dg`` does).
- ``classic``: a code location that the ``dagster`` CLI loads: ``[tool.dagster] module_name``
  (or a one-entry ``modules`` list) in pyproject.toml, the same in a ``workspace.yaml``, or a
  ``setup.py``/``setup.cfg`` package holding a module that builds a ``Definitions``.
- ``module``: no configuration at all, but one module (at the root or one package down)
  that builds a ``Definitions``; ``dagster dev -f FILE`` or ``-m MODULE`` loads it.

Detection reads files only; it never imports the user's code. PyYAML is needed only when a
workspace.yaml is present (the ``dagster`` package brings it).
"""

from __future__ import annotations

import ast
import configparser
import os
from dataclasses import dataclass
from pathlib import Path

from dg_project import ProjectError, find_defs_dir, read_toml

DG, CLASSIC, MODULE = "dg", "classic", "module"
SKIP_DIRS = {".venv", "venv", "node_modules", "build", "dist", "tests", "docs", "__pycache__"}
CREATE_HINT = "create one with: uvx create-dagster@1.13.27 project NAME"


@dataclass(frozen=True)
class Project:
    kind: str  # DG, CLASSIC or MODULE
    root: Path  # where the dagster/dg commands run
    found: str  # what identified it, for the user: "[tool.dagster] module_name in pyproject.toml"
    defs_dir: Path | None = None  # dg only
    module: str | None = None  # classic/module: the dotted module that builds the Definitions
    module_file: Path | None = None
    workspace: Path | None = None  # classic from workspace.yaml: validate with -w

    def describe(self) -> str:
        if self.kind == DG:
            return f"dg project ({self.found}); defs folder {self.defs_dir}"
        label = "classic code location" if self.kind == CLASSIC else "bare module building a Definitions"
        return f"{label} ({self.found}); Definitions in {self.module_file} (module {self.module})"

    def target_args(self) -> list[str]:
        """`dagster` CLI options naming the code location's code (run from self.root): -m MODULE,
        or -f FILE for a workspace's python_file. (`asset materialize` and `job execute` take no -w.)"""
        if self.workspace is not None and self.found.startswith("workspace.yaml python_file"):
            return ["-f", os.path.relpath(self.module_file, self.root)]
        return ["-m", self.module]

    def validate_args(self) -> list[str]:
        """`dagster definitions validate` options: the workspace file when there is one."""
        return ["-w", self.workspace.name] if self.workspace is not None else self.target_args()


def detect(project_dir: Path) -> Project:
    """The project at project_dir, or ProjectError with one line saying why none was found."""
    root = project_dir.resolve()
    if not root.is_dir():
        raise ProjectError(f"{project_dir}: no such folder")
    pyproject = root / "pyproject.toml"
    data = read_toml(pyproject) if pyproject.is_file() else {}
    tool = data.get("tool", {}) if isinstance(data.get("tool"), dict) else {}
    if isinstance(tool.get("dg"), dict):
        return Project(DG, root, "[tool.dg] in pyproject.toml", defs_dir=find_defs_dir(root))
    if isinstance(tool.get("dagster"), dict):
        return _from_tool_dagster(root, pyproject, tool["dagster"])
    workspace = root / "workspace.yaml"
    if workspace.is_file():
        return _from_workspace(root, workspace)
    for setup in ("setup.py", "setup.cfg"):
        if (root / setup).is_file():
            module, path = _only_definitions_module(root, _setup_packages(root, setup), setup)
            return Project(
                CLASSIC, root, f"{setup} package {module.split('.')[0]}", module=module, module_file=path
            )
    module, path = _only_definitions_module(root, None, "the project folder", pyproject.is_file())
    return Project(
        MODULE, root, f"{path.relative_to(root)} builds a Definitions", module=module, module_file=path
    )


def _from_tool_dagster(root: Path, pyproject: Path, block: dict) -> Project:
    module = block.get("module_name")
    modules = [m.get("name") for m in block.get("modules", []) if isinstance(m, dict)]
    if module is None and len(modules) == 1:
        module, key = modules[0], "[tool.dagster] modules"
    else:
        key = "[tool.dagster] module_name"
    if len(modules) > 1:
        raise ProjectError(
            f"{pyproject}: [tool.dagster] lists several modules ({', '.join(map(str, modules))}); "
            "scaffold into one code location: run this in a folder whose pyproject.toml names one module_name"
        )
    if not isinstance(module, str) or not module:
        raise ProjectError(f"{pyproject}: [tool.dagster] names no module_name, so no code location to load")
    return Project(
        CLASSIC,
        root,
        f"{key} = {module!r} in pyproject.toml",
        module=module,
        module_file=_module_file(root, module, pyproject),
    )


def _from_workspace(root: Path, workspace: Path) -> Project:
    try:
        import yaml
    except ModuleNotFoundError:
        raise ProjectError(
            f"{workspace}: reading it needs PyYAML, missing from this Python: run with the project's "
            "interpreter (dagster brings PyYAML) or `uv run` the script itself"
        ) from None
    try:
        data = yaml.safe_load(workspace.read_text(encoding="utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{workspace}: not valid YAML: {str(exc).splitlines()[0]}") from exc
    entries = data.get("load_from") if isinstance(data, dict) else None
    if not isinstance(entries, list) or len(entries) != 1 or not isinstance(entries[0], dict):
        count = len(entries) if isinstance(entries, list) else 0
        raise ProjectError(
            f"{workspace}: load_from has {count} code locations; scaffold into one: run this in a folder "
            "whose workspace.yaml loads exactly one"
        )
    ((kind, target),) = entries[0].items() if len(entries[0]) == 1 else ((None, None),)
    options = target if isinstance(target, dict) else {}
    where = root / options.get("working_directory", ".")
    if kind in ("python_module", "python_package"):
        name_key = "module_name" if kind == "python_module" else "package_name"
        module = target if isinstance(target, str) else options.get(name_key)
        if isinstance(module, str):
            return Project(
                CLASSIC,
                root,
                f"workspace.yaml {kind} {module!r}",
                module=module,
                module_file=_module_file(where, module, workspace),
                workspace=workspace,
            )
    if kind == "python_file":
        relative = target if isinstance(target, str) else options.get("relative_path")
        if isinstance(relative, str):
            path = (root / relative).resolve()
            if not path.is_file():
                raise ProjectError(f"{workspace}: python_file {relative} does not exist")
            return Project(
                CLASSIC,
                root,
                f"workspace.yaml python_file {relative!r}",
                module=path.stem,
                module_file=path,
                workspace=workspace,
            )
    raise ProjectError(
        f"{workspace}: its load_from entry is not a python_module, python_package or python_file"
    )


def _module_file(base: Path, module: str, named_in: Path) -> Path:
    """The file of a dotted module under base (or base/src), as Python would import it."""
    parts = module.split(".")
    for folder in (base, base / "src"):
        for path in (folder.joinpath(*parts).with_suffix(".py"), folder.joinpath(*parts, "__init__.py")):
            if path.is_file():
                return path
    raise ProjectError(
        f"{named_in}: module {module!r} does not exist (looked for {'/'.join(parts)}.py and "
        f"{'/'.join(parts)}/__init__.py under {base} and {base / 'src'})"
    )


def _setup_packages(root: Path, setup: str) -> list[str] | None:
    """Top-level package names that setup.cfg/setup.py list (None: not stated literally)."""
    names: list[str] = []
    try:
        if setup == "setup.cfg":
            config = configparser.ConfigParser()
            config.read(root / setup, encoding="utf-8")
            raw = (
                config.get("options", "packages", fallback="")
                + "\n"
                + config.get("metadata", "name", fallback="")
            )
            names = [n.strip() for n in raw.replace(",", "\n").splitlines() if n.strip()]
        else:
            tree = ast.parse((root / setup).read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, ast.keyword) and node.arg in ("name", "packages"):
                    try:
                        value = ast.literal_eval(node.value)
                    except ValueError:
                        continue
                    names += [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]
    except (configparser.Error, SyntaxError, UnicodeDecodeError, ValueError):
        return None
    packages = {n.replace("-", "_").split(".")[0] for n in names}
    return sorted(p for p in packages if p.isidentifier()) or None


def _only_definitions_module(
    root: Path, packages: list[str] | None, where: str, has_pyproject: bool = True
) -> tuple[str, Path]:
    """The one module under root that builds a Definitions at module level."""
    found = [(m, p) for m, p in _candidate_modules(root, packages) if builds_definitions(p)]
    if not found:
        config = (
            "its pyproject.toml has no [tool.dg] or [tool.dagster] table"
            if has_pyproject
            else "no pyproject.toml"
        )
        raise ProjectError(
            f"{root}: not a Dagster project: {config}, no workspace.yaml, and no module in {where} builds "
            f"a Definitions ({CREATE_HINT})"
        )
    if len(found) > 1:
        listed = ", ".join(str(p.relative_to(root)) for _, p in found)
        raise ProjectError(
            f"{root}: several modules in {where} build a Definitions ({listed}); Dagster loads one per code "
            'location: name it in pyproject.toml ([tool.dagster] module_name = "...") and rerun'
        )
    return found[0]


def _candidate_modules(root: Path, packages: list[str] | None):
    bases = [root, root / "src"] if (root / "src").is_dir() else [root]
    for base in bases:
        if packages is None and base == root:
            for path in sorted(base.glob("*.py")):
                if path.name not in ("setup.py", "conftest.py"):
                    yield path.stem, path
        for folder in sorted(p for p in base.iterdir() if p.is_dir()):
            if folder.name in SKIP_DIRS or folder.name.startswith(".") or not folder.name.isidentifier():
                continue
            if packages is not None and folder.name not in packages:
                continue
            if not (folder / "__init__.py").is_file():
                continue
            for path in sorted(folder.glob("*.py")):
                module = folder.name if path.name == "__init__.py" else f"{folder.name}.{path.stem}"
                yield module, path


def builds_definitions(path: Path) -> bool:
    """Does this file call Definitions(...) at module level? (read, never imported)"""
    try:
        tree = ast.parse(path.read_bytes())
    except (SyntaxError, ValueError, OSError):
        return False
    for node in tree.body:
        value = getattr(node, "value", None)
        if isinstance(node, (ast.Assign, ast.AnnAssign)) and isinstance(value, ast.Call):
            func = value.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name == "Definitions":
                return True
    return False
