"""Check a Dagster instance's `dagster.yaml` and Dagster+ deployment settings with dagster's own code.

`dagster.yaml` goes through `dagster_instance_config`, the loader `DagsterInstance` itself
uses (schema plus the cross-field rules, such as `run_queue` against `concurrency`).
Dagster+ deployment settings have no schema in any package installed here (Dagster+
validates them on upload); their `concurrency` mapping has the instance's shape, so it is
checked against that, and any other top-level key is refused rather than passed unchecked.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Any

import yaml

PLUS_SETTINGS_CHECKED = ("concurrency",)


def instance_problems(document: Any) -> str | None:
    """None when `document` loads as an instance's dagster.yaml, else dagster's message."""
    from dagster._core.errors import DagsterInvalidConfigError
    from dagster._core.instance.config import dagster_instance_config

    with tempfile.TemporaryDirectory(prefix="dlt-dagster-instance-") as home:
        (Path(home) / "dagster.yaml").write_text(yaml.safe_dump(document), encoding="utf-8")
        try:
            dagster_instance_config(home)
        except DagsterInvalidConfigError as exc:
            return " ".join(str(exc).split())[:600]
        except Exception as exc:  # the loader's own rules raise plain dagster errors
            return f"{type(exc).__name__}: {' '.join(str(exc).split())[:600]}"
    return None


def plus_settings_problems(document: Any) -> str | None:
    """None when the settings' `concurrency` passes dagster's instance schema and nothing else is there."""
    if not isinstance(document, dict):
        return "deployment settings must be a YAML mapping"
    unchecked = sorted(set(document) - set(PLUS_SETTINGS_CHECKED))
    if unchecked:
        return f"no schema to check {', '.join(unchecked)} against (only {', '.join(PLUS_SETTINGS_CHECKED)})"
    return instance_problems({key: document[key] for key in PLUS_SETTINGS_CHECKED if key in document})
