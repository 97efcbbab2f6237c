"""How a case runs its project's CLI: one runner, chosen once per case from the run's options.

    runner.run(argv, cwd, env, timeout, max_file_bytes) -> CommandResult

argv[0] names a console script ("dg", or another kind's program; see evals/kinds.py).

- RealCli: that script's real executable in a bin folder, one process per command. The
  harness's own bin folder in faithful mode; a case's own environment (without_packages,
  evals/environments.py) in either mode.
- ForkedCli: fast mode. The script's entry point runs in a fork of the warm process
  (evals/fast.py), with the case's working directory, environment and output.

In fast mode both pass argv through the kind's in_process_argv first, so plain asset
launches run in-process whichever runner runs them. Both have the same contract as
commands.run_command: hard timeout, process-group kill, per-file size limit, Cancelled on
Ctrl-C.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from evals import fast
from evals.commands import CommandResult, run_command
from evals.kinds import ProjectKind
from evals.options import RunOptions

HARNESS_BIN = Path(sys.executable).parent  # the CLIs of the interpreter running the harness


class CommandRunner(Protocol):
    def run(
        self, argv: list[str], cwd: Path, env: dict[str, str], timeout: float, max_file_bytes: int
    ) -> CommandResult: ...


def _unchanged(argv: list[str]) -> list[str]:
    return argv


@dataclass(frozen=True)
class RealCli:
    bin_dir: Path = HARNESS_BIN
    adjust: Callable[[list[str]], list[str]] = _unchanged

    def run(
        self, argv: list[str], cwd: Path, env: dict[str, str], timeout: float, max_file_bytes: int
    ) -> CommandResult:
        program, *args = self.adjust(argv)
        return run_command([str(self.bin_dir / program), *args], cwd, env, timeout, max_file_bytes)


@dataclass(frozen=True)
class ForkedCli:
    adjust: Callable[[list[str]], list[str]] = _unchanged

    def run(
        self, argv: list[str], cwd: Path, env: dict[str, str], timeout: float, max_file_bytes: int
    ) -> CommandResult:
        return fast.run_cli(self.adjust(argv), cwd, env, timeout, max_file_bytes)


def runner_for(options: RunOptions, kind: ProjectKind, venv_bin: Path | None = None) -> CommandRunner:
    """The runner for a case of `kind`; `venv_bin`: the case's own environment, if it has one."""
    adjust = _unchanged if options.faithful else kind.in_process_argv
    if venv_bin is not None:  # an environment of its own is always run by its real executable
        return RealCli(venv_bin, adjust)
    if options.faithful:
        return RealCli(HARNESS_BIN)
    return ForkedCli(adjust)
