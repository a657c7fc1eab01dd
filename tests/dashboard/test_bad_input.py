"""Bad bytes and odd requests on the dashboard: a Spanish page, nothing changed, never a 500."""

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from tests.dashboard.conftest import SAME_ORIGIN, Cohorts, cookie, csrf, login_form
from tests.factories import row_counts


@pytest.mark.parametrize("q", ["\x00", "Rosa\x00", "a" * 101])
def test_a_search_with_bad_text_is_a_spanish_page(client: TestClient, cohorts: Cohorts, q: str) -> None:
    response = client.get("/coordinacion/PE/participantes", params={"q": q}, headers=cookie(cohorts.coordinator_pe))
    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith("text/html")
    assert "Huamán" not in response.text


@pytest.mark.parametrize("field", ["username", "password", "next"])
def test_a_login_with_bad_text_changes_nothing(client: TestClient, cohorts: Cohorts, field: str,
                                               sessions: sessionmaker[Session]) -> None:
    before = row_counts(sessions)
    token = login_form(client)
    data = {"username": cohorts.coordinator_pe.username, "password": "clave-segura-123", "csrf": token,
            field: "x\x00y"}
    response = client.post("/coordinacion/entrar", data=data, headers=SAME_ORIGIN, follow_redirects=False)
    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith("text/html")
    assert row_counts(sessions) == before


def test_a_json_body_instead_of_the_form_is_refused(client: TestClient, cohorts: Cohorts,
                                                    settings: Settings) -> None:
    coordinator = cohorts.coordinator_pe
    url = f"/coordinacion/PE/inscripciones/{cohorts.peru[0].enrolment_id}/avisada"
    response = client.post(url, json={"csrf": csrf(settings, coordinator)},
                           headers={**cookie(coordinator), **SAME_ORIGIN})
    assert response.status_code == 403
    assert "El formulario venció" in response.text


def test_an_unknown_method_is_a_page(client: TestClient, cohorts: Cohorts) -> None:
    response = client.delete("/coordinacion/PE", headers=cookie(cohorts.coordinator_pe))
    assert response.status_code == 405
    assert "Acción no permitida" in response.text
