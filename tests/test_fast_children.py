"""Fast mode's forked children report their own exit code, even when many run at once."""

from __future__ import annotations

import os
import threading
import time
from collections import Counter

from evals import fast


def test_concurrent_children_never_report_a_lost_exit_code():
    # Unguarded, Process.start() in one thread polls another thread's child while that
    # thread waits on it; one read sees EOF and multiprocessing reports 255 (about 2% of
    # the children here, measured before the fix). This is how scenario-05 failed in CI.
    codes: Counter[int | None] = Counter()
    codes_lock = threading.Lock()

    def start_many() -> None:
        for _ in range(150):
            code = fast.run_child(os._exit, (3,), timeout=60)
            with codes_lock:
                codes[code] += 1

    threads = [threading.Thread(target=start_many) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert codes == Counter({3: 600})


def test_a_child_past_its_timeout_is_killed_and_reports_none():
    start = time.monotonic()
    assert fast.run_child(time.sleep, (120,), timeout=0.5) is None
    assert time.monotonic() - start < 30
