"""The whole OpenAPI schema, fuzzed in-process (ASGI) with schemathesis on every database backend.

Each operation is tried anonymously, as an admin and as an enrolled participant (most routes answer 401 to an
anonymous caller; the admin is where staff handlers are really exercised, the participant where the routes only
she may call are: recording and reading her progress). Every example runs in a SAVEPOINT of the test's
rolled-back transaction, so one example's writes (a revoked token, a created user) never leak into the next.
The routes that parse their raw JSON body themselves (the progress envelope) get more examples.
Generation is derandomized: a failure reproduces on every run.
"""

import uuid
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis import Case
from schemathesis.checks import CheckFunction, not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    response_schema_conformance,
    status_code_conformance,
)
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker

from app.content.service import load_modules
from app.enrolment.spreadsheet import XLSX_MEDIA_TYPE, template_xlsx
from app.main import app as module_app
from app.storage import Storage
from tests.enrolment.imports_helpers import person, xlsx_file
from tests.factories import Factory
from tests.progress.conftest import programme

# The document only: routes do not depend on settings or the database. The calls go to the `app` fixture,
# which is bound to the backend under test. (schemathesis.pytest.from_fixture would load it from the fixture,
# but schemathesis 4.32 sets `Function._nodeid`, which pytest 9.2 no longer has.)
schema = schemathesis.openapi.from_asgi("/openapi.json", module_app)
# the bulk import's XLSX body: real workbooks (the empty template, one with a row) and a zip that is none
schemathesis.openapi.media_type(XLSX_MEDIA_TYPE, st.sampled_from(
    [template_xlsx(["PE"]), xlsx_file([person("PE")]), b"PK\x03\x04 not a workbook"]))
# the routes whose body read_envelope json.loads itself
RAW_JSON = r"^/api/v1/(progress/(events|import)|participants/\{participant_id\}/progress/import)$"

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    response_schema_conformance,
    content_type_conformance,
    negative_data_rejection,
]


@pytest.fixture(params=["anonymous", "admin", "participant"])
def caller(request: pytest.FixtureRequest, factory: Factory, sessions: sessionmaker[Session],
           storage: Storage) -> dict[str, str]:
    """The headers the examples are sent with. An enrolled participant exists, so that lists return items
    (validated against their schema) and small ids (on SQLite, 1) find a row; as the caller, she finds modules
    loaded, so that an event naming ``saberes``/``valor`` goes as far as the log."""
    participant = factory.participant("PE")
    if request.param == "participant":
        with sessions() as session, session.begin():
            load_modules(session, storage, programme())
        return participant.headers
    return factory.admin().headers if request.param == "admin" else {}


# the fixtures are deliberately per test (one transaction, one admin); generating a whole application body can be
# slow on a loaded machine, which says nothing about the API
COMMON = settings(deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])


def call_in_savepoint(case: Case, app: FastAPI, sessions: sessionmaker[Session], caller: dict[str, str],
                      checks: list[CheckFunction] = CHECKS) -> None:
    connection = sessions.kw["bind"]
    assert isinstance(connection, Connection)
    savepoint = connection.begin_nested()
    try:
        case.call_and_validate(headers=caller, checks=checks, app=app)
    finally:
        savepoint.rollback()


@schema.exclude(path_regex=RAW_JSON).parametrize()
@settings(COMMON, max_examples=20)
def test_api_conforms_to_its_schema(
    case: Case, app: FastAPI, sessions: sessionmaker[Session], caller: dict[str, str]
) -> None:
    call_in_savepoint(case, app, sessions, caller)


raw_json_schema = schema.include(path_regex=RAW_JSON)


@raw_json_schema.hook("map_body")
def _name_a_real_lesson(_context: schemathesis.HookContext, body: Any) -> Any:
    """A generated event id is almost never a UUID, nor a module name one of ours, and such an event stops there:
    every other event gets a UUID and names a loaded lesson, so that its payload and the device id go as far as
    the log."""
    if isinstance(body, dict) and isinstance(body.get("events"), list):
        for event in body["events"][::2]:
            if isinstance(event, dict):
                event.update(module="saberes", lesson="valor",
                             event_id=str(uuid.uuid5(uuid.NAMESPACE_URL, repr(event))))
                event.pop("module_version", None)
    return body


@raw_json_schema.parametrize()
@settings(COMMON, max_examples=300)
def test_raw_json_routes_conform_to_their_schema(
    case: Case, app: FastAPI, sessions: sessionmaker[Session], caller: dict[str, str]
) -> None:
    # each event is validated on its own (API.md): an event that violates EventIn is answered 200 with that event
    # "rejected", by design, so only the envelope's violations are refused with 4xx
    call_in_savepoint(case, app, sessions, caller, [c for c in CHECKS if c is not negative_data_rejection])
