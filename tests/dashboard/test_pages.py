"""The dashboard's pages for each kind of visitor, and the figures and links they show."""

import csv
import io
import re

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.core.config import Settings
from app.dashboard.pages import CSP
from app.models import AuditEntry
from tests.dashboard.conftest import SAME_ORIGIN, Cohorts, cookie, csrf
from tests.factories import Actor, Factory

API = "/api/v1"


def pages(cohorts: Cohorts) -> list[str]:
    woman = cohorts.peru[0].participant_id
    return ["/coordinacion/PE", "/coordinacion/PE/participantes", "/coordinacion/PE/participantes?q=rosa",
            f"/coordinacion/PE/participantes/{woman}", "/coordinacion/PE/participantes.csv",
            "/coordinacion/PE/participantes.xlsx"]


def peruvian_names(cohorts: Cohorts) -> list[str]:
    return ["Huamán Peruana", "Quispe Andina", "Rosa"]


def test_anonymous_visitors_are_sent_to_the_login_page_and_come_back(client: TestClient, cohorts: Cohorts) -> None:
    for url in [*pages(cohorts), "/coordinacion"]:
        response = client.get(url, follow_redirects=False)
        assert response.status_code == 303, url
        location = response.headers["location"]
        assert location.startswith("/coordinacion/entrar"), location
        assert "Huamán" not in response.text
    back = client.get("/coordinacion/PE/participantes?q=rosa", follow_redirects=False).headers["location"]
    assert back == "/coordinacion/entrar?next=/coordinacion/PE/participantes%3Fq%3Drosa"


def test_a_participant_is_told_in_spanish_that_the_dashboard_is_not_for_her(client: TestClient,
                                                                            cohorts: Cohorts) -> None:
    for url in [*pages(cohorts), "/coordinacion"]:
        response = client.get(url, headers=cookie(cohorts.peru[0]), follow_redirects=False)
        assert response.status_code == 403, url
        assert response.headers["content-type"].startswith("text/html")
        assert "Sin permiso" in response.text
        assert 'lang="es"' in response.text
        assert "Quispe Andina" not in response.text


def test_another_countrys_coordinator_finds_nothing_and_sees_no_name(client: TestClient, cohorts: Cohorts) -> None:
    for url in pages(cohorts):
        response = client.get(url, headers=cookie(cohorts.coordinator_cl), follow_redirects=False)
        assert response.status_code == 404, url
        assert "Página no encontrada" in response.text
        for name in peruvian_names(cohorts):
            assert name not in response.text, (url, name)
    # nor under her own country's address: a Peruvian woman is not found in Chile's pages, and vice versa
    peruvian = cohorts.peru[0].participant_id
    chilean = cohorts.chile[0].participant_id
    assert client.get(f"/coordinacion/CL/participantes/{peruvian}", headers=cookie(cohorts.coordinator_cl)
                      ).status_code == 404
    response = client.get(f"/coordinacion/PE/participantes/{chilean}", headers=cookie(cohorts.coordinator_pe))
    assert response.status_code == 404
    assert "Chilote" not in response.text
    # an admin neither: each woman's page is under her own country
    assert client.get(f"/coordinacion/PE/participantes/{chilean}", headers=cookie(cohorts.admin)).status_code == 404


@pytest.mark.parametrize("who", ["coordinator_pe", "admin"])
def test_her_coordinator_and_an_admin_see_peru_and_only_peru(client: TestClient, cohorts: Cohorts, who: str) -> None:
    actor: Actor = getattr(cohorts, who)
    for url in pages(cohorts):
        response = client.get(url, headers=cookie(actor), follow_redirects=False)
        assert response.status_code == 200, (url, response.text[:500])
        if url.endswith(".xlsx"):
            continue
        assert "Chilote" not in response.text, url
    assert "Huamán Peruana" in client.get("/coordinacion/PE/participantes", headers=cookie(actor)).text


def test_a_coordinator_goes_straight_to_her_country_and_an_admin_chooses_one(client: TestClient,
                                                                             cohorts: Cohorts) -> None:
    mine = client.get("/coordinacion", headers=cookie(cohorts.coordinator_pe), follow_redirects=False)
    assert (mine.status_code, mine.headers["location"]) == (303, "/coordinacion/PE")
    chooser = client.get("/coordinacion", headers=cookie(cohorts.admin))
    assert chooser.status_code == 200
    for code, name in [("PE", "Perú"), ("CL", "Chile"), ("CO", "Colombia"), ("MX", "México")]:
        assert f'href="/coordinacion/{code}">{name}</a>' in chooser.text


