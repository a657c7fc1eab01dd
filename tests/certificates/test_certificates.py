"""Issuing, reading, revoking, reissuing and verifying certificates through HTTP, on both databases; every PDF
rendered by real WeasyPrint."""

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.certificates import service
from app.certificates.render import PROGRAMME
from app.core.base import utcnow
from app.core.config import Settings
from app.models import STATUS_LIST_SIZE, AuditEntry, Certificate, CertificateStatus, Enrolment, Participant
from app.storage import Storage
from tests.certificates.conftest import API, complete_programme
from tests.factories import Actor, Factory
from tests.progress.conftest import Catalogue


def issue(client: TestClient, admin: Actor, participant: Actor, **extra: Any) -> Any:
    return client.post(f"{API}/certificates", json={"participant_id": participant.participant_id, **extra},
                       headers=admin.headers)


def issued(client: TestClient, admin: Actor, participant: Actor) -> dict[str, Any]:
    response = issue(client, admin, participant)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def pdf_text(pdf: bytes) -> str:
    reader = PdfReader(io.BytesIO(pdf))
    assert len(reader.pages) == 1
    return " ".join(reader.pages[0].extract_text().split())


def verify(client: TestClient, code: str) -> Any:
    return client.get(f"{API}/verify/{code}")


# ---------------------------------------------------------------------------------------------------------------
# eligibility and issuance


def test_not_complete_answers_409_with_the_missing_modules_and_lessons(
        client: TestClient, factory: Factory, admin: Actor, catalogue: Catalogue) -> None:
    learner = factory.participant("PE")
    response = issue(client, admin, learner)
    assert response.status_code == 409
    body = response.json()
    assert body["error"] == "not_complete"
    assert body["detail"]
    assert set(body["reasons"]) == {
        "module:saberes", "lesson:saberes/valor", "lesson:saberes/oficios",
        "module:precio", "lesson:precio/costos", "lesson:precio/cuentas",
    }  # the optional module "ferias" and the optional lesson "extra" hold nothing back


def test_complete_issues_once_and_the_second_call_answers_the_same(
        client: TestClient, admin: Actor, graduate: Actor, sessions: sessionmaker[Session]) -> None:
    first = issued(client, admin, graduate)
    assert first["status"] == "issued"
    assert first["verify_url"] == f"http://127.0.0.1:8000/verificar/{first['code']}"
    again = issue(client, admin, graduate)
    assert again.status_code == 200
    assert again.json() == first
    with sessions() as session:
        rows = session.scalars(select(Certificate).where(Certificate.participant_id == graduate.participant_id)).all()
        assert len(rows) == 1
        assert rows[0].override_reason is None
        assert [m["slug"] for m in rows[0].modules] == ["saberes", "precio"]
        assert rows[0].total_minutes == 50  # the modules' estimated minutes (tests/progress/conftest.py)


def test_the_pdf_is_hers_her_coordinators_and_the_admins(
        client: TestClient, factory: Factory, admin: Actor, graduate: Actor) -> None:
    certificate = issued(client, admin, graduate)
    url = f"{API}/certificates/{certificate['id']}/pdf"
    for reader in (graduate, factory.coordinator("PE"), admin):
        response = client.get(url, headers=reader.headers)
        assert response.status_code == 200
        assert response.headers["content-type"] == "application/pdf"
        assert response.headers["cache-control"] == "private, no-store"
        text = pdf_text(response.content)
        assert "María de los Ángeles Huamán Quispe de la Cruz" in text
        assert " ".join(PROGRAMME.split()) in text
        assert certificate["code"] in text
    for outsider in (factory.participant("PE"), factory.coordinator("CL")):
        response = client.get(url, headers=outsider.headers)
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"


