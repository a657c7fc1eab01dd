"""Engine, sessions and units of work (the request's session dependency is in ``app.core.dependencies``)."""

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar
from weakref import WeakKeyDictionary

import anyio.to_thread
from anyio import CapacityLimiter
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry

from app.core.errors import AppError

# At most this many requests hold a unit of work at once. Requests waiting for a database lock occupy worker
# threads; the one holding the lock needs a free thread to commit. Keeping this below the threadpool's 40
# threads (waiting for a slot uses no thread) means the holder always finds one, instead of all threads
# waiting on a lock whose holder cannot finish.
MAX_CONCURRENT_UNITS_OF_WORK = 16
READ_ONLY = "caminos_read_only"
# A pooled connection used this recently is not pinged before reuse (PostgreSQL): under load every checkout
# follows another by milliseconds, and a ping is a round trip on each of them.
PING_AFTER_IDLE_SECONDS = 1.0
T = TypeVar("T")


def make_engine(url: str, **kwargs: Any) -> Engine:
    # a failed statement's parameters are people's names, birth dates and documents: never in a log line
    kwargs.setdefault("hide_parameters", True)
    options = {"pool_size": MAX_CONCURRENT_UNITS_OF_WORK, "max_overflow": MAX_CONCURRENT_UNITS_OF_WORK,
               "pool_timeout": 60, **kwargs}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **options)
        _configure_sqlite(engine)
        return engine
    engine = create_engine(url, **options)
    _ping_after_idle(engine)
    return engine


def _ping_after_idle(engine: Engine) -> None:
    """Pre-ping, but only a connection that sat idle in the pool (SQLAlchemy's custom pessimistic handling):
    a server restart or a dropped idle connection is still found before a request uses it."""

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_conn: Any, record: ConnectionPoolEntry) -> None:
        record.info["checked_in_at"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_conn: Any, record: ConnectionPoolEntry, _proxy: Any) -> None:
        since = record.info.get("checked_in_at")
        if since is None or time.monotonic() - since < PING_AFTER_IDLE_SECONDS:
            return  # new (just connected), or used a moment ago
        try:
            alive = engine.dialect.do_ping(dbapi_conn)
        except Exception as exc:
            raise DisconnectionError() from exc
        if not alive:
            raise DisconnectionError()  # the pool discards this connection and checks out another


def _unicode_lower(value: Any) -> Any:
    return value.lower() if isinstance(value, str) else value


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite begins transactions lazily and ignores FOR UPDATE: take the write lock up front
    # (BEGIN IMMEDIATE) so read-then-write transactions serialise instead of failing or interleaving.
    # Writers of this process first queue on a lock of their own: SQLite's busy handler polls with sleeps of
    # up to 100 ms, which lets late arrivals overtake and gives some requests seconds of latency.
    writers = threading.Lock()

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None
        dbapi_conn.execute("PRAGMA journal_mode=WAL")
        dbapi_conn.execute("PRAGMA busy_timeout=30000")
        dbapi_conn.execute("PRAGMA foreign_keys=ON")
        # every acknowledged write is on disk (in WAL mode NORMAL would lose the last ones on a power cut)
        dbapi_conn.execute("PRAGMA synchronous=FULL")
        # SQLite's own lower() folds ASCII only ("Á" stays "Á"); PostgreSQL's folds all of Unicode
        dbapi_conn.create_function("lower", 1, _unicode_lower, deterministic=True)

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # read-only sessions (authentication) begin DEFERRED: in WAL mode they never wait for a writer
        if conn.get_execution_options().get(READ_ONLY):
            conn.exec_driver_sql("BEGIN")
            return
        writers.acquire()
        conn.info[_HOLDS_WRITE_LOCK] = True
        try:
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release(conn)
            raise

    def _release(conn: Connection) -> None:
        if conn.info.pop(_HOLDS_WRITE_LOCK, False):
            writers.release()

    event.listen(engine, "commit", _release)
    event.listen(engine, "rollback", _release)


_HOLDS_WRITE_LOCK = "caminos_holds_write_lock"


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(bind=engine, expire_on_commit=False, autoflush=False)


@contextmanager
def unit_of_work(factory: sessionmaker[Session], *, read_only: bool = False) -> Iterator[Session]:
    """One transaction: commit on success, roll back on error. An error's ``trace`` (the audit of a refused
    application) is written after the rollback.

    ``read_only``: the unit only reads. On SQLite it begins DEFERRED and so never waits for the writer lock
    (WAL readers see the last commit); it must not write."""
    with factory() as session:
        if read_only:
            session.connection(execution_options={READ_ONLY: True})
        try:
            yield session
            session.commit()
        except AppError as exc:
            session.rollback()
            if exc.trace is not None:
                exc.trace(session)
                session.commit()
            raise
        except BaseException:
            session.rollback()
            raise


