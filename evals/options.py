"""RunOptions: how one run of the evals runs its cases, chosen once (by the CLI or a test).

Everything a case's stages need to know about the run, and nothing about the case itself:
the mode (fast: warm forks and cases in parallel; faithful: the real executable per
command), how many cases at once, a timeout that overrides each case's own, whether to keep
each case's folder, the per-file size limit, and the templates folder. Which cases run is
decided elsewhere (evals/selection.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from evals.commands import DEFAULT_MAX_FILE_BYTES
from evals.skill import templating


@dataclass(frozen=True)
class RunOptions:
    faithful: bool = False  # True: the real CLI executable per command; False: fast mode
    jobs: int = 1  # cases at once
    timeout: float | None = None  # seconds per case, overriding each case's own `timeout:`
    keep: bool = False  # keep each case's temp folder for inspection
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES  # largest file a case's commands may write
    templates_dir: Path = templating.TEMPLATES_DIR

    @property
    def mode(self) -> str:
        return "faithful" if self.faithful else "fast"

    def case_timeout(self, case_timeout: float) -> float:
        return self.timeout if self.timeout is not None else case_timeout