def test_the_pdf_is_rendered_once_and_stored(client: TestClient, admin: Actor, graduate: Actor,
                                             sessions: sessionmaker[Session], storage: Any) -> None:
    certificate = issued(client, admin, graduate)
    first = client.get(f"{API}/certificates/{certificate['id']}/pdf", headers=admin.headers)
    second = client.get(f"{API}/certificates/{certificate['id']}/pdf", headers=admin.headers)
    assert first.content == second.content
    with sessions() as session:
        row = session.get_one(Certificate, certificate["id"])
        assert first.headers["etag"] == f'"{row.pdf_sha256}"'
        assert storage.exists(row.pdf_sha256)


def test_admin_override_is_written_and_audited(
        client: TestClient, factory: Factory, admin: Actor, catalogue: Catalogue,
        sessions: sessionmaker[Session]) -> None:
    learner = factory.participant("PE")
    blank = issue(client, admin, learner, override_reason="   ")
    assert blank.status_code == 422
    response = issue(client, admin, learner, override_reason="Completó el curso en papel en la comunidad")
    assert response.status_code == 201, response.text
    with sessions() as session:
        row = session.get_one(Certificate, response.json()["id"])
        assert row.override_reason == "Completó el curso en papel en la comunidad"
        entry = session.scalars(select(AuditEntry).where(
            AuditEntry.action == "certificate.issued", AuditEntry.entity_id == str(row.id))).one()
        assert entry.actor_id == admin.user_id
        assert entry.data["override_reason"] == "Completó el curso en papel en la comunidad"


def test_only_admins_issue_and_unknown_participants_are_404(
        client: TestClient, factory: Factory, admin: Actor, graduate: Actor) -> None:
    coordinator = factory.coordinator("PE")
    assert issue(client, coordinator, graduate).status_code == 403
    assert issue(client, graduate, graduate).status_code == 403
    response = client.post(f"{API}/certificates", json={"participant_id": 2_000_000_000}, headers=admin.headers)
    assert response.status_code == 404
    extra = client.post(f"{API}/certificates", json={"participant_id": graduate.participant_id, "status": "x"},
                        headers=admin.headers)
    assert extra.status_code == 422


def test_completion_date_is_never_before_her_enrolment_nor_after_today(
        client: TestClient, factory: Factory, admin: Actor, catalogue: Catalogue,
        sessions: sessionmaker[Session]) -> None:
    learner = factory.participant("PE")
    # a phone whose clock was years behind
    complete_programme(client, learner, catalogue, occurred_at=datetime(2020, 1, 1, tzinfo=UTC))
    certificate = issued(client, admin, learner)
    with sessions() as session:
        row = session.get_one(Certificate, certificate["id"])
        enrolment = session.scalars(select(Enrolment).where(Enrolment.participant_id == learner.participant_id)).one()
        assert enrolment.enrolled_at is not None
        assert enrolment.enrolled_at <= row.completed_at <= row.issued_at <= utcnow()


def test_the_database_allows_one_issued_certificate_per_woman(
        client: TestClient, admin: Actor, graduate: Actor, sessions: sessionmaker[Session]) -> None:
    certificate = issued(client, admin, graduate)
    with sessions() as session:
        row = session.get_one(Certificate, certificate["id"])
        twin = Certificate(
            code="ZZZZZZZZZZZZZZZZZZZZ", participant_id=row.participant_id, country=row.country,
            status=CertificateStatus.ISSUED, holder_name=row.holder_name, modules=row.modules,
            total_minutes=row.total_minutes, completed_at=row.completed_at, pdf_sha256=row.pdf_sha256,
            status_list_index=(row.status_list_index + 1) % STATUS_LIST_SIZE)  # only the woman is the same
        session.add(twin)
        with pytest.raises(IntegrityError):
            session.flush()


