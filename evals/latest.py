"""The newest releases, resolved at run time by uv's resolver against the package index
(not from uv.lock), for the nightly drift run (evals/matrix.py `latest`, `latest-dagster`).

- `latest`: the newest dagster-dlt, the dagster and dagster-dg-cli it allows, the newest dlt.
- `latest-dagster`: the newest dagster even where dagster-dlt (or dg) lags: when their
  exact pins block it, the set says so and installs it over those pins (uv --override),
  so the run shows whether the skill would work once they catch up.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from evals.commands import run_command

PACKAGES = ("dagster", "dagster-dg-cli", "dagster-dlt", "dlt")


class ResolveError(Exception):
    """uv could not resolve; the message holds its explanation."""


@dataclass
class Resolved:
    versions: dict[str, str]  # the four packages under test
    notes: list[str] = field(default_factory=list)
    overrides: dict[str, str] = field(default_factory=dict)  # installed over other packages' pins

    @property
    def blocked(self) -> bool:
        return bool(self.overrides)


def compile_versions(requirements: list[str], python: str, no_deps: bool = False) -> dict[str, str]:
    """Name -> version that `uv pip compile` picks for the requirements (highest allowed)."""
    uv = shutil.which("uv")
    if uv is None:
        raise ResolveError("uv is not on PATH")
    command = [uv, "pip", "compile", "-", "--quiet", "--no-header", "--no-annotate"]
    command += ["--python-version", python] + (["--no-deps"] if no_deps else [])
    done = run_command(
        command,
        Path.cwd(),
        dict(os.environ),
        timeout=300,
        stdin_text="\n".join(requirements) + "\n",
        stderr_apart=True,
    )
    if done.timed_out:
        raise ResolveError(f"uv pip compile {' '.join(requirements)}: timed out")
    if done.returncode != 0:
        reason = " ".join(done.stderr.split())[:600]
        raise ResolveError(f"uv cannot resolve {' '.join(requirements)}: {reason}")
    pins = re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", done.output, re.MULTILINE)
    return {name.lower().replace("_", "-"): version for name, version in pins}


def newest(package: str, python: str) -> str:
    return compile_versions([package], python, no_deps=True)[package]


def latest(python: str) -> Resolved:
    dagster_dlt = newest("dagster-dlt", python)
    chosen = compile_versions([f"dagster-dlt=={dagster_dlt}", "dagster-dg-cli", "dlt[duckdb]"], python)
    resolved = Resolved({name: chosen[name] for name in PACKAGES})
    resolved.notes.append(
        f"dagster-dlt {dagster_dlt} (newest) allows dagster {chosen['dagster']}, "
        f"dagster-dg-cli {chosen['dagster-dg-cli']}"
    )
    newest_dlt = newest("dlt", python)
    if chosen["dlt"] != newest_dlt:
        resolved.notes.append(f"the newest dlt {newest_dlt} is not allowed; using {chosen['dlt']}")
    return resolved


def latest_dagster(python: str) -> Resolved:
    dagster = newest("dagster", python)
    try:
        chosen = compile_versions(
            [f"dagster=={dagster}", "dagster-dg-cli", "dagster-dlt", "dlt[duckdb]"], python
        )
    except ResolveError:
        chosen = None
    if chosen is not None:
        resolved = Resolved({name: chosen[name] for name in PACKAGES})
        resolved.notes.append(f"the newest dagster {dagster} installs as is: no pin blocks it")
        return resolved
    versions = {"dagster": dagster}
    notes = []
    for package in ("dagster-dlt", "dagster-dg-cli"):
        versions[package] = newest(package, python)
        allowed = compile_versions([f"{package}=={versions[package]}"], python)["dagster"]
        if allowed != dagster:
            notes.append(
                f"pin blocks the upgrade: {package} {versions[package]} (newest) requires "
                f"dagster {allowed}, not the newest dagster {dagster}"
            )
    versions["dlt"] = newest("dlt", python)
    # dagster pins its own family (dagster-shared, dagster-pipes) exactly: move them with it
    family = compile_versions([f"dagster=={dagster}"], python)
    overrides = {name: v for name, v in family.items() if name.startswith("dagster")}
    notes.append("installed over those pins: " + ", ".join(f"{n}=={v}" for n, v in sorted(overrides.items())))
    return Resolved({name: versions[name] for name in PACKAGES}, notes, overrides)


RESOLVERS = {"latest": latest, "latest-dagster": latest_dagster}
