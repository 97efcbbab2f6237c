"""Fail with one line, not a traceback, when this Python lacks a package a script needs.

The scripts run with the project's own interpreter (so they see its dagster), and that
environment may not hold jinja2, pyyaml or jsonschema (dagster-dg-cli brings them; plain
dagster does not bring jsonschema). Each script's PEP 723 header declares them, so
`uv run path/to/script.py` fetches them into a throwaway environment.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

EXIT_MISSING = 7


def require(script: Path, modules: dict[str, str]) -> None:
    """Exit 7 with one line naming what is missing and the command that brings it."""
    missing = [package for module, package in modules.items() if importlib.util.find_spec(module) is None]
    if missing:
        print(
            f"{script.name}: this Python ({sys.executable}) lacks {', '.join(missing)}; run "
            f"`uv run {script} ...` instead (its PEP 723 header fetches them), or add them to the project: "
            f"uv add --dev {' '.join(missing)}",
            file=sys.stderr,
        )
        sys.exit(EXIT_MISSING)