def test_planning_a_chunk_of_women_at_once_decides_as_planning_each_alone(
        client: TestClient, factory: Factory, catalogue: Catalogue, settings: Settings,
        sessions: sessionmaker[Session]) -> None:
    graduate, behind, beginner = (factory.participant("PE") for _ in range(3))
    complete_programme(client, graduate, catalogue)
    complete_programme(client, behind, catalogue, occurred_at=datetime(2020, 1, 1, tzinfo=UTC))  # before her seat
    ids = [learner.participant_id for learner in (graduate, behind, beginner)]
    with sessions() as session:
        prefetched = service.prefetch(session, ids)
        for participant_id in ids:
            assert service.eligibility(session, participant_id, prefetched) == \
                service.eligibility(session, participant_id)
        for participant_id in ids[:2]:
            woman = session.get_one(Participant, participant_id)
            chunk, alone = (service.plan_issue(session, settings, woman, None, known).content
                            for known in (prefetched, None))
            assert (chunk.modules, chunk.completed_at, chunk.holder_name) == \
                (alone.modules, alone.completed_at, alone.holder_name)


def test_a_batch_group_where_another_issuer_won_one_woman_records_the_others_once(
        client: TestClient, factory: Factory, admin: Actor, catalogue: Catalogue, settings: Settings,
        storage: Storage, sessions: sessionmaker[Session]) -> None:
    first, second = factory.participant("PE"), factory.participant("PE")
    for learner in (first, second):
        complete_programme(client, learner, catalogue)
    with sessions() as session:
        plans = [service.plan_issue(session, settings, session.get_one(Participant, learner.participant_id), None)
                 for learner in (first, second)]
    won = issued(client, admin, first)  # between the batch's planning and its recording
    with sessions() as session, session.begin():
        service.record_many(session, storage, [(plan, "0" * 64) for plan in plans], job_id=None)
    with sessions() as session:
        rows = session.scalars(select(Certificate).where(Certificate.status == CertificateStatus.ISSUED)).all()
        assert sorted(r.participant_id for r in rows) == sorted([first.participant_id, second.participant_id])
        assert next(r.id for r in rows if r.participant_id == first.participant_id) == won["id"]
        audited = session.scalars(select(AuditEntry.entity_id).where(AuditEntry.action == "certificate.issued")).all()
        assert sorted(audited) == sorted(str(r.id) for r in rows)  # the batch audited only the one it issued


# ---------------------------------------------------------------------------------------------------------------
# lists


def test_my_certificates_are_hers_and_staff_get_403(
        client: TestClient, factory: Factory, admin: Actor, graduate: Actor) -> None:
    certificate = issued(client, admin, graduate)
    mine = client.get(f"{API}/me/certificates", headers=graduate.headers)
    assert mine.status_code == 200
    assert mine.json()["total"] == 1
    assert mine.json()["items"][0]["code"] == certificate["code"]
    assert set(mine.json()["items"][0]) == {"id", "code", "status", "issued_at", "verify_url"}
    assert client.get(f"{API}/me/certificates", headers=factory.participant("PE").headers).json() == {
        "items": [], "total": 0}
    for staff in (admin, factory.coordinator("PE")):
        assert client.get(f"{API}/me/certificates", headers=staff.headers).status_code == 403


def test_the_list_is_scoped_and_filtered(client: TestClient, factory: Factory, admin: Actor, graduate: Actor,
                                         catalogue: Catalogue) -> None:
    peruvian = issued(client, admin, graduate)
    chilean_actor = factory.participant("CL")
    chilean = issue(client, admin, chilean_actor, override_reason="Avance registrado en papel").json()

    def ids(actor: Actor, **params: str) -> set[int]:
        response = client.get(f"{API}/certificates", params=params, headers=actor.headers)
        assert response.status_code == 200, response.text
        return {item["id"] for item in response.json()["items"]}

    assert {peruvian["id"], chilean["id"]} <= ids(admin)
    assert ids(admin, country="CL") >= {chilean["id"]}
    assert peruvian["id"] not in ids(admin, country="CL")
    coordinator = factory.coordinator("PE")
    assert peruvian["id"] in ids(coordinator)
    assert chilean["id"] not in ids(coordinator)
    assert ids(coordinator, country="CL") == set()  # a filter outside her scope finds nothing
    client.post(f"{API}/certificates/{peruvian['id']}/revoke", json={"reason": "error_de_emision"},
                headers=admin.headers)
    assert peruvian["id"] in ids(admin, status="revoked")
    assert peruvian["id"] not in ids(admin, status="issued")
    assert client.get(f"{API}/certificates", headers=graduate.headers).status_code == 403


