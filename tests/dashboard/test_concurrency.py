"""A double tap, or two coordinators at once, on the same "avisada" button: she is marked once."""

from pathlib import Path

import httpx
from sqlalchemy import func, select

from app.models import AuditEntry, Enrolment
from tests.dashboard.conftest import cookie, csrf
from tests.enrolment.imports_helpers import csv_file, person
from tests.factories import Factory
from tests.live import live_service, run_at_once

API = "/api/v1"


def test_simultaneous_avisada_marks_her_once(backend: str, tmp_path: Path) -> None:
    with live_service(backend, tmp_path, with_programme=False) as live:
        factory = Factory(live.sessions, live.settings)
        admin = factory.admin()
        coordinators = [factory.coordinator("PE") for _ in range(3)]
        first = factory.participant("PE")
        with httpx.Client(base_url=live.base_url) as http:
            pe = next(c for c in http.get(f"{API}/countries").json() if c["code"] == "PE")
            http.patch(f"{API}/countries/PE", json={"capacity": pe["enrolled"]},
                       headers=admin.headers).raise_for_status()
            waiting = factory.participant("PE")
            http.post(f"{API}/enrolments/{first.enrolment_id}/withdraw", json={"reason": "Se mudó"},
                      headers=admin.headers).raise_for_status()
        url = f"{live.base_url}/coordinacion/PE/inscripciones/{waiting.enrolment_id}/avisada"

        def tap(actor):  # type: ignore[no-untyped-def]
            return lambda http: http.post(url, headers={**cookie(actor), "Origin": live.base_url},
                                          data={"csrf": csrf(live.settings, actor)})

        answers = run_at_once([tap(c) for c in coordinators for _ in range(2)])
        assert [a.status_code for a in answers] == [303] * 6
        with live.sessions() as session:
            assert session.get_one(Enrolment, waiting.enrolment_id).notified_at is not None
            marks = session.scalar(select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action == "enrolment.notified", AuditEntry.entity_id == str(waiting.enrolment_id)))
        assert marks == 1


def test_simultaneous_submits_of_one_import_form_register_each_woman_once(backend: str, tmp_path: Path) -> None:
    """A double (triple) tap on "Inscribir": the same form key, so one import; the others get its report."""
    with live_service(backend, tmp_path, with_programme=False) as live:
        coordinator = Factory(live.sessions, live.settings).coordinator("PE")
        with live.sessions() as session:
            before = session.scalar(select(func.count()).select_from(Enrolment)) or 0
        sheet = csv_file([person(), person()])
        fields = {"csrf": csrf(live.settings, coordinator), "clave": "una-sola-vez", "accion": "inscribir"}

        def tap(http: httpx.Client) -> httpx.Response:
            return http.post(f"{live.base_url}/coordinacion/PE/inscribir", data=fields,
                             files={"file": ("lista.csv", sheet, "text/csv")},
                             headers={**cookie(coordinator), "Origin": live.base_url})

        answers = run_at_once([tap, tap, tap])
        assert all(a.status_code in (200, 409) for a in answers), [a.status_code for a in answers]
        assert any(a.status_code == 200 and "Planilla importada" in a.text for a in answers)
        with live.sessions() as session:
            assert session.scalar(select(func.count()).select_from(Enrolment)) == before + 2
