"""Where the skill lives, and the one path by which the harness imports the skill's scripts.

The skill's scripts (scripts/*.py) are standalone programs that an agent runs in a user's
project; each imports its siblings as top-level modules (`import templating`), with the
scripts folder first on sys.path. The harness imports them the same way, and only here:
`from evals.skill import templating` (or dg_project, schema_problems, validate). So what the evals prove
is the very module an agent runs, loaded once under its own name.
"""

from __future__ import annotations

import sys
from pathlib import Path

SCRIPTS_DIR = Path(__file__).resolve().parent.parent / "scripts"
if str(SCRIPTS_DIR) not in sys.path:
    sys.path.append(str(SCRIPTS_DIR))  # last: it shadows nothing installed

import dg_project  # noqa: E402
import schema_problems  # noqa: E402
import templating  # noqa: E402
import validate  # noqa: E402

for _module in (dg_project, schema_problems, templating, validate):
    if Path(_module.__file__).resolve().parent != SCRIPTS_DIR:
        raise ImportError(f"{_module.__name__} was imported from {_module.__file__}, not from {SCRIPTS_DIR}")

SKILL_ROOT = templating.SKILL_ROOT

__all__ = ["SCRIPTS_DIR", "SKILL_ROOT", "dg_project", "schema_problems", "templating", "validate"]
