"""The dashboard's bulk registration form (/coordinacion/{code}/inscribir): the API's import behind a page, under
the cookie session, with its CSRF token and an Idempotency-Key inside the multipart form."""

import io
import re
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.enrolment.spreadsheet import MAX_BYTES
from app.models import AuditEntry, Enrolment
from tests.dashboard.conftest import SAME_ORIGIN, Cohorts, cookie, csrf
from tests.enrolment.imports_helpers import csv_file, person, xlsx_file
from tests.factories import Actor, message, row_counts

FORM = "/coordinacion/PE/inscribir"


def form_fields(client: TestClient, actor: Actor, url: str = FORM) -> dict[str, str]:
    """The hidden fields of the form as its page renders it."""
    page = client.get(url, headers=cookie(actor))
    assert page.status_code == 200, page.text
    return dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page.text))


def upload(client: TestClient, actor: Actor, data: bytes, fields: dict[str, str], *, action: str = "inscribir",
           url: str = FORM, filename: str = "lista.csv", media_type: str = "text/csv",
           headers: dict[str, str] | None = None) -> httpx.Response:
    return client.post(url, data={**fields, "accion": action}, files={"file": (filename, data, media_type)},
                       headers={**cookie(actor), **SAME_ORIGIN, **(headers or {})}, follow_redirects=False)


def count(sessions: sessionmaker[Session], model: Any) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def enrolled_in(session: Session, country: str) -> int:
    return session.scalar(select(func.count()).select_from(Enrolment).where(Enrolment.country_code == country)) or 0


def report_rows(html: str) -> dict[int, str]:
    return {int(n): body for n, body in re.findall(r'<tr data-fila="(\d+)">(.*?)</tr>', html, re.S)}


def test_the_form_explains_links_the_templates_and_carries_a_key_per_render(
    client: TestClient, cohorts: Cohorts, settings: Settings
) -> None:
    page = client.get(FORM, headers=cookie(cohorts.coordinator_pe))
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    assert "<script" not in page.text
    assert 'enctype="multipart/form-data"' in page.text
    assert '<label for="planilla">' in page.text
    assert 'id="planilla" name="file" type="file"' in page.text
    assert "Revisar sin guardar" in page.text
    assert ">Inscribir</button>" in page.text
    assert f'name="csrf" value="{csrf(settings, cohorts.coordinator_pe)}"' in page.text
    assert form_fields(client, cohorts.coordinator_pe)["clave"] != form_fields(client, cohorts.coordinator_pe)["clave"]
    # the country page leads to it
    assert f'href="{FORM}"' in client.get("/coordinacion/PE", headers=cookie(cohorts.coordinator_pe)).text

    csv_template = client.get("/coordinacion/PE/plantilla.csv", headers=cookie(cohorts.coordinator_pe))
    assert csv_template.status_code == 200
    assert csv_template.headers["content-type"].startswith("text/csv")
    assert "nombres" in csv_template.content.decode("utf-8-sig").splitlines()[0]
    xlsx_template = client.get("/coordinacion/PE/plantilla.xlsx", headers=cookie(cohorts.coordinator_pe))
    assert xlsx_template.status_code == 200
    assert 'filename="plantilla-inscripcion.xlsx"' in xlsx_template.headers["content-disposition"]
    workbook = load_workbook(io.BytesIO(xlsx_template.content))
    assert len(workbook.sheetnames) >= 2  # the columns explained


def test_who_may_open_and_send_the_form(client: TestClient, cohorts: Cohorts, sessions: sessionmaker[Session],
                                        settings: Settings) -> None:
    anonymous = client.get(FORM, follow_redirects=False)
    assert anonymous.status_code == 303
    assert anonymous.headers["location"].startswith("/coordinacion/entrar")
    woman = cohorts.peru[0]
    assert client.get(FORM, headers=cookie(woman)).status_code == 403
    other = client.get(FORM, headers=cookie(cohorts.coordinator_cl))
    assert other.status_code == 404
    assert other.headers["content-type"].startswith("text/html")
    for path in ("plantilla.csv", "plantilla.xlsx"):
        assert client.get(f"/coordinacion/PE/{path}", headers=cookie(cohorts.coordinator_cl)).status_code == 404

    before = row_counts(sessions)
    fields = {"csrf": csrf(settings, cohorts.coordinator_cl), "clave": "k1"}
    refused = upload(client, cohorts.coordinator_cl, csv_file([person("PE")]), fields)
    assert refused.status_code == 404
    assert upload(client, woman, csv_file([person("PE")]), {"csrf": csrf(settings, woman)}).status_code == 403
    logged_out = client.post(FORM, files={"file": ("lista.csv", csv_file([person("PE")]), "text/csv")},
                             headers=SAME_ORIGIN, follow_redirects=False)
    assert logged_out.status_code == 303
    assert row_counts(sessions) == before


