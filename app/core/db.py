"""Engine, sessions and the one-transaction-per-request dependency."""

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import Depends, Request
from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from app.core.errors import AppError

# At most this many requests hold a unit of work at once. Requests waiting for a database lock occupy worker
# threads; the one holding the lock needs a free thread to commit. Keeping this below the threadpool's 40
# threads (waiting for a slot uses no thread) means the holder always finds one, instead of all threads
# waiting on a lock whose holder cannot finish.
MAX_CONCURRENT_UNITS_OF_WORK = 16
READ_ONLY = "caminos_read_only"


def make_engine(url: str, **kwargs: Any) -> Engine:
    # a failed statement's parameters are people's names, birth dates and documents: never in a log line
    kwargs.setdefault("hide_parameters", True)
    pool = {"pool_size": MAX_CONCURRENT_UNITS_OF_WORK, "max_overflow": MAX_CONCURRENT_UNITS_OF_WORK,
            "pool_timeout": 60}
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, **pool, **kwargs)
        _configure_sqlite(engine)
        return engine
    return create_engine(url, pool_pre_ping=True, **pool, **kwargs)


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


async def get_sessionmaker(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    return factory


SessionFactoryDep = Annotated[sessionmaker[Session], Depends(get_sessionmaker)]


def get_session(factory: SessionFactoryDep) -> Iterator[Session]:
    """The request's unit of work: commit on success, roll back on error, before the response is sent.

    An error's ``trace`` (the audit of a refused application) is written after the rollback."""
    with factory() as session:
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


SessionDep = Annotated[
    Session, Depends(get_session, scope="function", max_concurrency=MAX_CONCURRENT_UNITS_OF_WORK)
]


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
