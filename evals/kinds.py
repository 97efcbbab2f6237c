"""Project kinds: which CLI commands build, check, launch and list a kind of Dagster project.

A case builds one kind of project (`Case.project_kind`, default "dg") and runs it only
through its kind, so the stages never spell out a CLI. A kind is a small object with:

    name            the case's `project_kind` that selects it
    program         the console script its commands run ("dg"); argv[0] of every command
    check_success   text the check command prints only when it really finished
    launch_success  text a launch prints only when the run succeeded (an exit code of 0
                    alone is no proof: project code may call sys.exit(0) half-way)
    create(root, name) -> Project       lay out a fresh, empty project at `root`
    load(root) -> Project               an existing project (one an agent built)
    check_argv(project)                 argv that loads every definition
    launch_argv(project, step)          argv that runs one Launch step
    in_process_argv(argv)               fast mode: the same argv with plain asset launches
                                        in-process (no step subprocess); other argv unchanged
    install(project, rendered)          add rendered template files to the project
    list_assets_argv(project)           argv that lists the asset definitions
    asset_keys(output)                  the executable asset keys in that list's output

`DG` (a `create-dagster project`, `dg check defs`, `dg launch`, `dg list defs --json`) is
the first kind. evals/classic_kind.py adds `classic` and `classic_existing` (a code location
run by the `dagster` CLI). Another kind
implements the same attributes and registers itself in KINDS; the runners
(evals/cli_runners.py) run any console script, in a real process or a warm fork.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Protocol

from evals.cases import Case, Launch
from evals.classic_kind import CLASSIC, CLASSIC_EXISTING
from evals.project import Project, create_project
from evals.skill import dg_project

IN_PROCESS_CONFIG = '{"execution": {"config": {"in_process": {}}}}'


class ProjectKind(Protocol):
    name: str
    program: str
    check_success: str
    launch_success: str

    def create(self, root: Path, name: str) -> Project: ...
    def load(self, root: Path) -> Project: ...
    def check_argv(self, project: Project) -> list[str]: ...
    def launch_argv(self, project: Project, step: Launch) -> list[str]: ...
    def in_process_argv(self, argv: list[str]) -> list[str]: ...
    def install(self, project: Project, rendered: list) -> None: ...
    def list_assets_argv(self, project: Project) -> list[str]: ...
    def asset_keys(self, output: str) -> set[tuple[str, ...]]: ...


class DgProject:
    """A project as `create-dagster project` lays it out, run by the `dg` CLI."""

    name = "dg"
    program = "dg"
    check_success = "All definitions loaded successfully."
    launch_success = "RUN_SUCCESS"

    def create(self, root: Path, name: str) -> Project:
        return create_project(root, name)

    def load(self, root: Path) -> Project:
        return Project(root=root, name=dg_project.read_dg_config(root)["root_module"])

    def check_argv(self, project: Project) -> list[str]:
        return ["dg", "check", "defs"]

    def launch_argv(self, project: Project, step: Launch) -> list[str]:
        return ["dg", "launch", *step.to_argv()]

    def in_process_argv(self, argv: list[str]) -> list[str]:
        """Plain asset launches (no job, no run config) get the in-process executor."""
        if argv[1:2] == ["launch"] and "--assets" in argv and "--config-json" not in argv:
            return [*argv, "--config-json", IN_PROCESS_CONFIG]
        return argv

    def install(self, project: Project, rendered: list) -> None:
        """Write each rendered file into the defs folder, where dg autoloads it."""
        for file in rendered:
            target = project.defs_dir / file.path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(file.text, encoding="utf-8")

    def list_assets_argv(self, project: Project) -> list[str]:
        return ["dg", "list", "defs", "--json"]

    def asset_keys(self, output: str) -> set[tuple[str, ...]]:
        return {key_parts(a) for a in listed_assets(output) if a.get("is_executable", True)}


def listed_assets(output: str) -> list[dict]:
    """The assets in `dg list defs --json` output, which log lines may surround.

    dg 1.13 prints {"assets": [...], "resources": [...], ...}; dg 1.11 prints one list
    of assets ({"key": "a/b", "kinds": [...], ...}) and resources ({"name", "type"}).
    """
    lines = output.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.rstrip() in ("{", "[")), None)
    if start is None:
        raise ValueError(f"no JSON in dg list defs output:\n{output[-2000:]}")
    listed, _ = json.JSONDecoder().raw_decode("".join(lines[start:]))
    if isinstance(listed, dict):
        return listed["assets"]
    return [entry for entry in listed if "key" in entry and "kinds" in entry]


def key_parts(asset: dict) -> tuple[str, ...]:
    """dg 1.13 lists `asset_key_parts`; dg 1.11-1.12 only `key`, the parts joined by "/"."""
    if "asset_key_parts" in asset:
        return tuple(asset["asset_key_parts"])
    return tuple(asset["key"].split("/"))


DG = DgProject()
KINDS: dict[str, ProjectKind] = {DG.name: DG, CLASSIC.name: CLASSIC, CLASSIC_EXISTING.name: CLASSIC_EXISTING}


def kind_of(case: Case) -> ProjectKind:
    return KINDS[case.project_kind]
