"""Her rights: withdraw sensitive-data consent, see everything held about her, correct it, be erased."""

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import AuditEntry, ConsentRecord, Country, Enrolment, Participant
from app.privacy.notice import CURRENT_NOTICE_VERSION
from tests.certificates.conftest import complete_programme
from tests.factories import Factory
from tests.progress.conftest import Catalogue, catalogue

__all__ = ["catalogue"]  # a fixture: the small programme a woman completes

API = "/api/v1"


def sensitive(**overrides: Any) -> dict[str, Any]:
    return {"consent": {"accepted": True, "version": CURRENT_NOTICE_VERSION, "sensitive_data": True}, **overrides}


def test_withdrawing_consent_erases_sensitive_data_at_once(client: TestClient, factory: Factory,
                                                           sessions: sessionmaker[Session]) -> None:
    woman = factory.participant("PE", **sensitive(ethnicity="Quechua", languages=["quechua"]))
    refused = client.post(f"{API}/me/consent/withdraw", json={"sensitive_data": False}, headers=woman.headers)
    assert refused.status_code == 422
    assert refused.json()["detail"]  # a sentence, in Spanish
    with sessions() as session:  # nothing erased by a request that was refused
        assert session.get_one(Participant, woman.participant_id).ethnicity == "Quechua"
    admin = factory.admin()
    before = client.get(f"{API}/reports/countries/PE", headers=admin.headers).json()["sensitive"]
    assert {"value": "Quechua", "count": "<5"} in before["ethnicity"]
    response = client.post(f"{API}/me/consent/withdraw", json={"sensitive_data": True}, headers=woman.headers)
    assert response.status_code == 200, response.text
    assert response.json() == {"sensitive_data": False, "erased": ["ethnicity", "languages"]}
    with sessions() as session:
        participant = session.get_one(Participant, woman.participant_id)
        assert (participant.ethnicity, participant.languages) == (None, None)
        ledger = session.scalars(select(ConsentRecord).where(ConsentRecord.participant_id == participant.id)
                                 .order_by(ConsentRecord.id)).all()
    assert [(c.sensitive_data, c.channel) for c in ledger] == [(True, "admin"), (False, "withdrawal")]
    data = client.get(f"{API}/me/data", headers=woman.headers).json()
    assert [c["sensitive_data"] for c in data["consents"]] == [True, False]
    assert data["record"]["ethnicity"] is None
    # the aggregates no longer count her as Quechua
    after = client.get(f"{API}/reports/countries/PE", headers=admin.headers).json()["sensitive"]
    assert "Quechua" not in [c["value"] for c in after["ethnicity"]]
    assert "quechua" not in [c["value"] for c in after["languages"]]


def test_my_data_holds_everything_and_who_viewed_it(client: TestClient, factory: Factory) -> None:
    woman = factory.participant("PE", **sensitive(ethnicity="Aymara"))
    coordinator = factory.coordinator("PE")
    assert client.get(f"{API}/enrolments/{woman.enrolment_id}", headers=coordinator.headers).status_code == 200
    assert client.get(f"{API}/participants/{woman.participant_id}/progress",
                      headers=coordinator.headers).status_code == 200
    data = client.get(f"{API}/me/data", headers=woman.headers).json()
    assert data["record"]["ethnicity"] == "Aymara"  # hers: she sees it
    assert [e["id"] for e in data["enrolments"]] == [woman.enrolment_id]
    assert data["account"]["username"] == woman.username
    views = [(v["viewer_id"], v["action"]) for v in data["viewed_by"]]
    assert (coordinator.user_id, "participant.viewed") in views
    assert len([v for v in views if v[0] == coordinator.user_id]) == 2


def test_she_corrects_her_name_phone_and_locale(client: TestClient, factory: Factory) -> None:
    woman = factory.participant("PE")
    response = client.patch(f"{API}/me", json={"first_name": "Rosa", "phone": "+51 987 654 321", "locale": "en"},
                            headers=woman.headers)
    assert response.status_code == 200, response.text
    record = response.json()["record"]
    assert (record["first_name"], record["phone"]) == ("Rosa", "+51987654321")
    assert client.get(f"{API}/me", headers=woman.headers).json()["locale"] == "en"
    assert client.patch(f"{API}/me", json={"phone": "+56987654321"}, headers=woman.headers).status_code == 422
    assert client.patch(f"{API}/me", json={"role": "admin"}, headers=woman.headers).status_code == 422


