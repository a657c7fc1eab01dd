"""The whole OpenAPI schema, fuzzed in-process (ASGI) with schemathesis on every database backend.

Each operation is tried anonymously and as an admin (most routes answer 401 to an anonymous caller, so the
admin variant is where the handlers are really exercised). Every example runs in a SAVEPOINT of the test's
rolled-back transaction, so one example's writes (a revoked token, a created user) never leak into the next.
Generation is derandomized: a failure reproduces on every run.
"""

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis import Case
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from app.main import app as module_app
from tests.factories import Factory

# The document only: routes do not depend on settings or the database. The calls go to the `app` fixture,
# which is bound to the backend under test. (schemathesis.pytest.from_fixture would load it from the fixture,
# but schemathesis 4.32 sets `Function._nodeid`, which pytest 9.2 no longer has.)
schema = schemathesis.openapi.from_asgi("/openapi.json", module_app)

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
    negative_data_rejection,
]


@pytest.fixture(params=["anonymous", "admin"])
def caller(request: pytest.FixtureRequest, factory: Factory) -> dict[str, str]:
    """The headers the examples are sent with. An enrolled participant exists, so that lists return items
    (validated against their schema) and small ids (on SQLite, 1) find a row."""
    factory.participant("PE")
    return factory.admin().headers if request.param == "admin" else {}


@schema.parametrize()
@settings(
    max_examples=20,
    deadline=None,
    derandomize=True,
    # the fixtures are deliberately per test (one transaction, one admin); generating a whole application
    # body can be slow on a loaded machine, which says nothing about the API
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_api_conforms_to_its_schema(
    case: Case, app: FastAPI, sessions: sessionmaker[Session], caller: dict[str, str]
) -> None:
    connection = sessions.kw["bind"]
    assert isinstance(connection, Connection)
    savepoint = connection.begin_nested()
    try:
        case.call_and_validate(headers=caller, checks=CHECKS, app=app)
    finally:
        savepoint.rollback()
