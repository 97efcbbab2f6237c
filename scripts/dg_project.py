"""Find a dg project's defs folder the way `dg` does (dagster_dg_core.context, 1.13).

pyproject.toml must have `[tool.dg]` with `directory_type = "project"` and
`[tool.dg.project] root_module`; the defs module is `defs_module` or `<root_module>.defs`
(falling back to `<root_module>.definitions` when `defs` does not exist), looked up under
`src/` when the project has one, else at the root.
"""

from __future__ import annotations

from pathlib import Path

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10: dagster depends on tomli
    import tomli as tomllib

CREATE_HINT = "create one with: uvx create-dagster@1.13.27 project NAME"


class ProjectError(Exception):
    """Not a dg project, or one whose defs folder cannot be used; the message says which."""


def read_toml(path: Path) -> dict:
    """A TOML file (pyproject.toml), or ProjectError with one line: not UTF-8, or invalid TOML."""
    try:
        return tomllib.loads(path.read_bytes().decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise ProjectError(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ProjectError(f"{path}: invalid TOML: {exc}") from exc


def read_dg_config(project_dir: Path) -> dict:
    pyproject = project_dir / "pyproject.toml"
    if not pyproject.is_file():
        raise ProjectError(
            f"{project_dir.resolve()}: no pyproject.toml, so not a Dagster project ({CREATE_HINT})"
        )
    data = read_toml(pyproject)
    dg = data.get("tool", {}).get("dg")
    if not isinstance(dg, dict):
        raise ProjectError(
            f"{pyproject}: no [tool.dg] table, so not a dg project. For a code-only Dagster project, add "
            f"the Pythonic definitions by hand (see references/pythonic.md) or {CREATE_HINT}"
        )
    if dg.get("directory_type", "project") != "project":
        raise ProjectError(
            f"{pyproject}: a dg {dg.get('directory_type')}; run this inside one of its projects"
        )
    project = dg.get("project")
    if not isinstance(project, dict) or not isinstance(project.get("root_module"), str):
        raise ProjectError(f"{pyproject}: [tool.dg.project] has no root_module")
    return project


def find_defs_dir(project_dir: Path) -> Path:
    project_dir = project_dir.resolve()
    project = read_dg_config(project_dir)
    root_module = project["root_module"]
    base = project_dir / "src" if (project_dir / "src").exists() else project_dir
    candidates = (
        [project.get("defs_module")]
        if project.get("defs_module")
        else [
            f"{root_module}.defs",
            f"{root_module}.definitions",
        ]
    )
    for module in candidates:
        path = base.joinpath(*module.split("."))
        if path.is_dir():
            return _inside_project(path, project_dir)
    expected = base.joinpath(*candidates[0].split(".")).relative_to(project_dir)
    raise ProjectError(f"{project_dir}: defs folder {expected} not found (module {candidates[0]})")


def _inside_project(defs_dir: Path, project_dir: Path) -> Path:
    resolved = defs_dir.resolve()
    if not resolved.is_relative_to(project_dir):
        raise ProjectError(
            f"{defs_dir}: the defs folder resolves to {resolved}, outside the project {project_dir}; "
            "refusing to write there"
        )
    return defs_dir
