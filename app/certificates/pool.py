"""The processes that render certificates: WeasyPrint is imported and its fonts and CSS parsed once in each.

Kept apart from the task code (batch.py) so that ``caminos worker`` can start the pool before it imports the
rest of the service: the render processes warm up while the worker's own start-up runs.
"""

import multiprocessing
import os
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import contextmanager

from app.certificates.render import warm_up


def default_workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


@contextmanager
def render_pool(workers: int | None = None) -> Iterator[Executor]:
    # spawn, not fork: the parent holds database connections and threads that a forked child must not share
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers or default_workers(), mp_context=context,
                             initializer=warm_up) as pool:
        # processes start at the first task: start them now, so that their warm-up overlaps the caller's work
        pool.submit(int)
        yield pool
