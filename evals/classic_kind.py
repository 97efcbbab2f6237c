"""The classic project kind: a code location run by the `dagster` CLI, no `dg`.

The project is laid out as `dagster project scaffold` 1.13.27 writes it
(evals/classic_project.py); `classic_existing` starts from a definitions.py that already has
assets, a resource, a job and a schedule. Check is `dagster definitions validate -m
MODULE`, a launch is `dagster asset materialize -m MODULE --select ...` (or `dagster job
execute -j JOB`), asset keys come from `dagster asset list`. Files a template renders are
added the way scripts/scaffold.py adds them: beside the Definitions module, wired in by
scripts/classic_scaffold.py (the same code, so a template case proves the wiring too).
"""

from __future__ import annotations

import re
from pathlib import Path

from evals.cases import Launch
from evals.classic_project import ClassicProject, create_classic_project
from evals.skill import SKILL_ROOT  # noqa: F401 (puts scripts/ on sys.path)

IN_PROCESS_CONFIG = '{"execution": {"config": {"in_process": {}}}}'
ASSET_KEY_LINE = re.compile(r"^[A-Za-z0-9_\-]+(/[A-Za-z0-9_\-]+)*$")


class ClassicKind:
    """A classic code location, run by the `dagster` CLI."""

    program = "dagster"
    check_success = "All code locations passed validation."
    launch_success = "RUN_SUCCESS"

    def __init__(self, name: str, existing: bool):
        self.name = name
        self.existing = existing

    def create(self, root: Path, name: str) -> ClassicProject:
        return create_classic_project(root, name, existing=self.existing)

    def load(self, root: Path) -> ClassicProject:
        import project_kind

        found = project_kind.detect(root)
        return ClassicProject(root=root, name=found.module.split(".")[0])

    def install(self, project: ClassicProject, rendered: list) -> None:
        """Write rendered files beside the Definitions module and wire them in, as scaffold.py does."""
        import classic_scaffold
        import project_kind

        plan = classic_scaffold.plan(project_kind.detect(project.root), "pythonic", rendered, force=False)
        for path, text in plan.writes:
            path.write_text(text, encoding="utf-8")

    def check_argv(self, project: ClassicProject) -> list[str]:
        return ["dagster", "definitions", "validate", "-m", project.module]

    def launch_argv(self, project: ClassicProject, step: Launch) -> list[str]:
        if step.job is not None:
            if step.assets or step.partition or step.partition_range:
                raise ValueError("a classic launch of a job takes no asset selection or partition")
            argv = ["dagster", "job", "execute", "-m", project.module, "-j", step.job]
        else:
            argv = ["dagster", "asset", "materialize", "-m", project.module, "--select", step.assets or "*"]
            if step.partition is not None:
                argv += ["--partition", step.partition]
            if step.partition_range is not None:
                argv += ["--partition-range", step.partition_range]
        if step.config is not None:
            import json

            argv += ["--config-json", json.dumps(step.config)]
        return argv

    def in_process_argv(self, argv: list[str]) -> list[str]:
        """Plain asset materializations (no run config) get the in-process executor."""
        if argv[1:3] == ["asset", "materialize"] and "--config-json" not in argv:
            return [*argv, "--config-json", IN_PROCESS_CONFIG]
        return argv

    def list_assets_argv(self, project: ClassicProject) -> list[str]:
        return ["dagster", "asset", "list", "-m", project.module]

    def asset_keys(self, output: str) -> set[tuple[str, ...]]:
        """`dagster asset list` prints one executable asset key per line, parts joined by '/'."""
        return {tuple(line.split("/")) for line in output.splitlines() if ASSET_KEY_LINE.match(line.strip())}


CLASSIC = ClassicKind("classic", existing=False)
CLASSIC_EXISTING = ClassicKind("classic_existing", existing=True)
