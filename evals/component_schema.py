"""The YAML schema of DltLoadCollectionComponent, compared with a committed snapshot.

`dg utils inspect-component dagster_dlt.DltLoadCollectionComponent --defs-yaml-schema`
prints the attributes a defs.yaml may set, one per line with its type and whether it is
required. The snapshot (evals/snapshots/) is what the skill was written against; a new
dagster-dlt that renames, drops or adds an attribute shows up as a line diff here rather
than as a confusing case failure.

    python -m evals.component_schema            print the diff; exit 1 when it differs
    python -m evals.component_schema --update   rewrite the snapshot from the installed package
"""

from __future__ import annotations

import argparse
import difflib
import sys
import tempfile
from pathlib import Path

from evals.commands import run_command
from evals.project import create_project, isolated_env

COMPONENT = "dagster_dlt.DltLoadCollectionComponent"
SNAPSHOT = Path(__file__).parent / "snapshots" / "DltLoadCollectionComponent.defs-yaml-schema.yaml"


def installed() -> str:
    """The schema as the installed dagster-dlt and dg print it (run in a throwaway project)."""
    with tempfile.TemporaryDirectory(prefix="dlt-dagster-component-schema-") as scratch:
        project = create_project(Path(scratch) / "project", "schemaproj")
        done = run_command(
            [
                str(Path(sys.executable).parent / "dg"),
                "utils",
                "inspect-component",
                COMPONENT,
                "--defs-yaml-schema",
            ],
            project.root,
            isolated_env(project, Path(scratch) / "case"),
            timeout=300,
            stderr_apart=True,
        )
    if done.returncode != 0:
        raise RuntimeError(f"dg utils inspect-component {COMPONENT} failed:\n{done.output}{done.stderr}")
    return done.output


def diff(expected: str, actual: str) -> str:
    """A unified diff, snapshot first; empty when they are equal."""
    return "".join(
        difflib.unified_diff(
            expected.splitlines(keepends=True),
            actual.splitlines(keepends=True),
            fromfile=f"{SNAPSHOT.relative_to(SNAPSHOT.parents[2])} (snapshot)",
            tofile=f"{COMPONENT} (installed)",
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m evals.component_schema", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--update", action="store_true", help="rewrite the snapshot from the installed package"
    )
    args = parser.parse_args(argv)
    actual = installed()
    if args.update:
        SNAPSHOT.write_text(actual, encoding="utf-8")
        print(f"wrote {SNAPSHOT}")
        return 0
    changes = diff(SNAPSHOT.read_text(encoding="utf-8"), actual)
    print(changes or f"{COMPONENT}: the installed schema matches the snapshot")
    return 1 if changes else 0


if __name__ == "__main__":
    sys.exit(main())