def test_pages_carry_a_strict_policy_and_are_never_stored(client: TestClient, cohorts: Cohorts) -> None:
    for url in [*pages(cohorts), "/coordinacion", "/coordinacion/XX"]:
        response = client.get(url, headers=cookie(cohorts.coordinator_pe), follow_redirects=False)
        assert response.headers["content-security-policy"] == CSP
        assert CSP == ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; "
                       "frame-ancestors 'none'; base-uri 'none'")
        assert response.headers["x-content-type-options"] == "nosniff"
        assert response.headers["referrer-policy"] == "same-origin"
        assert response.headers["cache-control"] == "no-store", url
    login = client.get("/coordinacion/entrar")
    assert login.headers["content-security-policy"] == CSP
    assert login.headers["cache-control"] == "no-store"
    css = client.get("/coordinacion/static/panel.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert client.get("/coordinacion/static/otro.css").status_code == 404
    # nothing from another origin, no script, no inline style (the policy would block them)
    page = client.get("/coordinacion/PE", headers=cookie(cohorts.coordinator_pe)).text
    assert "<script" not in page
    assert "style=" not in page
    assert not re.findall(r'(?:src|href)="(?:https?:)?//(?!wa\.me/)', page)


def test_an_unknown_address_or_id_is_a_spanish_page_not_json(client: TestClient, cohorts: Cohorts) -> None:
    for url in ["/coordinacion/PE/participantes/abc", "/coordinacion/PE/participantes/0", "/coordinacion/PE/nada",
                "/coordinacion/XX", "/coordinacion/PE/participantes/99999999"]:
        response = client.get(url, headers=cookie(cohorts.coordinator_pe))
        assert response.status_code == 404, url
        assert response.headers["content-type"].startswith("text/html"), url
        assert "Página no encontrada" in response.text
    # the API keeps its JSON errors
    assert client.get(f"{API}/reports/countries/XX", headers=cohorts.admin.headers).json()["error"] == "not_found"


def figures(html: str) -> dict[str, int]:
    return {key: int(value) for key, value in re.findall(r'data-cifra="([^"]+)">(\d+)<', html)}


def promote_one(client: TestClient, factory: Factory, cohorts: Cohorts) -> Actor:
    """A woman waitlisted when Peru was full, then given the seat of one who withdrew: she is to be told."""
    admin = cohorts.admin.headers
    enrolled = client.get(f"{API}/countries", headers=admin).json()
    pe = next(c for c in enrolled if c["code"] == "PE")
    assert client.patch(f"{API}/countries/PE", json={"capacity": pe["enrolled"]}, headers=admin).status_code == 200
    waiting = factory.participant("PE", first_name="Teodora", last_name="Ccori Espera")
    withdrawn = client.post(f"{API}/enrolments/{cohorts.peru[1].enrolment_id}/withdraw",
                            json={"reason": "Se mudó"}, headers=admin)
    assert withdrawn.status_code == 200, withdrawn.text
    return waiting


def test_the_figures_on_the_page_are_the_reports(client: TestClient, factory: Factory, cohorts: Cohorts) -> None:
    promote_one(client, factory, cohorts)
    factory.participant("PE", first_name="Lucía", last_name="En Espera")  # Peru is full: waitlisted
    report = client.get(f"{API}/reports/countries/PE", headers=cohorts.admin.headers).json()
    country = next(c for c in client.get(f"{API}/countries").json() if c["code"] == "PE")
    html = client.get("/coordinacion/PE", headers=cookie(cohorts.coordinator_pe)).text
    shown = figures(html)
    s = report["statuses"]
    assert shown["capacity"] == country["capacity"]
    assert shown["occupied"] == country["enrolled"]
    assert shown["free"] == country["capacity"] - country["enrolled"]
    assert shown["waitlisted"] == s["waitlisted"] == 1
    assert [shown[f"funnel-{i}"] for i in range(1, 5)] == [
        s["applied"], s["enrolled"] + s["completed"], s["completed"], s["certified"]]
    assert shown["withdrawn"] == s["withdrawn"] == 1
    for region in report["regions"]:
        assert shown[f"region-{region['region']}-applied"] == region["applied"]
        assert shown[f"region-{region['region']}-enrolled"] == region["enrolled"]
    for module in report["modules"]:
        assert shown[f"module-{module['slug']}-started"] == module["started"]
    # the charts say the same in words (their <desc>, read by a screen reader) as the tables
    region_chart = html.split('<desc id="regiones-desc">', 1)[1].split("</desc>", 1)[0]
    for region in report["regions"]:
        seated = region["enrolled"] + region["completed"]
        assert f"{region['region']}: {region['completed']} de {seated}" in region_chart
    assert html.count('<svg role="img" aria-labelledby=') == 2


def test_who_needs_attention_with_tap_to_call_and_whatsapp_links(client: TestClient, factory: Factory,
                                                                 cohorts: Cohorts) -> None:
    waiting = promote_one(client, factory, cohorts)
    phone = client.get(f"{API}/participants/{waiting.participant_id}", headers=cohorts.admin.headers).json()["phone"]
    page = client.get("/coordinacion/PE", headers=cookie(cohorts.coordinator_pe)).text
    section = page.split('id="atencion"', 1)[1].split("</section>", 1)[0]
    assert "Ccori Espera" in section
    assert "Salió de la lista de espera y aún no fue avisada" in section
    digits = phone.lstrip("+")
    assert f'href="tel:+{digits}"' in section
    assert f'href="https://wa.me/{digits}"' in section
    for link in re.findall(r'href="(tel:[^"]*)"', page):
        assert re.fullmatch(r"tel:\+[1-9]\d{7,14}", link), link
    for link in re.findall(r'href="(https://wa\.me/[^"]*)"', page):
        assert re.fullmatch(r"https://wa\.me/[1-9]\d{7,14}", link), link
    assert "Marcar como avisada" in section


def notified_form(client: TestClient, cohorts: Cohorts) -> str:
    page = client.get("/coordinacion/PE", headers=cookie(cohorts.coordinator_pe)).text
    found = re.search(r'action="(/coordinacion/PE/inscripciones/\d+/avisada)"', page)
    assert found
    return found.group(1)


def still_to_notify(client: TestClient, cohorts: Cohorts, woman: Actor) -> bool:
    report = client.get(f"{API}/reports/countries/PE", headers=cohorts.admin.headers).json()
    return any(i["participant_id"] == woman.participant_id and "promoted_not_notified" in i["reasons"]
               for i in report["attention"])


def test_marking_avisada_needs_the_sessions_token_from_this_site(client: TestClient, factory: Factory,
                                                                settings: Settings, cohorts: Cohorts) -> None:
    waiting = promote_one(client, factory, cohorts)
    action = notified_form(client, cohorts)
    coordinator = cohorts.coordinator_pe
    headers = {**cookie(coordinator), **SAME_ORIGIN}
    refused = [
        client.post(action, headers=headers, data={}),
        client.post(action, headers=headers, data={"csrf": "0" * 64}),
        client.post(action, headers=headers, data={"csrf": csrf(settings, cohorts.admin)}),  # another session's
        client.post(action, headers={**cookie(coordinator), "Origin": "https://otro.example"},
                    data={"csrf": csrf(settings, coordinator)}),
        client.post(action, headers={**cookie(coordinator), "Sec-Fetch-Site": "cross-site"},
                    data={"csrf": csrf(settings, coordinator)}),
        client.post(action, headers={**cookie(coordinator), "Origin": "null"},
                    data={"csrf": csrf(settings, coordinator)}),
    ]
    for response in refused:
        assert response.status_code == 403
        assert "El formulario venció o no viene de esta página" in response.text
    assert still_to_notify(client, cohorts, waiting)
    # Chile's coordinator, with her own valid token: not found, nothing changed
    other = cohorts.coordinator_cl
    foreign = client.post(action, headers={**cookie(other), **SAME_ORIGIN}, data={"csrf": csrf(settings, other)})
    assert foreign.status_code == 404
    assert "Ccori" not in foreign.text
    assert still_to_notify(client, cohorts, waiting)

    done = client.post(action, headers=headers, data={"csrf": csrf(settings, coordinator)}, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, "/coordinacion/PE#atencion")
    assert not still_to_notify(client, cohorts, waiting)
    assert "Marcar como avisada" not in client.get("/coordinacion/PE", headers=cookie(coordinator)).text
    # once more (a double tap): the API's answer, as a page
    again = client.post(action, headers=headers, data={"csrf": csrf(settings, coordinator)}, follow_redirects=False)
    assert again.status_code == 303


def test_a_woman_who_was_not_promoted_cannot_be_marked(client: TestClient, settings: Settings,
                                                       cohorts: Cohorts) -> None:
    coordinator = cohorts.coordinator_pe
    response = client.post(f"/coordinacion/PE/inscripciones/{cohorts.peru[0].enrolment_id}/avisada",
                           headers={**cookie(coordinator), **SAME_ORIGIN}, data={"csrf": csrf(settings, coordinator)})
    assert response.status_code == 409
    assert "No se pudo hacer" in response.text


def test_a_womans_page_shows_her_progress_per_module_and_lesson(client: TestClient, cohorts: Cohorts,
                                                                sessions: sessionmaker[Session]) -> None:
    woman = cohorts.peru[0]
    progress = client.get(f"{API}/participants/{woman.participant_id}/progress", headers=cohorts.admin.headers).json()
    page = client.get(f"/coordinacion/PE/participantes/{woman.participant_id}", headers=cookie(cohorts.coordinator_pe))
    assert page.status_code == 200
    assert "<h1>Rosa Huamán Peruana</h1>" in page.text
    for module in progress["modules"]:
        assert f"{module['title']}: {module['percent']} %" in page.text
        for lesson in module["lessons"]:
            assert lesson["title"] in page.text
    with sessions() as session:
        viewers = session.scalars(select(AuditEntry.actor_id).where(
            AuditEntry.action == "participant.viewed", AuditEntry.entity_id == str(woman.participant_id))).all()
    assert cohorts.coordinator_pe.user_id in viewers  # she can see in /me/data that her coordinator looked


def test_searching_by_name_regardless_of_accents(client: TestClient, cohorts: Cohorts) -> None:
    found = client.get("/coordinacion/PE/participantes", params={"q": "huaman"}, headers=cookie(cohorts.coordinator_pe))
    assert "Huamán Peruana" in found.text
    assert "Quispe Andina" not in found.text
    assert "1 resultado para «huaman»" in found.text
    # a search of Chile's names from Peru's page finds nobody
    none = client.get("/coordinacion/PE/participantes", params={"q": "Chilote"}, headers=cookie(cohorts.admin))
    assert "Ximena" not in none.text
    assert "0 resultados para «Chilote»" in none.text


def test_the_exports_are_the_apis_under_the_cookie_session_and_audited(
        client: TestClient, cohorts: Cohorts, sessions: sessionmaker[Session]) -> None:
    coordinator = cohorts.coordinator_pe
    response = client.get("/coordinacion/PE/participantes.csv", headers=cookie(coordinator))
    assert response.status_code == 200
    assert response.headers["content-disposition"] == 'attachment; filename="participantes-PE.csv"'
    assert response.headers["cache-control"] == "no-store"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    api = client.get(f"{API}/reports/countries/PE/participants.csv", params={"sep": ";"}, headers=coordinator.headers)
    assert rows == list(csv.reader(io.StringIO(api.content.decode("utf-8-sig")), delimiter=";"))
    assert rows[0][:3] == ["Código", "Nombres", "Apellidos"]
    assert sorted(r[2] for r in rows[1:]) == ["Huamán Peruana", "Quispe Andina"]
    commas = client.get("/coordinacion/PE/participantes.csv?sep=,", headers=cookie(coordinator))
    assert commas.content.decode("utf-8-sig").splitlines()[0].startswith("Código,Nombres,")
    xlsx = client.get("/coordinacion/PE/participantes.xlsx", headers=cookie(coordinator))
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert sorted(str(row[2]) for row in sheet.iter_rows(min_row=2, values_only=True)) == [
        "Huamán Peruana", "Quispe Andina"]
    with sessions() as session:
        formats = session.scalars(select(AuditEntry.data).where(
            AuditEntry.action == "participants.exported", AuditEntry.actor_id == coordinator.user_id)).all()
    assert [d["format"] for d in formats].count("csv") == 3  # two from the dashboard, one from the API
    assert [d["format"] for d in formats].count("xlsx") == 1
