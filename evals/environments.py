"""A real Python environment like the harness's own, minus or plus named packages.

Some errors only exist where a package is missing ("No module named 'pandas'", "No module
named 'dagster_dlt'"). A case that names `without_packages` gets a fresh venv holding every
distribution of the interpreter running the harness, at the same versions, except those
(installed with `uv pip install --no-deps`, so nothing pulls a removed package back in), and
its dg commands run with that venv's real `dg`. Fast mode cannot do this: its warm process
has every package imported already.

A case that names `with_packages` (`dagster-k8s`, or pinned: `dagster-k8s==0.29.27`) gets
the same venv plus those, installed with their dependencies under the harness's versions as
constraints, so dagster, dlt and the rest stay exactly what the harness runs; an unpinned
name resolves to the release that fits them (for a Dagster integration, the one paired with
the installed dagster, so the version matrix's older sets get their own). That is how a
block is checked against a package the harness itself does not ship (dagster-k8s's real
executor config schema, say).

uv runs with the harness's own environment (not the case's isolated HOME), so it installs
from the user's uv cache, where `uv sync` or `uv run --with` put these exact versions; the
extra packages come from PyPI once and from that cache afterwards.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from importlib import metadata
from pathlib import Path

from evals.commands import run_command


def canonicalize_name(name: str) -> str:
    """PEP 503 normalized name: `Dagster_DLT` and `dagster-dlt` are one distribution."""
    return re.sub(r"[-_.]+", "-", name).lower()


class EnvironmentBuildError(Exception):
    """The environment could not be made; the message says why."""


def installed_requirements() -> dict[str, str]:
    """name -> version of every distribution installed from an index into this interpreter.

    Distributions installed from a local path or in editable mode (the harness itself)
    are left out: they cannot be installed again by name.
    """
    found: dict[str, str] = {}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if not name:
            continue
        direct_url = dist.read_text("direct_url.json")
        if direct_url and json.loads(direct_url).get("url", "").startswith("file:"):
            continue
        # The first of two copies is the one Python imports (an overlay env such as
        # `uv run --with` lists its own versions before the base environment's).
        found.setdefault(canonicalize_name(name), dist.version)
    return found


def requirements_without(packages: list[str], installed: dict[str, str]) -> list[str]:
    removed = {canonicalize_name(p) for p in packages}
    missing = sorted(removed - set(installed))
    if missing:
        raise EnvironmentBuildError(
            f"cannot leave out {', '.join(missing)}: the harness environment does not have it, "
            "so the case would prove nothing"
        )
    return [f"{name}=={version}" for name, version in sorted(installed.items()) if name not in removed]


REQUIREMENT = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(==(?P<version>[A-Za-z0-9.+!-]+))?$")


def extra_requirements(requirements: list[str], installed: dict[str, str]) -> dict[str, str | None]:
    """name -> pinned version (None: whichever fits the harness's versions) of each package to add;
    refuses what is malformed or already there."""
    extra: dict[str, str | None] = {}
    for requirement in requirements:
        match = REQUIREMENT.match(requirement)
        if match is None:
            raise EnvironmentBuildError(f"{requirement!r} is not `name` or `name==version`")
        name = canonicalize_name(match["name"])
        if name in installed:
            raise EnvironmentBuildError(
                f"cannot add {requirement}: the harness environment has {name}=={installed[name]} already"
            )
        extra[name] = match["version"]
    return extra


def build_without(packages: list[str], target: Path, timeout: float = 600) -> Path:
    """Make a venv at `target` with the harness's packages minus `packages`; return its bin dir."""
    return build(target, without=packages, timeout=timeout)


def build(target: Path, without: list[str] = (), with_: list[str] = (), timeout: float = 600) -> Path:
    """A venv at `target`: the harness's packages minus `without`, plus `with_`; returns its bin dir."""
    uv = shutil.which("uv")
    if uv is None:
        raise EnvironmentBuildError("uv is not on PATH: it makes the case's own environment")
    installed = installed_requirements()
    requirements = requirements_without(list(without), installed)
    extra = extra_requirements(list(with_), installed)
    target.parent.mkdir(parents=True, exist_ok=True)
    requirements_file = target.parent / f"{target.name}-requirements.txt"
    requirements_file.write_text("\n".join(requirements) + "\n", encoding="utf-8")
    python = str(target / "bin" / "python")
    _uv([uv, "venv", "--quiet", "--python", sys.executable, str(target)], target.parent, timeout)
    _uv(
        [uv, "pip", "install", "--quiet", "--no-deps", "--python", python, "-r", str(requirements_file)],
        target.parent,
        timeout,
    )
    if extra:
        # The harness's versions constrain the new packages' dependencies, so nothing it runs moves.
        _uv(
            [uv, "pip", "install", "--quiet", "--python", python, "-c", str(requirements_file)]
            + [f"{name}=={version}" if version else name for name, version in extra.items()],
            target.parent,
            timeout,
        )
    _assert_absent(Path(python), list(without))
    _assert_present(Path(python), extra)
    return target / "bin"


def _uv(args: list[str], cwd: Path, timeout: float) -> None:
    done = run_command(args, cwd, dict(os.environ), timeout)  # killable with the case
    if done.timed_out:
        raise EnvironmentBuildError(f"`{' '.join(args[1:3])}` timed out after {timeout:.0f}s")
    if done.returncode != 0:
        raise EnvironmentBuildError(f"`{' '.join(args[1:3])}` failed:\n{done.output}")


def _assert_present(python: Path, extra: dict[str, str | None]) -> None:
    if not extra:
        return
    probe = (
        "import sys\nfrom importlib import metadata\nfor n in sys.argv[1:]:\n    print(metadata.version(n))\n"
    )
    done = run_command([str(python), "-c", probe, *extra], python.parent, dict(os.environ), 60)
    found = done.output.split()
    as_pinned = len(found) == len(extra) and all(
        version in (None, seen) for version, seen in zip(extra.values(), found, strict=True)
    )
    if done.returncode != 0 or not as_pinned:
        last_line = (done.output.strip().splitlines() or [f"found {found}"])[-1]
        shown = ", ".join(f"{n}=={v}" if v else n for n, v in extra.items())
        raise EnvironmentBuildError(f"the environment lacks {shown}: {last_line}")


def _assert_absent(python: Path, packages: list[str]) -> None:
    probe = (
        "import sys\nfrom importlib import metadata\n"
        "for name in sys.argv[1:]:\n"
        "    try:\n        metadata.distribution(name)\n    except metadata.PackageNotFoundError:\n"
        "        continue\n    print(name)\n"
    )
    done = run_command([str(python), "-c", probe, *packages], python.parent, dict(os.environ), 60)
    present = done.output.split()
    if done.returncode != 0 or present:
        raise EnvironmentBuildError(
            f"the environment still has {', '.join(present) or packages}: {done.output}"
        )
