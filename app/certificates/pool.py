"""The processes that render certificates: WeasyPrint is imported and its fonts and CSS parsed once in each.

Kept apart from the task code (batch.py) so that ``caminos worker`` can start the pool before it imports the
rest of the service: the render processes warm up while the worker's own start-up runs.
"""

import multiprocessing
import os
import threading
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager, suppress
from multiprocessing import forkserver

from app.certificates.render import warm_up

# WeasyPrint and the renderer, imported with the garbage collector off and then frozen (see the module)
PRELOAD = ["app.certificates.preloaded"]
_lock = threading.Lock()
_open = 0  # pools open in this process, all forked from the one fork server


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def _context() -> multiprocessing.context.BaseContext:
    # not fork: the parent holds database connections and threads that a forked child must not share. A fork
    # server is a fresh process that imports WeasyPrint once; each render process is forked from it, ready,
    # instead of starting Python and importing WeasyPrint again (~0.3 s of CPU each). Fonts and CSS are still
    # made in each process (warm_up): fontconfig's state and its temporary folder are not shared across forks.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(PRELOAD)
    return context


def start_forkserver() -> None:
    """Start the fork server now rather than at the first pool: it imports WeasyPrint (~0.5 s) while the caller
    goes on with its own start-up. A pool opened later forks from it."""
    _context()
    forkserver.ensure_running()


@contextmanager
def render_pool(workers: int | None = None) -> Iterator[Executor]:
    context = _context()
    global _open
    with _lock:
        _open += 1
    try:
        size = workers or default_workers()
        with ProcessPoolExecutor(max_workers=size, mp_context=context, initializer=warm_up) as pool:
            # a process starts at a task that finds none idle: start them all now, so that their warm-up overlaps
            # the caller's work; from a thread, because the first one waits for the fork server to import
            # WeasyPrint (~0.4 s that the caller spends importing the rest of the service instead)
            starter = threading.Thread(target=_start, args=(pool, size), name="render-pool-start", daemon=True)
            starter.start()
            try:
                yield pool
            finally:
                starter.join()
    finally:
        with _lock:
            _open -= 1
            if not _open:
                _stop_forkserver()


def _start(pool: Executor, size: int) -> None:
    with suppress(RuntimeError):  # the pool closed before its first task: nothing to start
        # one task per process, submitted at once: none of them has finished (and left its process idle for
        # the next) by the time the last is submitted
        for _ in range(size):
            pool.submit(int)


def _stop_forkserver() -> None:
    """Stop the fork server once no pool uses it (another pool's processes would lose it), and wait for it: it
    has reaped the render processes, so their end (and their CPU time) is accounted to this process instead of
    an orphan left to init. Python 3.11 has no public call for it; the next pool starts a new one."""
    server = getattr(forkserver, "_forkserver", None)
    stop = getattr(server, "_stop", None)
    if stop is not None and getattr(server, "_forkserver_pid", None) is not None:
        stop()
