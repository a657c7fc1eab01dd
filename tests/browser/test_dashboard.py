"""The coordinators' dashboard in headless Chromium at a phone's size: a coordinator logs in, sees her country's
figures and none of another's, opens a woman's page, downloads the CSV; axe-core finds no WCAG 2.2 AA violation.

axe-core comes from npm, installed at test time into a cache outside the repository; without npm the test is
skipped, except in CI (CI=true), where that is a failure (as a missing browser is)."""

import csv
import io
from pathlib import Path
from typing import Any

import httpx

from app.content.loader import load_content
from app.content.service import load_modules
from app.core.db import make_engine, make_sessionmaker
from app.storage import storage_for
from tests.browser.conftest import assert_accessible
from tests.conftest import drop_database, make_test_settings, migrated_database
from tests.enrolment.imports_helpers import csv_file, person
from tests.factories import Factory
from tests.live import live_server
from tests.offline.conftest import CONTENT

ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"
PASSWORD = "clave-segura-123"
def no_sideways_scroll(page: Any) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"))


def test_a_coordinator_follows_her_cohort_from_her_phone(browser: Any, axe_script: Path, backend: str,
                                                         tmp_path: Path) -> None:
    url = migrated_database(backend, tmp_path)
    settings = make_test_settings(url, data_dir=tmp_path / "data")
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    with sessions() as session, session.begin():
        load_modules(session, storage_for(settings), load_content(CONTENT))
    factory = Factory(sessions, settings)
    coordinator, admin = factory.coordinator("PE"), factory.admin()
    rosa = factory.participant("PE", first_name="Rosa", last_name="Huamán Ccori")
    factory.participant("PE", first_name="Juana", last_name="Quispe Mamani", phone=None)
    factory.participant("CL", first_name="Ximena", last_name="Chilote Reservada")

    context = browser.new_context(viewport={"width": 360, "height": 800}, bypass_csp=True, accept_downloads=True)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    try:
        with live_server(settings) as base:
            # Peru is full, Rosa withdraws, Teodora gets her seat from the waitlist: she must be told
            pe = next(c for c in httpx.get(f"{base}/api/v1/countries").json() if c["code"] == "PE")
            httpx.patch(f"{base}/api/v1/countries/PE", json={"capacity": pe["enrolled"]},
                        headers=admin.headers).raise_for_status()
            factory.participant("PE", first_name="Teodora", last_name="Ccallo Espera")
            httpx.post(f"{base}/api/v1/enrolments/{rosa.enrolment_id}/withdraw", json={"reason": "Se mudó"},
                       headers=admin.headers).raise_for_status()
            report = httpx.get(f"{base}/api/v1/reports/countries/PE", headers=coordinator.headers).json()

            page.goto(f"{base}/coordinacion/PE")
            assert page.url == f"{base}/coordinacion/entrar?next=/coordinacion/PE"
            assert_accessible(page, axe_script, "login")
            page.get_by_label("Correo electrónico").fill(coordinator.username)
            page.get_by_label("Contraseña").fill(PASSWORD)
            page.get_by_role("button", name="Ingresar").click()
            page.wait_for_url(f"{base}/coordinacion/PE")
            assert page.get_by_role("heading", level=1).inner_text() == "Perú"
            text = page.locator("main").inner_text()
            assert "Chilote" not in page.content()
            assert "Ccallo Espera" in text
            assert "Salió de la lista de espera y aún no fue avisada" in text
            figures = {k: int(page.locator(f"[data-cifra='{k}']").inner_text()) for k in ("waitlisted", "funnel-1")}
            assert figures == {"waitlisted": report["statuses"]["waitlisted"],
                               "funnel-1": report["statuses"]["applied"]}
            assert page.locator("svg[role=img] title").count() == 2
            assert no_sideways_scroll(page)
            assert_accessible(page, axe_script, "country page")
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(ARTIFACTS / "coordinacion-360x800.png"))
            page.screenshot(path=str(ARTIFACTS / "coordinacion-360x800-entera.png"), full_page=True)

            # the keyboard: the skip link comes first and is visible when focused
            page.keyboard.press("Tab")
            assert page.evaluate("document.activeElement.textContent") == "Saltar al contenido"

            page.get_by_role("button", name="Marcar como avisada a Teodora Ccallo Espera").click()
            page.wait_for_url(f"{base}/coordinacion/PE#atencion")
            assert "aún no fue avisada" not in page.locator("main").inner_text()

            with page.expect_download() as download_info:
                page.get_by_role("link", name="CSV para Excel en español (separado por «;»)").click()
            download = download_info.value
            assert download.suggested_filename == "participantes-PE.csv"
            content = Path(download.path()).read_bytes()
            assert content.startswith(b"\xef\xbb\xbf")
            rows = list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=";"))
            assert sorted(r[2] for r in rows[1:]) == ["Ccallo Espera", "Huamán Ccori", "Quispe Mamani"]
            assert "Chilote" not in content.decode("utf-8-sig")

            page.get_by_role("link", name="Participantes", exact=True).click()
            page.get_by_label("Buscar por nombre, documento o código").fill("quispe")
            page.get_by_role("button", name="Buscar").click()
            assert_accessible(page, axe_script, "participants")
            page.get_by_role("link", name="Juana Quispe Mamani").click()
            assert page.get_by_role("heading", level=1).inner_text() == "Juana Quispe Mamani"
            assert "Avance por módulo" in page.locator("main").inner_text()
            assert_accessible(page, axe_script, "a woman's page")

            # bulk registration: a small CSV through the form, then its report (Peru is full: waitlisted)
            page.goto(f"{base}/coordinacion/PE")
            page.get_by_role("link", name="Inscribir a varias mujeres desde una planilla").click()
            page.wait_for_url(f"{base}/coordinacion/PE/inscribir")
            assert_accessible(page, axe_script, "bulk registration form")
            sheet = csv_file([person("PE", nombres="Florencia"), person("PE", genero="hombre")], sep=";")
            page.get_by_label("Planilla (CSV o .xlsx, máximo 10 MB)").set_input_files(
                files=[{"name": "lista.csv", "mimeType": "text/csv", "buffer": sheet}])
            page.get_by_role("button", name="Inscribir", exact=True).click()
            page.get_by_role("heading", level=1, name="Planilla importada").wait_for()
            rows_shown = page.locator("tr[data-fila]")
            assert rows_shown.count() == 2
            assert "En lista de espera" in rows_shown.nth(0).inner_text()
            assert "Columna «genero»" in rows_shown.nth(1).inner_text()
            assert "No se volverán a" in page.locator("main").inner_text()
            assert no_sideways_scroll(page)
            assert_accessible(page, axe_script, "bulk registration report")

            assert errors == []
            # another country's woman, by her address: not found, and her name is nowhere (the browser logs the 404s)
            chilean = httpx.get(f"{base}/api/v1/enrolments", params={"country": "CL"},
                                headers=admin.headers).json()["items"][0]["participant_id"]
            response = page.goto(f"{base}/coordinacion/PE/participantes/{chilean}")
            assert response is not None
            assert response.status == 404
            assert "Chilote" not in page.content()
            response = page.goto(f"{base}/coordinacion/CL")
            assert response is not None
            assert response.status == 404

            # at 320 px nothing needs sideways scrolling
            page.set_viewport_size({"width": 320, "height": 640})
            page.goto(f"{base}/coordinacion/PE")
            assert no_sideways_scroll(page)

            page.get_by_role("button", name="Cerrar sesión").click()
            page.wait_for_url(f"{base}/coordinacion/entrar")
            page.goto(f"{base}/coordinacion/PE")
            assert page.url.startswith(f"{base}/coordinacion/entrar")
    finally:
        context.close()
        engine.dispose()
        drop_database(url)
