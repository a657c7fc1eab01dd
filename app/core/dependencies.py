"""The FastAPI dependencies of core: the app's settings, its sessions (one transaction per request) and a page's
limit and offset. Kept apart from the plain code they wrap (config, db, pagination), which the job worker imports
without FastAPI."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Query, Request
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.core.db import MAX_CONCURRENT_UNITS_OF_WORK, unit_of_work
from app.core.pagination import PageParams


async def app_settings(request: Request) -> Settings:
    """The settings the app was created with (``create_app``)."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(app_settings)]


async def get_sessionmaker(request: Request) -> sessionmaker[Session]:
    factory: sessionmaker[Session] = request.app.state.sessionmaker
    return factory


SessionFactoryDep = Annotated[sessionmaker[Session], Depends(get_sessionmaker)]


def get_session(factory: SessionFactoryDep) -> Iterator[Session]:
    """The request's unit of work, committed before the response is sent."""
    with unit_of_work(factory) as session:
        yield session


def get_read_session(factory: SessionFactoryDep) -> Iterator[Session]:
    """The unit of work of a route that only reads (no audit row either): see ``unit_of_work(read_only=True)``."""
    with unit_of_work(factory, read_only=True) as session:
        yield session


SessionDep = Annotated[
    Session, Depends(get_session, scope="function", max_concurrency=MAX_CONCURRENT_UNITS_OF_WORK)
]
ReadSessionDep = Annotated[
    Session, Depends(get_read_session, scope="function", max_concurrency=MAX_CONCURRENT_UNITS_OF_WORK)
]


async def page_params(
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> PageParams:
    return PageParams(limit=limit, offset=offset)


PageDep = Annotated[PageParams, Depends(page_params)]
