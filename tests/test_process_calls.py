"""Every process the harness starts goes through evals.commands.run_command (its own process
group, killed at the timeout or on Ctrl-C), unless a `# Not run_command: <reason>` comment
just above the call says why not (a streamed child, a server that outlives the call)."""

from __future__ import annotations

import ast
import os
import re
import sys
import time
from pathlib import Path

from evals.commands import run_command

EVALS = Path(__file__).resolve().parent.parent / "evals"
RUNNER = EVALS / "commands.py"  # the one place that may start a process
STARTERS = {
    "subprocess": {"run", "Popen", "call", "check_call", "check_output", "getoutput", "getstatusoutput"},
    "os": {"system", "popen", "execv", "execve", "execvp", "execvpe", "spawnv", "spawnve", "posix_spawn"},
}
REASON = re.compile(r"#\s*Not run_command:\s*\S", re.IGNORECASE)
REASON_REACH = 3  # lines above the call that may hold the reason


def raw_calls(root: Path) -> list[str]:
    """'file:line  module.function' for each process start outside run_command with no reason."""
    found = []
    for path in sorted(root.rglob("*.py")):
        if path == RUNNER:
            continue
        lines = path.read_text().splitlines()
        for node in ast.walk(ast.parse("\n".join(lines), filename=str(path))):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            owner = node.func.value
            if not (isinstance(owner, ast.Name) and node.func.attr in STARTERS.get(owner.id, ())):
                continue
            window = lines[max(0, node.lineno - 1 - REASON_REACH) : node.lineno]
            if not any(REASON.search(line) for line in window):
                found.append(f"{path.relative_to(root.parent)}:{node.lineno}  {owner.id}.{node.func.attr}")
    return found


def test_every_process_start_goes_through_run_command_or_says_why_not():
    assert raw_calls(EVALS) == []


def test_a_raw_call_without_a_reason_is_named(tmp_path):
    package = tmp_path / "evals"
    package.mkdir()
    (package / "tool.py").write_text(
        "import subprocess\n"
        "\n"
        "def fine():\n"
        "    # Not run_command: streamed to the terminal\n"
        "    return subprocess.run(['true'])\n"
        "\n"
        "def bare():\n"
        "    return subprocess.check_output(['git', 'status'])\n"
    )
    assert raw_calls(package) == ["evals/tool.py:8  subprocess.check_output"]


def test_run_command_feeds_stdin_and_keeps_stderr_apart(tmp_path):
    script = "import sys; data = sys.stdin.read(); print(data.upper()); print('warning', file=sys.stderr)"
    done = run_command(
        [sys.executable, "-c", script],
        tmp_path,
        dict(os.environ),
        timeout=60,
        stdin_text="pins",
        stderr_apart=True,
    )
    assert (done.returncode, done.output, done.stderr) == (0, "PINS\n", "warning\n")
    merged = run_command([sys.executable, "-c", script], tmp_path, dict(os.environ), timeout=60)
    assert sorted(merged.output.split()) == ["warning"]  # stdin is /dev/null, stderr interleaved


def test_a_timeout_kills_the_children_too(tmp_path):
    """A grandchild that would outlive its parent dies with it: run_command kills the group."""
    marker = tmp_path / "grandchild.pid"
    script = (
        "import subprocess, sys, time;"
        "child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'],"
        " stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL);"  # not holding the pipe
        f"open({str(marker)!r}, 'w').write(str(child.pid)); time.sleep(60)"
    )
    done = run_command([sys.executable, "-c", script], tmp_path, dict(os.environ), timeout=3)
    assert done.timed_out
    grandchild = int(marker.read_text())
    deadline = time.monotonic() + 10
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    alive = _alive(grandchild)
    if alive:
        os.kill(grandchild, 9)
    assert not alive, "the command's child outlived its timeout"


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split()[2]
    except FileNotFoundError:
        return False
    return state != "Z"  # a zombie is dead, waiting for init to reap it
