"""Which cases a run runs: `-k NAME` keeps the cases whose name contains NAME.

It applies to every case the CLI gathers (evals/cases, the doc blocks, the scenarios),
before `--changed-since` (evals/changed.py) and `--shard` (evals/shards.py) narrow it further.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from evals.cases import Case


@dataclass(frozen=True)
class Selection:
    name_contains: str | None = None  # -k
    skipped: frozenset[str] = frozenset()  # --skip NAME: exact case names left out

    def keeps(self, case: Case) -> bool:
        if case.name in self.skipped:
            return False
        return not self.name_contains or self.name_contains in case.name

    def describe(self) -> str:
        """How the selection reads in a message ('' when it keeps everything)."""
        matching = f" matching {self.name_contains!r}" if self.name_contains else ""
        return matching + (f" without {', '.join(sorted(self.skipped))}" if self.skipped else "")


def select(cases: Iterable[Case], selection: Selection) -> list[Case]:
    return [case for case in cases if selection.keeps(case)]
