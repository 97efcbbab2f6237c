"""Run a real coding agent on each scenario, with and without the skill, and grade its project.

    uv run dlt-dagster-evals --agent-cmd 'claude -p {prompt} --output-format json' [-k scenario-01]

For each scenario: a fresh project (the create-dagster layout), the skill copied into
`.claude/skills/dlt-dagster/` (only in the "with skill" run), the agent command run in the
project with `{prompt}` and `{workdir}` filled in (shell-quoted), then the project graded
by the scenario's own execution assertions (`dg check defs`, launches, tables, asset
keys). For scenarios where the right move is to ask or refer the user elsewhere, the
grade is that the agent wrote nothing into the defs folder. Duration is measured; tokens
are read when the agent prints JSON with `usage` (input_tokens + output_tokens) or
`total_tokens`.
"""

from __future__ import annotations

import json
import shlex
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from evals.cases import Case
from evals.commands import run_command
from evals.kinds import kind_of
from evals.project import isolated_env
from evals.rest_server import RestApiServer
from evals.runner import run_case
from evals.scenarios import decisions, prompts, refusal_text
from evals.skill import SKILL_ROOT
from evals.stages import write_project_files

SKILL_PARTS = ("SKILL.md", "references", "assets", "scripts")


@dataclass
class AgentResult:
    scenario: str
    with_skill: bool
    passed: bool
    seconds: float
    tokens: int | None
    detail: str


def install_skill(project_root: Path) -> Path:
    target = project_root / ".claude" / "skills" / "dlt-dagster"
    target.mkdir(parents=True)
    for part in SKILL_PARTS:
        source = SKILL_ROOT / part
        if source.is_dir():
            shutil.copytree(source, target / part, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / part)
    return target


def tokens_from(output: str) -> int | None:
    for line in reversed(output.strip().splitlines() or [""]):
        try:
            data = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(data, dict):
            usage = data.get("usage") or {}
            if "input_tokens" in usage or "output_tokens" in usage:
                return int(usage.get("input_tokens", 0)) + int(usage.get("output_tokens", 0))
            if "total_tokens" in data:
                return int(data["total_tokens"])
    return None


def defs_files(defs_dir: Path) -> set[str]:
    return {str(p.relative_to(defs_dir)) for p in defs_dir.rglob("*") if p.is_file()}


def run_agent(case: Case, agent_cmd: str, with_skill: bool, timeout: float) -> AgentResult:
    scenario_id = case.scenario
    prompt = prompts()[scenario_id]
    decision = decisions()[scenario_id]["decision"]
    with tempfile.TemporaryDirectory(prefix=f"dlt-dagster-agent-{case.name}-") as scratch:
        workdir = Path(scratch)
        project = kind_of(case).create(workdir / "project", "agentproj")  # dg or classic
        env = isolated_env(project, workdir / "case")
        write_project_files(project, case)
        # one server: the agent is told its URL, and the grading reads its request log
        server = RestApiServer.from_spec(case.server).start() if case.server else None
        try:
            if server is not None:
                env["EVAL_API_BASE_URL"] = server.url
                prompt += f"\n(For this exercise the API is served at {server.url}.)"
            if with_skill:
                install_skill(project.root)
            before = defs_files(project.defs_dir)
            command = agent_cmd.format(prompt=shlex.quote(prompt), workdir=shlex.quote(str(project.root)))
            start = time.monotonic()
            # a shell command line, as the user wrote it; run_command kills its whole process
            # group at the timeout (the agent and whatever it started)
            done = run_command(["/bin/sh", "-c", command], project.root, env, timeout)
            output, code = done.output, done.returncode
            if done.timed_out:
                output = f"agent timed out after {timeout:g}s\n{output}"
            seconds = time.monotonic() - start
            tokens = tokens_from(output)
            if code != 0:
                return AgentResult(
                    case.name, with_skill, False, seconds, tokens, f"agent exit {code}: {output[-500:]}"
                )
            if refusal_text(decision) is not None:
                written = sorted(defs_files(project.defs_dir) - before)
                ok = not written
                detail = "wrote nothing, as it should ask or refer" if ok else f"scaffolded anyway: {written}"
                return AgentResult(case.name, with_skill, ok, seconds, tokens, detail)
            graded = run_case(case, prebuilt=project.root, server=server)
            detail = "graded: all assertions hold" if graded.passed else f"{graded.stage}: {graded.message}"
            return AgentResult(case.name, with_skill, graded.passed, seconds, tokens, detail)
        finally:
            if server is not None:
                server.stop()


def run_agents(cases: list[Case], agent_cmd: str, timeout: float = 900) -> list[AgentResult]:
    results = []
    for case in cases:
        for with_skill in (True, False):
            result = run_agent(case, agent_cmd, with_skill, timeout)
            print(agent_line(result), flush=True)
            results.append(result)
    return results


def agent_line(result: AgentResult) -> str:
    tokens = "-" if result.tokens is None else str(result.tokens)
    skill = "with skill" if result.with_skill else "without"
    verdict = "PASS" if result.passed else "FAIL"
    timing = f"{result.seconds:7.1f}s  tokens {tokens:>7}"
    return f"{verdict}  {result.scenario:<14} {skill:<11} {timing}  {result.detail}"