def test_erasure(client: TestClient, factory: Factory, sessions: sessionmaker[Session]) -> None:
    admin = factory.admin()
    woman = factory.participant("PE", first_name="Sabina", last_name="Ccori Mamani")
    with sessions() as session:
        enrolled = session.get_one(Country, "PE").enrolled
    client.patch(f"{API}/countries/PE", json={"capacity": enrolled}, headers=admin.headers)
    waiting = factory.participant("PE")
    # free text naming her, in the audit log
    client.post(f"{API}/enrolments/{waiting.enrolment_id}/withdraw",
                json={"reason": "Cede su lugar a Sabina Ccori Mamani"}, headers=admin.headers)
    waiting2 = factory.participant("PE")
    views_before = client.get(f"{API}/me/data", headers=woman.headers)
    assert views_before.status_code == 200

    response = client.post(f"{API}/participants/{woman.participant_id}/erase",
                           json={"reason": "Solicitud de Sabina Ccori Mamani"}, headers=admin.headers)
    assert response.status_code == 200, response.text
    out = response.json()
    assert out["withdrawn_enrolment_id"] == woman.enrolment_id
    assert out["promoted_enrolment_id"] == waiting2.enrolment_id  # her seat to the waitlist's head
    assert out["audit_entries_scrubbed"] >= 1

    assert client.get(f"{API}/me/data", headers=woman.headers).status_code == 401  # tokens revoked
    with sessions() as session:
        participant = session.get_one(Participant, woman.participant_id)
        assert "Sabina" not in participant.full_name
        assert participant.document_number is None
        assert participant.region == "Cajamarca"  # aggregates survive
        assert session.get_one(Enrolment, woman.enrolment_id).status.value == "withdrawn"
        entries = session.scalars(select(AuditEntry)).all()
        assert not [e.id for e in entries if "Sabina" in str(e.data) or "Ccori" in str(e.data)]
        assert any(e.action == "participant.erased" for e in entries)
    audit = client.get(f"{API}/audit", params={"country": "PE", "action": "participant.erased"},
                       headers=admin.headers).json()
    assert audit["total"] == 1
    assert client.get(f"{API}/audit", params={"country": "CL", "action": "participant.erased"},
                      headers=admin.headers).json()["total"] == 0


def test_after_erasure_her_certificate_still_verifies_without_naming_her(
        client: TestClient, factory: Factory, sessions: sessionmaker[Session], catalogue: Catalogue) -> None:
    admin = factory.admin()
    woman = factory.participant("PE", first_name="Sabina", last_name="Ccori Mamani")
    complete_programme(client, woman, catalogue)
    issued = client.post(f"{API}/certificates", json={"participant_id": woman.participant_id},
                         headers=admin.headers)
    assert issued.status_code == 201, issued.text
    code = issued.json()["code"]
    before = client.get(f"{API}/verify/{code}").json()
    assert before["holder_name"] == "Sabina Ccori Mamani"

    response = client.post(f"{API}/participants/{woman.participant_id}/erase",
                           json={"reason": "Solicitud de la titular"}, headers=admin.headers)
    assert response.status_code == 200, response.text
    assert client.get(f"{API}/me/data", headers=woman.headers).status_code == 401  # her sessions ended

    after = client.get(f"{API}/verify/{code}")
    assert after.status_code == 200, after.text
    body = after.json()
    # still a valid certificate of the programme, for whoever holds the PDF; her name is no longer given out
    assert (body["status"], body["country"], body["issued_at"]) == ("valid", "PE", before["issued_at"])
    assert body["modules"] == before["modules"]
    assert "eliminados" in body["holder_name"]
    page = client.get(f"/verificar/{code}")
    assert page.status_code == 200
    for answer in (after.text, page.text):
        assert "Sabina" not in answer
        assert "Ccori" not in answer
    assert "eliminados" in page.text
    # the report still counts her: aggregates survive
    statuses = client.get(f"{API}/reports/countries/PE", headers=admin.headers).json()["statuses"]
    assert (statuses["completed"], statuses["certified"]) == (1, 1)
    with sessions() as session:
        assert "Sabina" not in session.get_one(Participant, woman.participant_id).full_name


def test_my_data_lists_her_certificates_with_their_status(
        client: TestClient, factory: Factory, catalogue: Catalogue) -> None:
    admin = factory.admin()
    woman = factory.participant("PE")
    assert client.get(f"{API}/me/data", headers=woman.headers).json()["certificates"] == []
    complete_programme(client, woman, catalogue)
    issued = client.post(f"{API}/certificates", json={"participant_id": woman.participant_id},
                         headers=admin.headers).json()
    revoked = client.post(f"{API}/certificates/{issued['id']}/revoke", json={"reason": "error_de_emision"},
                          headers=admin.headers)
    assert revoked.status_code == 200, revoked.text
    certificates = client.get(f"{API}/me/data", headers=woman.headers).json()["certificates"]
    assert [(c["id"], c["code"], c["status"], c["verify_url"]) for c in certificates] == [
        (issued["id"], issued["code"], "revoked", issued["verify_url"])]
