"""Scaffold into a classic code location (or a bare module): new modules beside the module
that builds the Definitions, wired into it by scripts/wire_definitions.py.

scaffold.py renders the same templates as for a dg project; this module decides where the
files go, what the edit of the existing Definitions is, and which `dagster` commands check
and run the result. Nothing here writes: scaffold.py's all-or-nothing writer does, after a
.bak copy of the edited file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from project_kind import Project
from wire_definitions import Wiring, WiringError, exports, plan_wiring

ROOT_MARKERS = ("pyproject.toml", "setup.py", "setup.cfg", "workspace.yaml")


class ClassicError(Exception):
    """Refused; the first line says why (nothing was written)."""


@dataclass
class ClassicPlan:
    package_dir: Path
    writes: list[tuple[Path, str]] = field(default_factory=list)
    backups: list[Path] = field(default_factory=list)
    wiring: Wiring | None = None
    next_steps: list[str] = field(default_factory=list)


def template_variables(project: Project) -> dict[str, str]:
    """Variables that make the rendered files find this project's root (the DuckDB file lives there)."""
    marker = next(m for m in (*ROOT_MARKERS, "") if not m or (project.root / m).is_file())
    if not marker:
        raise ClassicError(
            f"{project.root}: no pyproject.toml, setup.py, setup.cfg or workspace.yaml at the project root, "
            "which the generated code looks for to find it; add a pyproject.toml (uv init --bare) and rerun"
        )
    return {} if marker == "pyproject.toml" else {"project_root_marker": marker}


def plan(project: Project, approach: str, rendered: list, force: bool) -> ClassicPlan:
    """Where each rendered file goes and the edit that wires it in; ClassicError if refused."""
    if approach == "component":
        raise ClassicError(
            f"{project.describe()}: the component approach needs a dg project ([tool.dg]); in this "
            "project use --approach pythonic (or asset), which adds Python modules and wires them in"
        )
    module_file = project.module_file
    package_dir = module_file.parent
    package = _package_of(project.module, module_file)
    if not _writable(module_file):
        raise ClassicError(f"{module_file}: read-only, so its Definitions cannot be wired; nothing changed")
    if not _writable(package_dir):
        raise ClassicError(f"{package_dir}: read-only folder, so no module can be added; nothing changed")
    result = ClassicPlan(package_dir=package_dir)
    names, offered = [], []
    for file in rendered:
        target = package_dir / file.path
        if target.exists() or target.is_symlink():
            if not force:
                raise ClassicError(f"{target} exists; rerun with --force to replace it (a .bak copy is kept)")
            result.backups.append(target)
        result.writes.append((target, file.text))
        name = Path(file.path).stem
        names.append(name)
        offered += exports(name, file.text)
    import_line = f"from {package} import {', '.join(names)}" if package else f"import {', '.join(names)}"
    try:
        result.wiring = plan_wiring(module_file, import_line, offered, names)
    except WiringError as exc:
        raise ClassicError(str(exc)) from exc
    if result.wiring is not None:
        result.writes.append((module_file, result.wiring.new_text))
        result.backups.append(module_file)
    target = " ".join(project.target_args())
    result.next_steps = [
        f"uv run dagster definitions validate {target}",
        f"uv run dagster asset materialize {target} --select '*'",
    ]
    return result


def _package_of(module: str, module_file: Path) -> str | None:
    """The package the new modules join (None: a top-level module, imported by its bare name)."""
    if module_file.name == "__init__.py":
        return module
    return module.rpartition(".")[0] or None


def _writable(path: Path) -> bool:
    """Writable by us, and not marked read-only (root may write a file whose mode forbids it)."""
    return os.access(path, os.W_OK) and bool(path.stat().st_mode & 0o222)