def test_an_admin_imports_into_the_country_she_chose(client: TestClient, cohorts: Cohorts,
                                                     sessions: sessionmaker[Session]) -> None:
    fields = form_fields(client, cohorts.admin, "/coordinacion/CL/inscribir")
    rows = [person("CL", pais=""), person("CL", pais="Chile"), person("PE")]
    response = upload(client, cohorts.admin, csv_file(rows), fields, url="/coordinacion/CL/inscribir")
    assert response.status_code == 200, response.text
    found = report_rows(response.text)
    assert "Inscrita" in found[2]
    assert "Inscrita" in found[3]
    assert "No se registró" in found[4]
    assert "Columna «pais»" in found[4]
    with sessions() as session:
        assert enrolled_in(session, "CL") == 3
        assert enrolled_in(session, "PE") == 2


@pytest.mark.parametrize("given", ["missing", "wrong", "other session", "other site"])
def test_csrf_missing_or_wrong_stores_nothing(client: TestClient, cohorts: Cohorts, settings: Settings,
                                              sessions: sessionmaker[Session], given: str) -> None:
    coordinator = cohorts.coordinator_pe
    fields = form_fields(client, coordinator)
    headers: dict[str, str] = {}
    match given:
        case "missing":
            del fields["csrf"]
        case "wrong":
            fields["csrf"] = "0" * 64
        case "other session":
            fields["csrf"] = csrf(settings, cohorts.admin)
        case "other site":
            headers = {"Origin": "https://otro.example"}
    before = row_counts(sessions)
    response = upload(client, coordinator, csv_file([person()]), fields, headers=headers)
    assert response.status_code == 403
    assert "El formulario venció" in response.text
    assert row_counts(sessions) == before


def test_good_and_bad_rows_are_reported_row_by_row_with_the_codes_shown_once(
    client: TestClient, cohorts: Cohorts, sessions: sessionmaker[Session]
) -> None:
    coordinator = cohorts.coordinator_pe
    rows = [person(), person(fecha_nacimiento="14/05/1988"), person(genero="hombre"), person()]
    response = upload(client, coordinator, csv_file(rows, sep=";"), form_fields(client, coordinator))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"].startswith("text/html")
    found = report_rows(response.text)
    assert sorted(found) == [2, 3, 4, 5]
    assert "Inscrita" in found[2]
    assert "Inscrita" in found[5]
    assert "No se registró" in found[3]
    assert "Columna «fecha_nacimiento»:" in found[3]
    assert "Columna «genero»:" in found[4]
    codes = [re.search(r'Código de activación: <strong class="codigo">([^<]+)</strong>', found[n]) for n in (2, 5)]
    assert all(codes)
    assert "No se volverán a" in response.text
    assert 'data-cifra="enrolled">2<' in response.text
    with sessions() as session:
        assert enrolled_in(session, "PE") == 4
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "applications.imported")).one()
        assert entry.actor_id == coordinator.user_id
        assert entry.data["enrolled"] == 2
    # shown in this page only: not in the audit log
    code = codes[0].group(1) if codes[0] else ""
    with sessions() as session:
        assert all(code not in str(e.data) for e in session.scalars(select(AuditEntry)))


