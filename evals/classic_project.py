"""Throwaway classic Dagster code locations, laid out as `dagster project scaffold` 1.13.27 writes them.

pyproject.toml (`[tool.dagster] module_name = "<name>.definitions"`), <name>/__init__.py,
<name>/assets.py and <name>/definitions.py are the files that command writes (README.md and
the <name>_tests folder left out: no `dagster` command reads them); tests/test_classic_project.py
runs the real command and compares. With `existing=True` definitions.py is instead one that
already has assets, a resource, a job and a schedule, the case a scaffold must leave intact.
There is no src/ folder: `dagster` puts its working directory (the root) on the import path.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

SKELETON = Path(__file__).parent / "classic_skeleton"


@dataclass(frozen=True)
class ClassicProject:
    root: Path
    name: str

    @property
    def package_dir(self) -> Path:
        return self.root / self.name

    @property
    def definitions_file(self) -> Path:
        return self.package_dir / "definitions.py"

    @property
    def defs_dir(self) -> Path:
        """Where new modules go (the harness's name for it): the Definitions module's package."""
        return self.package_dir

    @property
    def module(self) -> str:
        return f"{self.name}.definitions"


def create_classic_project(root: Path, name: str, existing: bool = False) -> ClassicProject:
    """Write a fresh classic code location named `name` into the empty or missing folder `root`."""
    if root.exists() and any(root.iterdir()):
        raise FileExistsError(f"{root} is not empty")
    project = ClassicProject(root=root, name=name)
    project.package_dir.mkdir(parents=True)
    definitions = "existing_definitions.py.tmpl" if existing else "definitions.py.tmpl"
    for source, target in (
        ("pyproject.toml", root / "pyproject.toml"),
        (definitions, project.definitions_file),
        ("assets.py", project.package_dir / "assets.py"),
    ):
        text = (SKELETON / source).read_text(encoding="utf-8")
        target.write_text(text.replace("{name}", name), encoding="utf-8")
    (project.package_dir / "__init__.py").write_text("\n", encoding="utf-8")
    return project
