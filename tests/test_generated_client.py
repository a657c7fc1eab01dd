"""A client generated from the served OpenAPI document by a real generator (openapi-python-client) is complete and
works: a dangling ``$ref`` once made it leave the progress routes out without failing."""

import importlib
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from tests.conftest import BACKENDS
from tests.factories import Factory, application
from tests.live import live_service

pytestmark = pytest.mark.xdist_group("live")
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
PACKAGE = "caminos_client"
# the generator's own types for files: our blobs are images, which it reads as bytes this way
CONFIG = "content_type_overrides:\n" + "".join(
    f"  {t}: application/octet-stream\n"
    for t in ("image/svg+xml", "image/png", "image/jpeg", "image/webp", "application/pdf", "application/zip",
              "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/csv",
              "application/vc+jwt"))


@pytest.fixture(params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Factory]]:
    with live_service(request.param, tmp_path) as service:
        yield service.base_url, Factory(service.sessions, service.settings)


def generate(base_url: str, folder: Path) -> ModuleType:
    schema = folder / "openapi.json"
    schema.write_bytes(httpx.get(f"{base_url}/openapi.json").content)
    (folder / "config.yaml").write_text(CONFIG)
    done = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(schema), "--output-path", str(folder / PACKAGE), "--meta", "none",
         "--config", str(folder / "config.yaml")],
        capture_output=True, text=True, timeout=120, check=False,
        # its post-generation hooks run ruff, which lives next to this interpreter
        env={**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ.get('PATH', '')}"},
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    # the generator only warns when it leaves a route or a response out: that is the failure to catch
    assert "warning" not in output.lower(), output
    sys.path.insert(0, str(folder))
    try:
        return importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))


@pytest.fixture
def client_package(tmp_path: Path) -> Iterator[Any]:
    """Imports of the generated package, removed afterwards so that each test imports its own generation."""
    yield tmp_path
    for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
        del sys.modules[name]


def test_a_generated_client_covers_the_api_and_runs_a_participant_flow(
    live: tuple[str, Factory], client_package: Path
) -> None:
    base_url, factory = live
    generate(base_url, client_package)

    def api(name: str) -> Any:
        return importlib.import_module(f"{PACKAGE}.api.{name}")

    models = importlib.import_module(f"{PACKAGE}.models")
    package = importlib.import_module(PACKAGE)

    # every operation of the document became a function
    document = httpx.get(f"{base_url}/openapi.json").json()
    generated = {p.stem for p in (client_package / PACKAGE / "api").rglob("*.py") if p.stem != "__init__"}
    declared = {op["operationId"] for item in document["paths"].values() for op in item.values()}
    assert declared == generated

    # a woman applies by herself: the route declares its login optional. openapi-python-client types the
    # argument as AuthenticatedClient whenever a route names a security scheme, but a plain Client works.
    anonymous = package.Client(base_url=base_url)
    applied = api("enrolment.applications_create").sync(
        client=anonymous, body=models.ApplicationIn.from_dict(application("CL")))
    assert isinstance(applied, models.ApplicationOut), applied
    assert applied.status == models.EnrolmentStatus.ENROLLED

    learner = factory.participant("PE")
    token = api("auth.auth_login").sync(
        client=anonymous, body=models.BodyAuthLogin(username=learner.username, password="clave-segura-123"))
    assert isinstance(token, models.TokenOut), token
    authed = package.AuthenticatedClient(base_url=base_url, token=token.access_token)

    modules = api("content.modules_list").sync(client=authed)
    assert [m.slug for m in modules] == ["saberes", "precio", "ferias"]

    lesson = api("content.lessons_get").sync(client=authed, slug="saberes", lesson="oficios")
    assert isinstance(lesson, models.LessonOut), lesson
    assert [q.id for q in lesson.quiz.questions] == ["q1", "q2", "q3"]

    events = models.EventsIn(events=[
        models.EventIn(event_id=str(uuid.uuid4()), type_=models.EventInType.LESSON_COMPLETED, module="saberes",
                       lesson="valor", occurred_at=datetime(2026, 3, 1, 10, tzinfo=UTC)),
        models.EventIn(event_id=str(uuid.uuid4()), type_=models.EventInType.LESSON_VIEWED, module="saberes",
                       lesson="nowhere", occurred_at=datetime(2026, 3, 1, 10, tzinfo=UTC),
                       payload=models.EventInPayload.from_dict({"seconds": 30})),
    ])
    recorded = api("progress.progress_events_record").sync(client=authed, body=events)
    assert isinstance(recorded, models.EventsOut), recorded
    accepted, rejected = recorded.results
    assert accepted.status == models.EventResultStatus.ACCEPTED
    assert rejected.status == models.EventResultStatus.REJECTED
    assert rejected.reason == "unknown_lesson"
    assert rejected.detail.startswith("La lección no existe")

    progress = api("progress.progress_mine").sync(client=authed)
    assert isinstance(progress, models.ProgressOut), progress
    saberes = next(m for m in progress.modules if m.slug == "saberes")
    assert saberes.completed_lessons == 1

    # an error comes back typed as the error body, its code an enum member
    denied = api("auth.me_read").sync(client=package.AuthenticatedClient(base_url=base_url, token="wrong"))
    assert isinstance(denied, models.ErrorBody)
    assert denied.error == models.ErrorCode.NOT_AUTHENTICATED