# ---------------------------------------------------------------------------------------------------------------
# revocation, reissue, verification


def test_verification_of_a_valid_certificate_in_any_spelling(
        client: TestClient, admin: Actor, graduate: Actor, sessions: sessionmaker[Session]) -> None:
    certificate = issued(client, admin, graduate)
    code = certificate["code"]
    for spelling in (code, code.lower(), code.replace("-", ""), code.replace("-", "").lower()):
        response = verify(client, spelling)
        assert response.status_code == 200, spelling
        body = response.json()
        assert body["status"] == "valid"
        assert body["holder_name"] == "María de los Ángeles Huamán Quispe de la Cruz"
        assert body["programme"] == PROGRAMME
        assert body["country"] == "PE"
        assert [m["slug"] for m in body["modules"]] == ["saberes", "precio"]
        assert "participant_id" not in body
        assert body["revoked_at"] is None
    # letters read for digits: O for 0, I and L for 1
    with sessions() as session, session.begin():
        session.execute(update(Certificate).where(Certificate.id == certificate["id"])
                        .values(code="0123456789ABCDEFGH1J"))
    for spelling in ("O123-4567-89AB-CDEF-GHIJ", "o123456789abcdefghlj", "0123 4567 89AB CDEF GH1J"):
        assert verify(client, spelling).json()["status"] == "valid", spelling


@pytest.mark.parametrize("code", ["ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ", "abc", "0123-4567-89AB-CDEF-GHUJ", "Ñ" * 20, "9" * 300])
def test_unknown_or_malformed_codes_are_404(client: TestClient, code: str) -> None:
    response = verify(client, code)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_revocation_keeps_the_record_and_shows_it(
        client: TestClient, admin: Actor, graduate: Actor, sessions: sessionmaker[Session]) -> None:
    certificate = issued(client, admin, graduate)
    url = f"{API}/certificates/{certificate['id']}/revoke"
    bad = client.post(url, json={"reason": "me cayó mal"}, headers=admin.headers)
    assert bad.status_code == 422
    response = client.post(url, json={"reason": "a_pedido_de_la_titular", "note": "Lo pidió por teléfono"},
                           headers=admin.headers)
    assert response.status_code == 200, response.text
    assert response.json()["status"] == "revoked"
    body = verify(client, certificate["code"]).json()
    assert body["status"] == "revoked"
    assert body["revoke_reason"] == "a_pedido_de_la_titular"
    assert body["revoked_at"] is not None
    assert "Lo pidió" not in str(body)  # the note is private
    again = client.post(url, json={"reason": "fraude"}, headers=admin.headers)
    assert again.status_code == 409
    assert again.json()["error"] == "certificate_not_issued"
    # still readable as a PDF by her, and a new one may be issued
    assert client.get(f"{API}/certificates/{certificate['id']}/pdf", headers=graduate.headers).status_code == 200
    assert issue(client, admin, graduate).status_code == 201
    with sessions() as session:
        audit = session.scalars(select(AuditEntry).where(AuditEntry.action == "certificate.revoked")).all()
        assert [a.data["reason"] for a in audit if a.entity_id == str(certificate["id"])] == ["a_pedido_de_la_titular"]