class _Write:
    def __init__(self, write: Callable[[Session], Any]) -> None:
        self.write = write
        self.done = False
        self.value: Any = None
        self.error: BaseException | None = None


class GroupCommit:
    """The writes of concurrent requests committed together, on SQLite: one writer at a time, and each commit is
    an fsync (synchronous=FULL). The request that finds the writer free runs every write queued behind it in one
    transaction (BEGIN IMMEDIATE) and commits once; each request answers only after that commit, so every write
    it acknowledges is on disk. A failing write rolls the group back, and the group's writes are then run again
    one transaction each, so that only the failing one fails."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self._factory = factory
        self._queued: list[_Write] = []
        self._queue_lock = threading.Lock()
        self._leader = threading.Lock()

    def run(self, write: Callable[[Session], T]) -> T:
        job = _Write(write)
        with self._queue_lock:
            self._queued.append(job)
        with self._leader:
            if not job.done:  # else the group before took it along
                with self._queue_lock:
                    jobs, self._queued = self._queued, []
                self._commit(jobs)
        if job.error is not None:
            raise job.error
        value: T = job.value
        return value

    def _commit(self, jobs: list[_Write]) -> None:
        try:
            try:
                with unit_of_work(self._factory) as session:
                    for job in jobs:
                        job.value = job.write(session)
                for job in jobs:
                    job.done = True
                return
            except Exception as exc:
                if len(jobs) == 1:
                    jobs[0].error, jobs[0].done = exc, True
                    return
            for job in jobs:
                try:
                    with unit_of_work(self._factory) as session:
                        job.value = job.write(session)
                except Exception as exc:
                    job.error = exc
                job.done = True
        finally:
            for job in jobs:
                if not job.done:  # interrupted (a BaseException): answer rather than leave it waiting
                    job.error, job.done = RuntimeError("write interrupted"), True


_group_commits: WeakKeyDictionary[sessionmaker[Session], GroupCommit] = WeakKeyDictionary()
_group_commits_lock = threading.Lock()


def group_commit(factory: sessionmaker[Session]) -> GroupCommit | None:
    """The factory's group commit on SQLite; None on PostgreSQL, whose writers run side by side (and whose
    server groups commits itself)."""
    engine = factory.kw["bind"]
    if engine.dialect.name != "sqlite":
        return None
    with _group_commits_lock:
        found = _group_commits.get(factory)
        if found is None:
            found = _group_commits[factory] = GroupCommit(factory)
        return found


# Threads of the hot paths, for reads and for writes each. On SQLite a unit never waits for a server, so more
# threads only contend for the GIL: with 16, a request cost twice the CPU it costs with 2. On PostgreSQL threads
# overlap the round trips, and 2 were too few. Requests beyond these wait on the event loop, which costs nothing.
# (Measured by `make bench`, tests/benchmarks/bench_hotpaths.py.)
HOT_PATH_THREADS = {"sqlite": 2, "postgresql": 4}
_limiters: WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, bool], CapacityLimiter]] = WeakKeyDictionary()


async def in_one_thread(factory: sessionmaker[Session], work: Callable[[], T], *, writes: bool) -> T:
    """Run a whole unit of work (authentication, the work, the commit, the response's serialisation) in one hop
    to a worker thread, for the hot paths: with dependencies, each sync step is a hop of its own (five a request).

    Reads and writes have threads of their own, apart from the default pool's: units waiting for the SQLite
    writer never take the threads of a participant's reads, nor those that a ``SessionDep`` request holding the
    writer lock needs to commit."""
    loop = asyncio.get_running_loop()
    limiters = _limiters.get(loop)
    if limiters is None:
        limiters = _limiters[loop] = {}
    dialect = factory.kw["bind"].dialect.name
    limiter = limiters.get((dialect, writes))
    if limiter is None:
        limiter = limiters[(dialect, writes)] = CapacityLimiter(HOT_PATH_THREADS.get(dialect, 4))
    return await anyio.to_thread.run_sync(work, limiter=limiter)


@contextmanager
def short_session(factory: sessionmaker[Session], *, write: bool = False) -> Iterator[Session]:
    """A brief transaction of its own, committed on leaving the block.

    Read-only (the default): reads that must not take the request's write lock (authentication, reading a
    password hash before the slow verification). ``write=True``: a write that must stand whatever becomes of
    the request (a counted login attempt, the audit of a refused application)."""
    with factory() as session:
        session.connection(execution_options={} if write else {READ_ONLY: True})
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
