"""Fast mode: run CLI commands (`dg ...`) in forked children of a warm process.

A multiprocessing forkserver imports dagster, dagster-dg-cli, dagster-dlt, dlt and duckdb
once; every command of every case then runs the real CLI code (the console script's own
entry point, as its executable would) in a fresh child forked from it, with the case's own
working directory, environment and output file. What a case sees is what `dg` does, minus
the 2-3 s of imports per command.

Plain asset launches get the in-process executor (the project kind's in_process_argv, applied
by evals/cli_runners.py), so the step does not start another interpreter; launches of jobs
keep their own executor (a job's
multi_process_executor is often what a case proves), but its step processes are forked from
the warm child instead of spawned, when the job leaves start_method unset and the child
runs a single thread (forking a multi-threaded process is unsafe). A job that sets
start_method keeps it.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import multiprocessing
import os
import signal
import sys
import tempfile
import threading
import time
from importlib import metadata
from multiprocessing.connection import wait
from pathlib import Path

from evals.commands import (
    DEFAULT_MAX_FILE_BYTES,
    Cancelled,
    CommandResult,
    cancelled,
    limit_file_size,
    register,
    unregister,
)

PRELOAD_MODULE = "evals.fast_preload"

_lock = threading.Lock()
_process_lock = threading.Lock()  # see run_child
_context = None


def _forkserver():
    global _context
    with _lock:
        if _context is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload([PRELOAD_MODULE])
            _context = context
        return _context


def warm_up(clean_env: dict[str, str]) -> None:
    """Start the forkserver (and its imports) now, in `clean_env`, before any case runs.

    Call it before starting threads: the environment is swapped while the server starts,
    so that nothing the preloaded modules read at import comes from the caller's env.
    """
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(clean_env)
    try:
        run_child(os._exit, (0,), timeout=600)
    finally:
        os.environ.clear()
        os.environ.update(saved)


@functools.cache
def entry_point(program: str) -> str:
    """ "module:function" of the console script `program` of this interpreter's packages."""
    found = metadata.entry_points(group="console_scripts", name=program)
    if not found:
        raise FileNotFoundError(f"no console script named {program!r} is installed")
    return next(iter(found)).value


def _single_threaded() -> bool:
    """True when this process runs exactly one thread (Linux: /proc/self/task)."""
    try:
        return len(os.listdir("/proc/self/task")) == 1
    except OSError:
        return False


def _fork_job_steps() -> None:
    """Make MultiprocessExecutor fork step processes when the job did not pick a start method.

    Dagster's default is "spawn": each step starts a new interpreter and imports dagster, dlt
    and the project again (2-3 s a step). A fork of this warm child starts at once and runs
    the same code. Checked at execute time, as threads may start after the executor is made.
    Called once per forked dg child, which exits when its command ends.
    """
    from dagster._core.executor.multiprocess import MultiprocessExecutor

    original_init = MultiprocessExecutor.__init__
    original_execute = MultiprocessExecutor.execute
    signature = inspect.signature(original_init)

    def init_remembering_start_method(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        given = signature.bind(self, *args, **kwargs).arguments.get("start_method")
        self._evals_start_method_unset = given is None

    def execute(self, plan_context, execution_plan):
        if getattr(self, "_evals_start_method_unset", False) and _single_threaded():
            self._start_method = "fork"
        return original_execute(self, plan_context, execution_plan)

    MultiprocessExecutor.__init__ = init_remembering_start_method
    MultiprocessExecutor.execute = execute


def _run_cli_in_child(
    argv: list[str], target: str, cwd: str, env: dict[str, str], output_path: str, max_file_bytes: int
) -> None:
    os.setsid()  # own process group: a timeout kills whatever the command started
    limit_file_size(max_file_bytes)
    fd = os.open(output_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    # Where a fresh interpreter puts PYTHONPATH: after sys.path[0], the script's folder
    # (dagster drops sys.path[0] while it imports the project).
    sys.path[1:1] = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p]
    module, _, function = target.partition(":")
    main = importlib.import_module(module)
    for attribute in function.split("."):
        main = getattr(main, attribute)
    sys.argv = list(argv)  # what the console script reads, as when its executable runs

    _fork_job_steps()
    _before = set(sys.modules)

    code = 0
    try:
        main()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else (0 if exit_.code is None else 1)
    except BaseException:  # noqa: BLE001 - report like the CLI would, then exit non-zero
        import traceback

        traceback.print_exc()
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    if os.environ.get("EVAL_DEBUG_MODULES"):
        Path(os.environ["EVAL_DEBUG_MODULES"]).write_text("\n".join(sorted(set(sys.modules) - _before)))
    os._exit(code)


def run_child(target, args: tuple, timeout: float) -> int | None:
    """Run target(*args) in a fork of the warm process; its exit code, or None on timeout.

    The child makes itself a process group leader (os.setsid), so a timeout kills the group.
    Starting and polling hold one lock: Process.start() polls every other live child of
    this process, and two threads reading one child's status at once make one of them see
    EOF, which multiprocessing reports as exit code 255 (tests/test_modes.py reproduces it).
    """
    process = _forkserver().Process(target=target, args=args)
    with _process_lock:
        process.start()
    register(process.pid)
    try:
        wait([process.sentinel], timeout)
        with _process_lock:
            returncode: int | None = process.exitcode
        if returncode is None:
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                process.kill()
            wait([process.sentinel])
            with _process_lock:
                process.join()
    finally:
        unregister(process.pid)
    return returncode


def run_cli(
    argv: list[str],
    cwd: Path,
    env: dict[str, str],
    timeout: float,
    max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
) -> CommandResult:
    """Run the console script argv[0] with argv[1:] in a forked warm child; same contract as
    commands.run_command."""
    if cancelled.is_set():
        raise Cancelled()
    target = entry_point(argv[0])
    start = time.monotonic()
    with tempfile.NamedTemporaryFile(prefix=f"{argv[0]}-output-", suffix=".log", delete=False) as handle:
        output_path = handle.name
    try:
        child_args = (argv, target, str(cwd), env, output_path, max_file_bytes)
        returncode = run_child(_run_cli_in_child, child_args, timeout)
        output = Path(output_path).read_text(encoding="utf-8", errors="replace")
    finally:
        os.unlink(output_path)
    if cancelled.is_set():
        raise Cancelled()
    return CommandResult(tuple(argv), returncode, output, time.monotonic() - start)