def test_reissue_prints_her_current_name_and_supersedes_the_old_one(
        client: TestClient, admin: Actor, graduate: Actor, sessions: sessionmaker[Session]) -> None:
    old = issued(client, admin, graduate)
    with sessions() as session, session.begin():
        session.execute(update(Participant).where(Participant.id == graduate.participant_id)
                        .values(first_name="María de los Ángeles", last_name="Huamán Quispe"))
    response = client.post(f"{API}/certificates/{old['id']}/reissue", json={"reason": "Rectificación del apellido"},
                           headers=admin.headers)
    assert response.status_code == 201, response.text
    new = response.json()
    assert new["status"] == "issued"
    assert new["code"] != old["code"]
    assert new["id"] != old["id"]

    superseded = verify(client, old["code"]).json()
    assert superseded["status"] == "superseded"
    assert superseded["superseded_at"] is not None
    assert superseded["holder_name"] == "María de los Ángeles Huamán Quispe de la Cruz"  # as it was printed
    assert new["code"] not in str(superseded)
    current = verify(client, new["code"]).json()
    assert current["status"] == "valid"
    assert current["holder_name"] == "María de los Ángeles Huamán Quispe"
    pdf = client.get(f"{API}/certificates/{new['id']}/pdf", headers=graduate.headers)
    assert "María de los Ángeles Huamán Quispe" in pdf_text(pdf.content)
    assert new["code"] in pdf_text(pdf.content)

    twice = client.post(f"{API}/certificates/{old['id']}/reissue", json={"reason": "otra vez"},
                        headers=admin.headers)
    assert twice.status_code == 409
    with sessions() as session:
        assert session.get_one(Certificate, old["id"]).superseded_by_id == new["id"]
        assert issue(client, admin, graduate).json()["id"] == new["id"]


def test_verification_is_throttled_per_address(client: TestClient, app: FastAPI, admin: Actor,
                                               graduate: Actor) -> None:
    certificate = issued(client, admin, graduate)
    settings = app.state.settings
    app.state.settings = settings.model_copy(update={"verification_rate_limit": 3})
    try:
        answers = [verify(client, certificate["code"]).status_code for _ in range(3)]
        answers.append(verify(client, "ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ").status_code)
        page = client.get(f"/verificar/{certificate['code']}")
    finally:
        app.state.settings = settings
    assert answers == [200, 200, 200, 429]
    assert page.status_code == 429
    assert int(page.headers["retry-after"]) >= 1


# ---------------------------------------------------------------------------------------------------------------
# the page


def test_the_page_shows_a_valid_certificate_without_script_under_a_strict_policy(
        client: TestClient, admin: Actor, graduate: Actor) -> None:
    certificate = issued(client, admin, graduate)
    response = client.get(f"/verificar/{certificate['code'].lower()}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # so default-src 'none' forbids every script
    assert "'unsafe-inline'" not in policy
    html = response.text
    assert "<script" not in html
    assert 'name="viewport"' in html
    assert "Certificado válido" in html
    assert "María de los Ángeles Huamán Quispe de la Cruz" in html
    assert "Perú" in html
    assert certificate["code"] in html


def test_the_page_says_revoked_and_superseded_plainly(client: TestClient, admin: Actor, graduate: Actor) -> None:
    first = issued(client, admin, graduate)
    second = client.post(f"{API}/certificates/{first['id']}/reissue", json={"reason": "Rectificación"},
                         headers=admin.headers).json()
    page = client.get(f"/verificar/{first['code']}").text
    assert "REEMPLAZADO" in page
    assert "Reemplazado el " in page
    assert second["code"] not in page  # no link to the new one
    client.post(f"{API}/certificates/{second['id']}/revoke", json={"reason": "fraude"}, headers=admin.headers)
    page = client.get(f"/verificar/{second['code']}").text
    assert "REVOCADO" in page
    assert "fraude" in page
    assert "Certificado válido" not in page


def test_the_page_for_an_unknown_code_is_a_404_page(client: TestClient) -> None:
    response = client.get("/verificar/ZZZZ-ZZZZ-ZZZZ-ZZZZ-ZZZZ")
    assert response.status_code == 404
    assert "Certificado no encontrado" in response.text
    assert "default-src 'none'" in response.headers["content-security-policy"]


def test_dates_are_hers(client: TestClient, admin: Actor, graduate: Actor) -> None:
    certificate = issued(client, admin, graduate)
    body = verify(client, certificate["code"]).json()
    issued_at = datetime.fromisoformat(body["issued_at"])
    assert abs(issued_at - utcnow()) < timedelta(minutes=5)