def test_a_dry_run_checks_and_stores_nothing(client: TestClient, cohorts: Cohorts,
                                            sessions: sessionmaker[Session]) -> None:
    coordinator = cohorts.coordinator_pe
    before = row_counts(sessions)
    response = upload(client, coordinator, xlsx_file([person(), person(region="Lima Norte")]),
                      form_fields(client, coordinator), action="revisar", filename="lista.xlsx",
                      media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    assert response.status_code == 200, response.text
    assert "no se guardó nada" in response.text
    found = report_rows(response.text)
    assert "Se inscribiría" in found[2]
    assert "No se registraría" in found[3]
    assert "Columna «region»" in found[3]
    assert "Código de activación" not in response.text
    assert row_counts(sessions) == before


def test_a_double_submit_of_one_form_registers_once(client: TestClient, cohorts: Cohorts,
                                                    sessions: sessionmaker[Session]) -> None:
    coordinator = cohorts.coordinator_pe
    fields = form_fields(client, coordinator)
    data = csv_file([person(), person()])
    first = upload(client, coordinator, data, fields)
    enrolments = count(sessions, Enrolment)
    second = upload(client, coordinator, data, fields)
    assert first.status_code == second.status_code == 200
    assert count(sessions, Enrolment) == enrolments
    assert "Inscrita" in report_rows(second.text)[2]  # the first report again
    # a new render of the form is a new import: the same women are then duplicates, not registered twice
    third = upload(client, coordinator, data, form_fields(client, coordinator))
    assert third.status_code == 200
    assert count(sessions, Enrolment) == enrolments
    assert 'data-cifra="enrolled">0<' in third.text
    assert 'data-cifra="refused">2<' in third.text


def test_a_file_over_10_mb_is_a_spanish_413_page(client: TestClient, cohorts: Cohorts,
                                                 sessions: sessionmaker[Session]) -> None:
    coordinator = cohorts.coordinator_pe
    before = row_counts(sessions)
    big = csv_file([person()]) + b"x" * (MAX_BYTES + 1)
    response = upload(client, coordinator, big, form_fields(client, coordinator))
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert message("file_too_large") in response.text
    assert f'href="{FORM}"' in response.text
    assert row_counts(sessions) == before


@pytest.mark.parametrize(("body", "text"), [
    (b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4, "not_a_spreadsheet"),
    (b"", "not_a_spreadsheet"),
    (b"nombre;edad\r\nRosa;40\r\n", "spreadsheet_columns"),
])
def test_a_file_that_is_not_the_template_is_a_spanish_error_page(client: TestClient, cohorts: Cohorts,
                                                                 sessions: sessionmaker[Session], body: bytes,
                                                                 text: str) -> None:
    coordinator = cohorts.coordinator_pe
    before = row_counts(sessions)
    response = upload(client, coordinator, body, form_fields(client, coordinator), filename="foto.png",
                      media_type="image/png")
    assert response.status_code in (400, 422)
    assert response.headers["content-type"].startswith("text/html")
    assert 'lang="es"' in response.text
    assert message(text) in response.text
    if text == "spreadsheet_columns":
        assert "Columna «nombre»" in response.text
    assert row_counts(sessions) == before


def test_the_form_without_its_file_is_a_spanish_page(client: TestClient, cohorts: Cohorts) -> None:
    coordinator = cohorts.coordinator_pe
    response = client.post(FORM, data={**form_fields(client, coordinator), "accion": "inscribir"},
                           headers={**cookie(coordinator), **SAME_ORIGIN})
    assert response.status_code in (400, 415)
    assert response.headers["content-type"].startswith("text/html")
    assert 'lang="es"' in response.text


def test_the_form_counts_toward_the_api_imports_hourly_limit(client: TestClient, cohorts: Cohorts,
                                                             sessions: sessionmaker[Session],
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.enrolment.imports.IMPORTS_PER_HOUR", 2)
    coordinator = cohorts.coordinator_pe
    api = client.post("/api/v1/applications/import", params={"dry_run": "true"}, headers=coordinator.headers,
                      files={"file": ("lista.csv", csv_file([person()]), "text/csv")})
    assert api.status_code == 200
    checked = upload(client, coordinator, csv_file([person()]), form_fields(client, coordinator), action="revisar")
    assert checked.status_code == 200
    assert checked.headers["ratelimit-policy"] == api.headers["ratelimit-policy"] == '"user";q=30;w=3600'
    before = row_counts(sessions)
    throttled = upload(client, coordinator, csv_file([person()]), form_fields(client, coordinator))
    assert throttled.status_code == 429
    assert "Demasiados intentos" in throttled.text
    assert throttled.headers["retry-after"].isdigit()
    assert row_counts(sessions) == before
