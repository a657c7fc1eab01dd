"""Lesson HTML as served carries absolute blob addresses (the website shows it on its own host); the stored HTML
and the module's version keep the relative form."""


import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.content.service import load_modules
from app.core.config import Settings
from app.main import create_app
from app.models import ModuleVersion
from app.storage import Storage
from tests.factories import Factory
from tests.progress.conftest import lesson, module

SHA = "ab" * 32
HTML = f'<p>Mire:</p><p><img src="/api/v1/blobs/{SHA}" alt="Un telar"></p><p>/api/v1/blobs/ en el texto</p>'


def client_at(settings: Settings, sessions: sessionmaker[Session], base_url: str) -> TestClient:
    app = create_app(settings.model_copy(update={"public_base_url": base_url}))
    app.state.sessionmaker = sessions
    return TestClient(app)


@pytest.fixture
def learner_headers(sessions: sessionmaker[Session], factory: Factory, storage: Storage) -> dict[str, str]:
    with sessions() as session, session.begin():
        load_modules(session, storage, [module("telares", 1, (lesson("telar", 1, html=HTML),))])
    return factory.participant("PE").headers


def test_served_lesson_html_points_at_absolute_blob_urls(settings: Settings, sessions: sessionmaker[Session],
                                                         learner_headers: dict[str, str]) -> None:
    served = {}
    for base in ("https://caminos.alianzapacifico.net", "https://otra.example.org/"):
        with client_at(settings, sessions, base) as client:
            response = client.get("/api/v1/modules/telares/lessons/telar", headers=learner_headers)
        assert response.status_code == 200, response.text
        served[base] = response.json()
    first, second = served.values()
    assert f'<img src="https://caminos.alianzapacifico.net/api/v1/blobs/{SHA}" alt="Un telar">' in first["html"]
    assert f'<img src="https://otra.example.org/api/v1/blobs/{SHA}" alt="Un telar">' in second["html"]
    assert "<p>/api/v1/blobs/ en el texto</p>" in first["html"]  # text is text, only addresses are rewritten
    assert first["version"] == second["version"]  # a new base URL is no new content version

    with sessions() as session:
        document = session.scalars(select(ModuleVersion.document)).all()
    stored = [lesson_doc["html"] for doc in document for lesson_doc in doc["lessons"] if lesson_doc["slug"] == "telar"]
    assert stored == [HTML]
