"""Enrolment as a user lives it, one request after another: seats and the waitlist, withdrawals and promotions,
changes of a country's capacity and regions, applying again, retries, registration by a coordinator, the lists
staff read, privacy of sensitive data, and the audit trail.

Bad input, the route × role matrix and concurrency have their own modules; these tests are about what a
sequence of valid requests leaves behind. Each test starts from empty countries (capacity 50, nobody enrolled).
"""

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from app.models import ConsentRecord, Enrolment, Participant
from app.privacy.notice import CURRENT_NOTICE_VERSION
from tests.factories import Actor, Factory, application, login, row_counts

API = "/api/v1"
PASSWORD = "clave-segura-123"  # the factories' password


# ---------------------------------------------------------------------------------------------------------------
# helpers


def apply(client: TestClient, body: dict[str, Any], headers: dict[str, str] | None = None) -> dict[str, Any]:
    response = client.post(f"{API}/applications", json=body, headers=headers or {})
    assert response.status_code == 201, response.text
    return response.json()


def patch_country(client: TestClient, admin: Actor, code: str = "PE", **changes: Any) -> dict[str, Any]:
    response = client.patch(f"{API}/countries/{code}", json=changes, headers=admin.headers)
    assert response.status_code == 200, response.text
    return response.json()


def country(client: TestClient, code: str = "PE") -> dict[str, Any]:
    response = client.get(f"{API}/countries")
    assert response.status_code == 200, response.text
    (found,) = [c for c in response.json() if c["code"] == code]
    return found


def seats(client: TestClient, code: str = "PE") -> tuple[int, int, int, int]:
    """(capacity, enrolled, waitlisted, available) as GET /countries shows them."""
    c = country(client, code)
    return c["capacity"], c["enrolled"], c["waitlisted"], c["available"]


def enrolment(client: TestClient, actor: Actor, enrolment_id: int | None) -> dict[str, Any]:
    response = client.get(f"{API}/enrolments/{enrolment_id}", headers=actor.headers)
    assert response.status_code == 200, response.text
    return response.json()


def withdraw(client: TestClient, actor: Actor, enrolment_id: int | None, reason: str = "Cambio de planes") -> Any:
    return client.post(f"{API}/enrolments/{enrolment_id}/withdraw", json={"reason": reason}, headers=actor.headers)


def withdrawn(client: TestClient, actor: Actor, enrolment_id: int | None, reason: str = "Cambio de planes"
              ) -> dict[str, Any]:
    response = withdraw(client, actor, enrolment_id, reason)
    assert response.status_code == 200, response.text
    return response.json()


def listing(client: TestClient, actor: Actor, **params: Any) -> dict[str, Any]:
    response = client.get(f"{API}/enrolments", headers=actor.headers, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return response.json()


def waitlist(client: TestClient, admin: Actor, code: str = "PE") -> list[int]:
    """The waitlisted enrolment ids in order; asserts positions are exactly 1..n."""
    items = listing(client, admin, country=code, status="waitlisted")["items"]
    ordered = sorted(items, key=lambda e: e["waitlist_position"])
    assert [e["waitlist_position"] for e in ordered] == list(range(1, len(ordered) + 1)), ordered
    return [e["id"] for e in ordered]


def audit(client: TestClient, admin: Actor, **params: Any) -> list[dict[str, Any]]:
    response = client.get(f"{API}/audit", headers=admin.headers, params={"limit": 200, **params})
    assert response.status_code == 200, response.text
    return response.json()["items"]


def me(client: TestClient, headers: dict[str, str]) -> dict[str, Any]:
    response = client.get(f"{API}/me", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def error_of(response: Any, status: int) -> str:
    assert response.status_code == status, response.text
    return str(response.json()["error"])


@pytest.fixture
def admin(factory: Factory) -> Actor:
    return factory.admin()


# ---------------------------------------------------------------------------------------------------------------
# seats and the waitlist


def test_applicants_beyond_capacity_wait_in_order_and_the_counts_agree(client, admin):
    assert seats(client) == (50, 0, 0, 50)
    assert patch_country(client, admin, capacity=2)["available"] == 2

    bodies = [application("PE") for _ in range(4)]
    first = apply(client, bodies[0])
    assert (first["status"], first["waitlist_position"]) == ("enrolled", None)
    assert seats(client) == (2, 1, 0, 1)
    second = apply(client, bodies[1])
    assert second["status"] == "enrolled"
    third = apply(client, bodies[2])
    assert (third["status"], third["waitlist_position"]) == ("waitlisted", 1)
    fourth = apply(client, bodies[3])
    assert (fourth["status"], fourth["waitlist_position"]) == ("waitlisted", 2)

    assert seats(client) == (2, 2, 2, 0)
    assert seats(client, "CL") == (50, 0, 0, 50)  # another country's quota is untouched
    assert waitlist(client, admin) == [third["enrolment_id"], fourth["enrolment_id"]]

    # each woman sees her own place
    fourth_headers = login(client, bodies[3]["email"], bodies[3]["password"])
    assert me(client, fourth_headers)["enrolment"] == {
        "id": fourth["enrolment_id"], "status": "waitlisted", "waitlist_position": 2}
    first_headers = login(client, bodies[0]["email"], bodies[0]["password"])
    assert me(client, first_headers)["enrolment"] == {
        "id": first["enrolment_id"], "status": "enrolled", "waitlist_position": None}


# ---------------------------------------------------------------------------------------------------------------
# withdrawal


def test_withdrawing_an_enrolled_woman_promotes_the_head_of_the_waitlist(client, factory, admin):
    patch_country(client, admin, capacity=2)
    seated = [factory.participant("PE") for _ in range(2)]
    queued = [factory.participant("PE") for _ in range(3)]
    assert waitlist(client, admin) == [q.enrolment_id for q in queued]

    answer = withdrawn(client, admin, seated[0].enrolment_id, "Se mudó a la ciudad")
    assert answer == {"id": seated[0].enrolment_id, "status": "withdrawn",
                      "promoted_enrolment_id": queued[0].enrolment_id}

    gone = enrolment(client, admin, seated[0].enrolment_id)
    assert gone["status"] == "withdrawn"
    assert gone["withdrawn_at"] is not None
    promoted = enrolment(client, admin, queued[0].enrolment_id)
    assert promoted["status"] == "enrolled"
    assert promoted["waitlist_position"] is None
    assert promoted["enrolled_at"] is not None
    assert me(client, queued[0].headers)["enrolment"] == {
        "id": queued[0].enrolment_id, "status": "enrolled", "waitlist_position": None}
    # the others move up: positions 1..n without a gap
    assert waitlist(client, admin) == [queued[1].enrolment_id, queued[2].enrolment_id]
    assert me(client, queued[2].headers)["enrolment"]["waitlist_position"] == 2
    assert seats(client) == (2, 2, 2, 0)


def test_withdrawing_from_the_middle_of_the_waitlist_closes_the_gap(client, factory, admin):
    patch_country(client, admin, capacity=1)
    seated = factory.participant("PE")
    queued = [factory.participant("PE") for _ in range(4)]

    answer = withdrawn(client, admin, queued[1].enrolment_id)
    assert answer == {"id": queued[1].enrolment_id, "status": "withdrawn", "promoted_enrolment_id": None}
    assert enrolment(client, admin, queued[1].enrolment_id)["waitlist_position"] is None
    assert waitlist(client, admin) == [queued[0].enrolment_id, queued[2].enrolment_id, queued[3].enrolment_id]
    assert seats(client) == (1, 1, 3, 0)
    assert enrolment(client, admin, seated.enrolment_id)["status"] == "enrolled"  # nobody else moved

    # the head of the queue leaves too: the rest move up again
    withdrawn(client, admin, queued[0].enrolment_id)
    assert waitlist(client, admin) == [queued[2].enrolment_id, queued[3].enrolment_id]
    assert me(client, queued[3].headers)["enrolment"]["waitlist_position"] == 2
    assert seats(client) == (1, 1, 2, 0)


def test_withdrawing_twice_is_a_conflict_and_promotes_nobody_else(client, factory, admin):
    patch_country(client, admin, capacity=1)
    seated = factory.participant("PE")
    queued = [factory.participant("PE") for _ in range(2)]
    assert withdrawn(client, admin, seated.enrolment_id)["promoted_enrolment_id"] == queued[0].enrolment_id

    again = withdraw(client, admin, seated.enrolment_id)
    assert error_of(again, 409) == "already_withdrawn"
    assert seats(client) == (1, 1, 1, 0)
    assert waitlist(client, admin) == [queued[1].enrolment_id]

    # a waitlisted woman withdrawn twice: the same answer, her old place is not given up twice
    withdrawn(client, admin, queued[1].enrolment_id)
    assert error_of(withdraw(client, admin, queued[1].enrolment_id), 409) == "already_withdrawn"
    assert seats(client) == (1, 1, 0, 0)


def test_a_participant_may_withdraw_herself(client, factory, admin):
    patch_country(client, admin, capacity=1)
    herself = factory.participant("PE")
    next_in_line = factory.participant("PE")

    answer = withdrawn(client, herself, herself.enrolment_id, "No tengo tiempo este año")
    assert answer == {"id": herself.enrolment_id, "status": "withdrawn",
                      "promoted_enrolment_id": next_in_line.enrolment_id}
    assert me(client, herself.headers)["enrolment"] == {
        "id": herself.enrolment_id, "status": "withdrawn", "waitlist_position": None}
    assert me(client, next_in_line.headers)["enrolment"]["status"] == "enrolled"


def test_a_coordinator_of_another_country_cannot_withdraw(client, factory, admin):
    woman = factory.participant("PE")
    chilean_coordinator = factory.coordinator("CL")

    assert error_of(withdraw(client, chilean_coordinator, woman.enrolment_id), 404) == "not_found"
    assert enrolment(client, admin, woman.enrolment_id)["status"] == "enrolled"
    assert seats(client) == (50, 1, 0, 49)
    assert audit(client, admin, action="enrolment.withdrawn") == []

    # her own coordinator may
    assert withdrawn(client, factory.coordinator("PE"), woman.enrolment_id)["status"] == "withdrawn"


def test_the_reason_for_a_withdrawal_is_in_the_audit(client, factory, admin):
    woman = factory.participant("PE")
    coordinator = factory.coordinator("PE")
    withdrawn(client, coordinator, woman.enrolment_id, "Se fue a trabajar a la cosecha")

    (entry,) = audit(client, admin, action="enrolment.withdrawn")
    assert entry["entity"] == "enrolment"
    assert entry["entity_id"] == str(woman.enrolment_id)
    assert entry["actor_id"] == coordinator.user_id
    assert entry["country_code"] == "PE"
    assert entry["data"]["reason"] == "Se fue a trabajar a la cosecha"
    assert entry["data"]["previous"] == "enrolled"


# ---------------------------------------------------------------------------------------------------------------
# capacity and eligible regions


def test_raising_capacity_promotes_from_the_waitlist_in_order(client, factory, admin):
    patch_country(client, admin, capacity=1)
    seated = factory.participant("PE")
    queued = [factory.participant("PE") for _ in range(4)]

    answer = patch_country(client, admin, capacity=3)
    assert (answer["capacity"], answer["enrolled"], answer["waitlisted"], answer["available"]) == (3, 3, 2, 0)
    assert seats(client) == (3, 3, 2, 0)
    for promoted in queued[:2]:
        got = enrolment(client, admin, promoted.enrolment_id)
        assert (got["status"], got["waitlist_position"]) == ("enrolled", None)
        assert got["enrolled_at"] is not None
    assert waitlist(client, admin) == [queued[2].enrolment_id, queued[3].enrolment_id]
    assert enrolment(client, admin, seated.enrolment_id)["status"] == "enrolled"

    # more seats than waiting women: everyone gets one, the rest stay free
    answer = patch_country(client, admin, capacity=10)
    assert (answer["enrolled"], answer["waitlisted"], answer["available"]) == (5, 0, 5)
    assert waitlist(client, admin) == []
    assert len(audit(client, admin, action="enrolment.promoted")) == 4


def test_capacity_below_the_number_enrolled_is_refused_and_changes_nothing(client, factory, admin):
    patch_country(client, admin, capacity=3)
    for _ in range(3):
        factory.participant("PE")
    queued = factory.participant("PE")
    before = country(client)
    updates = len(audit(client, admin, action="country.updated"))

    response = client.patch(f"{API}/countries/PE", json={"capacity": 2, "eligible_regions": ["Lima"]},
                            headers=admin.headers)
    assert error_of(response, 409) == "capacity_below_enrolled"
    assert country(client) == before
    assert len(audit(client, admin, action="country.updated")) == updates
    assert waitlist(client, admin) == [queued.enrolment_id]

    # exactly the number enrolled is fine
    assert patch_country(client, admin, capacity=3)["enrolled"] == 3


def test_eligible_regions_are_matched_regardless_of_accents_and_case(client, admin):
    answer = patch_country(client, admin, eligible_regions=["apurimac", "HUANCAVELICA", " san  martin ", "Apurímac"])
    assert answer["eligible_regions"] == ["Apurímac", "Huancavelica", "San Martín"]
    assert country(client)["eligible_regions"] == ["Apurímac", "Huancavelica", "San Martín"]

    created = apply(client, application("PE", region="apurimac"))
    assert enrolment(client, admin, created["enrolment_id"])["region"] == "Apurímac"

    # a region of another country is not accepted, and nothing changes
    response = client.patch(f"{API}/countries/PE", json={"eligible_regions": ["Antioquia"]}, headers=admin.headers)
    assert error_of(response, 422) == "invalid_input"
    assert country(client)["eligible_regions"] == ["Apurímac", "Huancavelica", "San Martín"]


def test_narrowing_eligible_regions_makes_later_applicants_of_a_removed_region_ineligible(
        client, admin, sessions):
    earlier = apply(client, application("PE", region="Amazonas"))
    patch_country(client, admin, eligible_regions=["Cajamarca", "Apurímac"])

    before = row_counts(sessions)
    response = client.post(f"{API}/applications", json=application("PE", region="Amazonas"))
    assert error_of(response, 422) == "not_eligible"
    assert response.json()["reasons"] == ["region"]
    assert row_counts(sessions) == before

    # the woman already enrolled from there keeps her seat; the remaining regions still apply
    assert enrolment(client, admin, earlier["enrolment_id"])["status"] == "enrolled"
    assert apply(client, application("PE", region="Cajamarca"))["status"] == "enrolled"


# ---------------------------------------------------------------------------------------------------------------
# applying again


def test_a_withdrawn_woman_may_apply_again_with_her_own_login_and_takes_a_free_seat(client, admin):
    body = application("PE")
    first = apply(client, body)
    withdrawn(client, admin, first["enrolment_id"])
    headers = login(client, body["email"], body["password"])

    again = apply(client, dict(body, password=None), headers=headers)
    assert again["participant_id"] == first["participant_id"]
    assert again["enrolment_id"] != first["enrolment_id"]
    assert again["username"] == first["username"]
    assert again["status"] == "enrolled"
    assert enrolment(client, admin, first["enrolment_id"])["status"] == "withdrawn"  # history is kept
    assert seats(client) == (50, 1, 0, 49)
    assert me(client, headers)["enrolment"] == {"id": again["enrolment_id"], "status": "enrolled",
                                                "waitlist_position": None}


def test_a_withdrawn_woman_who_applies_again_goes_to_the_end_of_the_waitlist(client, factory, admin):
    patch_country(client, admin, capacity=1)
    factory.participant("PE")
    body = application("PE")
    first = apply(client, body)
    behind = [factory.participant("PE") for _ in range(2)]
    assert first["waitlist_position"] == 1

    withdrawn(client, admin, first["enrolment_id"])
    assert waitlist(client, admin) == [behind[0].enrolment_id, behind[1].enrolment_id]

    # her coordinator registers her again: the same document is the same woman
    coordinator = factory.coordinator("PE")
    again = apply(client, application("PE", self_service=False, document=body["document"]),
                  headers=coordinator.headers)
    assert again["participant_id"] == first["participant_id"]
    assert (again["status"], again["waitlist_position"]) == ("waitlisted", 3)
    assert waitlist(client, admin) == [behind[0].enrolment_id, behind[1].enrolment_id, again["enrolment_id"]]
    assert seats(client) == (1, 1, 3, 0)


@pytest.mark.parametrize("capacity", [50, 0], ids=["enrolled", "waitlisted"])
def test_a_woman_with_an_active_enrolment_cannot_apply_again(client, factory, admin, sessions, capacity):
    coordinator = factory.coordinator("PE")
    patch_country(client, admin, capacity=capacity)
    body = application("PE")
    first = apply(client, body)
    assert first["status"] == ("enrolled" if capacity else "waitlisted")
    before = row_counts(sessions)

    same_document = application("PE", document=body["document"])
    assert error_of(client.post(f"{API}/applications", json=same_document), 409) == "duplicate_application"
    same_email = application("PE", email=body["email"].upper())
    assert error_of(client.post(f"{API}/applications", json=same_email), 409) == "duplicate_application"
    # her coordinator registering her again is refused the same way
    by_coordinator = application("PE", self_service=False, document=body["document"])
    response = client.post(f"{API}/applications", json=by_coordinator, headers=coordinator.headers)
    assert error_of(response, 409) == "duplicate_application"

    assert row_counts(sessions) == before


def test_a_shared_phone_number_identifies_nobody(client, admin):
    first = apply(client, application("PE", phone="+51984000111"))
    sister = apply(client, application("PE", phone="+51984000111"))
    assert sister["participant_id"] != first["participant_id"]
    assert sister["status"] == "enrolled"
    assert seats(client) == (50, 2, 0, 48)


# ---------------------------------------------------------------------------------------------------------------
# Idempotency-Key


def test_the_same_key_and_body_replays_the_first_answer(client, sessions):
    body = application("PE")
    key = {"Idempotency-Key": "solicitud-7f3a"}
    first = client.post(f"{API}/applications", json=body, headers=key)
    assert first.status_code == 201, first.text
    after_first = row_counts(sessions)

    retry = client.post(f"{API}/applications", json=body, headers=key)
    assert retry.status_code == 201, retry.text
    assert retry.json() == first.json()
    assert row_counts(sessions) == after_first
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Enrolment).where(
            Enrolment.participant_id == first.json()["participant_id"])) == 1
    assert seats(client) == (50, 1, 0, 49)


def test_the_same_key_with_another_body_is_a_conflict(client, sessions):
    key = {"Idempotency-Key": "solicitud-91bc"}
    body = application("PE")
    apply(client, body, headers=key)
    before = row_counts(sessions)

    response = client.post(f"{API}/applications", json=dict(body, locality="Otra"), headers=key)
    assert error_of(response, 409) == "idempotency_key_reused"
    assert row_counts(sessions) == before


def test_a_repeat_without_a_key_is_a_duplicate(client, sessions):
    body = application("PE")
    apply(client, body)
    before = row_counts(sessions)

    response = client.post(f"{API}/applications", json=body)
    assert error_of(response, 409) == "duplicate_application"
    assert row_counts(sessions) == before


# ---------------------------------------------------------------------------------------------------------------
# registration by a coordinator


def test_a_coordinator_registers_a_woman_of_her_country(client, factory, admin):
    coordinator = factory.coordinator("PE")
    answer = apply(client, application("PE", self_service=False), headers=coordinator.headers)
    assert re.fullmatch(r"PE-\d{4}", answer["username"]), answer
    assert answer["activation_code"]
    assert answer["status"] == "enrolled"
    assert enrolment(client, coordinator, answer["enrolment_id"])["participant_code"] == answer["username"]

    # the code lets her choose a password and sign in with her participant code
    response = client.post(f"{API}/auth/activate", json={"code": answer["activation_code"],
                                                         "password": "mi-clave-nueva-1"})
    assert response.status_code == 200, response.text
    assert response.json() == {"username": answer["username"]}
    headers = login(client, answer["username"], "mi-clave-nueva-1")
    assert me(client, headers)["enrolment"]["id"] == answer["enrolment_id"]


def test_a_coordinator_cannot_register_a_woman_of_another_country(client, factory, sessions):
    chilean_coordinator = factory.coordinator("CL")
    before = row_counts(sessions)
    response = client.post(f"{API}/applications", json=application("PE", self_service=False),
                           headers=chilean_coordinator.headers)
    assert error_of(response, 403) == "forbidden"
    assert row_counts(sessions) == before
    assert seats(client) == (50, 0, 0, 50)


def test_participant_codes_are_sequential_per_country(client, factory, admin):
    peru, chile = factory.coordinator("PE"), factory.coordinator("CL")

    def register(coordinator: Actor, code: str) -> str:
        return str(apply(client, application(code, self_service=False), headers=coordinator.headers)["username"])

    assert register(peru, "PE") == "PE-0001"
    assert register(peru, "PE") == "PE-0002"
    assert register(chile, "CL") == "CL-0001"
    # a woman applying on her own signs in with her email, but gets the next code of her country too
    own = apply(client, application("PE"))
    assert own["username"] != "PE-0003"
    assert enrolment(client, admin, own["enrolment_id"])["participant_code"] == "PE-0003"
    assert register(peru, "PE") == "PE-0004"
    assert register(chile, "CL") == "CL-0002"


def test_a_woman_applying_again_keeps_her_participant_code(client, factory, admin):
    coordinator = factory.coordinator("PE")
    body = application("PE", self_service=False)
    first = apply(client, body, headers=coordinator.headers)
    withdrawn(client, coordinator, first["enrolment_id"])
    apply(client, application("PE", self_service=False), headers=coordinator.headers)  # someone else: PE-0002

    again = apply(client, body, headers=coordinator.headers)
    assert again["participant_id"] == first["participant_id"]
    assert again["username"] == first["username"] == "PE-0001"


# ---------------------------------------------------------------------------------------------------------------
# lists


@pytest.fixture
def cohort(client: TestClient, factory: Factory, admin: Actor) -> dict[str, Actor]:
    """Peru with 2 seats: two enrolled, two waitlisted, one withdrawn; one Chilean woman."""
    patch_country(client, admin, capacity=2)
    people = {
        "angela": factory.participant("PE", first_name="Ángela", last_name="Huamán Ccori", region="Cajamarca"),
        "rosa": factory.participant("PE", first_name="Rosa", last_name="Quispe Yupanqui", region="Apurímac"),
        "luz": factory.participant("PE", first_name="Luz", last_name="Mamani Condori", region="Cajamarca"),
        "flor": factory.participant("PE", first_name="Flor", last_name="Ccahuana Rojas", region="Amazonas"),
        "nilda": factory.participant("PE", first_name="Nilda", last_name="Huamán Soto", region="Apurímac"),
        "carmen": factory.participant("CL", first_name="Carmen", last_name="Huenchumilla Paillal"),
    }
    # Ángela leaves: Luz, first in line, takes her seat; Flor and Nilda wait
    withdrawn(client, admin, people["angela"].enrolment_id)
    return people


def ids(page: dict[str, Any]) -> set[int]:
    return {e["id"] for e in page["items"]}


def test_enrolment_list_filters(client, admin, cohort):
    everyone = listing(client, admin)
    assert everyone["total"] == 6 == len(everyone["items"])
    assert {e["full_name"] for e in everyone["items"]} >= {"Ángela Huamán Ccori", "Carmen Huenchumilla Paillal"}

    waiting = listing(client, admin, status="waitlisted")
    assert ids(waiting) == {cohort["flor"].enrolment_id, cohort["nilda"].enrolment_id}
    assert waiting["total"] == 2
    assert {e["waitlist_position"] for e in waiting["items"]} == {1, 2}
    seated = listing(client, admin, status="enrolled", country="PE")
    assert ids(seated) == {cohort["rosa"].enrolment_id, cohort["luz"].enrolment_id}
    assert all(e["enrolled_at"] for e in seated["items"])
    assert ids(listing(client, admin, status="withdrawn")) == {cohort["angela"].enrolment_id}

    chile = listing(client, admin, country="CL")
    assert ids(chile) == {cohort["carmen"].enrolment_id}
    assert chile["total"] == 1
    apurimac = listing(client, admin, region="Apurímac")
    assert ids(apurimac) == {cohort["rosa"].enrolment_id, cohort["nilda"].enrolment_id}
    assert listing(client, admin, region="apurimac", country="PE")["total"] == 2
    both = listing(client, admin, region="Apurímac", status="waitlisted")
    assert (ids(both), both["total"]) == ({cohort["nilda"].enrolment_id}, 1)

    # the name search ignores case, accented capitals included
    huaman = {cohort["angela"].enrolment_id, cohort["nilda"].enrolment_id}
    assert ids(listing(client, admin, q="huamán")) == huaman
    assert ids(listing(client, admin, q="HUAMÁN")) == huaman
    assert ids(listing(client, admin, q="ángela")) == {cohort["angela"].enrolment_id}
    assert ids(listing(client, admin, q="quispe yup")) == {cohort["rosa"].enrolment_id}
    assert listing(client, admin, q="huamán", status="waitlisted")["total"] == 1
    assert listing(client, admin, q="nadie se llama así") == {"items": [], "total": 0}


def test_percent_and_underscore_in_the_search_match_literally(client, factory, admin):
    underscore = factory.participant("PE", first_name="Ana", last_name="Poma_Tito")
    factory.participant("PE", first_name="Ana", last_name="PomaXTito")
    percent = factory.participant("PE", first_name="Eva", last_name="Cien%Flores")
    factory.participant("PE", first_name="Eva", last_name="CienMilFlores")

    assert ids(listing(client, admin, q="a_t")) == {underscore.enrolment_id}
    assert ids(listing(client, admin, q="n%f")) == {percent.enrolment_id}
    assert listing(client, admin, q="%")["total"] == 1
    assert listing(client, admin, q="_")["total"] == 1


def test_pages_are_stable_and_cover_the_list_once(client, factory, admin):
    patch_country(client, admin, capacity=4)
    for _ in range(7):
        factory.participant("PE")
    factory.participant("CL")

    full = listing(client, admin, country="PE")
    assert full["total"] == 7
    order = [e["id"] for e in full["items"]]
    assert listing(client, admin, country="PE")["items"] == full["items"]  # the same order every time

    pages = [listing(client, admin, country="PE", limit=3, offset=offset) for offset in (0, 3, 6)]
    assert [p["total"] for p in pages] == [7, 7, 7]
    assert [len(p["items"]) for p in pages] == [3, 3, 1]
    assert [e["id"] for p in pages for e in p["items"]] == order
    assert listing(client, admin, country="PE", limit=3, offset=9) == {"items": [], "total": 7}
    # the waitlist appears in its order
    waiting = [e["waitlist_position"] for e in full["items"] if e["status"] == "waitlisted"]
    assert waiting == [1, 2, 3]


def test_a_coordinator_lists_only_her_country(client, factory, cohort):
    coordinator = factory.coordinator("PE")
    page = listing(client, coordinator)
    assert page["total"] == 5
    assert {e["country"] for e in page["items"]} == {"PE"}
    # a search or filter that would find the Chilean woman finds nothing
    assert listing(client, coordinator, q="huenchumilla") == {"items": [], "total": 0}
    assert listing(client, coordinator, region="Los Lagos") == {"items": [], "total": 0}
    response = client.get(f"{API}/enrolments/{cohort['carmen'].enrolment_id}", headers=coordinator.headers)
    assert error_of(response, 404) == "not_found"


# ---------------------------------------------------------------------------------------------------------------
# privacy of sensitive data

ETHNICITY = "Iskonawa"
LANGUAGES = ["Kukamiria", "Ashaninka"]


def test_sensitive_data_is_stored_with_consent_but_never_shown_to_staff(client, factory, admin, sessions):
    body = application("PE", ethnicity=ETHNICITY, languages=LANGUAGES,
                       consent={"accepted": True, "version": CURRENT_NOTICE_VERSION, "sensitive_data": True})
    own = client.post(f"{API}/applications", json=body)
    assert own.status_code == 201, own.text
    created = own.json()
    with sessions() as session:
        stored = session.get_one(Participant, created["participant_id"])
        assert (stored.ethnicity, stored.languages) == (ETHNICITY, LANGUAGES)

    coordinator = factory.coordinator("PE")
    registered = client.post(
        f"{API}/applications", headers=coordinator.headers,
        json=application("PE", self_service=False, ethnicity=ETHNICITY, languages=LANGUAGES,
                         consent={"accepted": True, "version": CURRENT_NOTICE_VERSION, "sensitive_data": True}))
    assert registered.status_code == 201, registered.text

    staff_views = [own, registered]
    for actor in (coordinator, admin):
        staff_views += [
            client.get(f"{API}/enrolments", headers=actor.headers),
            client.get(f"{API}/enrolments", headers=actor.headers, params={"q": "quispe"}),
            client.get(f"{API}/enrolments/{created['enrolment_id']}", headers=actor.headers),
            client.get(f"{API}/enrolments/{registered.json()['enrolment_id']}", headers=actor.headers),
            client.get(f"{API}/me", headers=actor.headers),
        ]
    staff_views += [client.get(f"{API}/audit", headers=admin.headers, params={"limit": 200}),
                    client.get(f"{API}/countries")]
    for response in staff_views:
        assert response.status_code in (200, 201), response.text
        for secret in (ETHNICITY, *LANGUAGES):
            assert secret not in response.text, (response.url, secret)
            assert secret.lower() not in response.text.lower(), (response.url, secret)


def test_sensitive_data_without_its_consent_is_refused(client, factory, sessions):
    coordinator = factory.coordinator("PE")
    before = row_counts(sessions)
    response = client.post(f"{API}/applications", headers=coordinator.headers,
                           json=application("PE", self_service=False, ethnicity=ETHNICITY, languages=LANGUAGES))
    assert error_of(response, 422) == "invalid_input"
    assert {f["field"] for f in response.json()["fields"]} == {"ethnicity", "languages"}
    assert row_counts(sessions) == before


def test_the_consent_record_says_which_notice_through_which_channel(client, factory, sessions):
    coordinator = factory.coordinator("PE")
    own = apply(client, application(
        "PE", consent={"accepted": True, "version": CURRENT_NOTICE_VERSION, "sensitive_data": True},
        ethnicity=ETHNICITY))
    registered = apply(client, application("PE", self_service=False), headers=coordinator.headers)

    with sessions() as session:
        (self_record,) = session.scalars(select(ConsentRecord).where(
            ConsentRecord.participant_id == own["participant_id"])).all()
        (staff_record,) = session.scalars(select(ConsentRecord).where(
            ConsentRecord.participant_id == registered["participant_id"])).all()
    assert (self_record.notice_version, self_record.channel, self_record.sensitive_data) == (
        CURRENT_NOTICE_VERSION, "self", True)
    assert self_record.recorded_by_id is None
    assert self_record.accepted_at is not None
    assert (staff_record.notice_version, staff_record.channel, staff_record.sensitive_data) == (
        CURRENT_NOTICE_VERSION, "coordinator", False)
    assert staff_record.recorded_by_id == coordinator.user_id
    with sessions() as session:
        # without sensitive-data consent nothing sensitive is kept
        unconsented = session.get_one(Participant, registered["participant_id"])
        assert (unconsented.ethnicity, unconsented.languages) == (None, None)


def test_the_privacy_notice_is_served_in_spanish_by_version(client):
    current = client.get(f"{API}/consent/notice")
    assert current.status_code == 200, current.text
    notice = current.json()
    assert notice["version"] == CURRENT_NOTICE_VERSION
    assert notice["current"] is True
    assert notice["language"] == "es"
    assert "Aviso de privacidad" in notice["text"]
    assert "datos sensibles" in notice["text"].lower()

    by_version = client.get(f"{API}/consent/notice", params={"version": CURRENT_NOTICE_VERSION})
    assert by_version.json() == notice
    assert error_of(client.get(f"{API}/consent/notice", params={"version": "1999-01"}), 404) == "not_found"


# ---------------------------------------------------------------------------------------------------------------
# audit


def test_every_step_is_audited_with_its_actor(client, factory, admin):
    coordinator = factory.coordinator("PE")
    patch_country(client, admin, capacity=1)
    registered = apply(client, application("PE", self_service=False), headers=coordinator.headers)
    anonymous = apply(client, application("PE"))
    assert anonymous["status"] == "waitlisted"
    withdrawn(client, admin, registered["enrolment_id"], "Viaje largo")

    def only(action: str, entity_id: object) -> dict[str, Any]:
        (entry,) = [e for e in audit(client, admin, action=action) if e["entity_id"] == str(entity_id)]
        return entry

    updated = only("country.updated", "PE")
    assert updated["actor_id"] == admin.user_id
    assert updated["data"]["before"]["capacity"] == 50
    assert updated["data"]["after"]["capacity"] == 1

    assert only("participant.created", registered["participant_id"])["actor_id"] == coordinator.user_id
    assert only("participant.created", anonymous["participant_id"])["actor_id"] is None
    assert only("enrolment.enrolled", registered["enrolment_id"])["actor_id"] == coordinator.user_id
    waitlisted = only("enrolment.waitlisted", anonymous["enrolment_id"])
    assert waitlisted["actor_id"] is None
    assert waitlisted["data"]["position"] == 1
    assert only("enrolment.withdrawn", registered["enrolment_id"])["actor_id"] == admin.user_id
    promoted = only("enrolment.promoted", anonymous["enrolment_id"])
    assert promoted["actor_id"] == admin.user_id
    assert promoted["country_code"] == "PE"

    # the actor filter finds the coordinator's own steps
    by_coordinator = {e["action"] for e in audit(client, admin, actor=coordinator.user_id)}
    assert {"participant.created", "enrolment.enrolled"} <= by_coordinator
    assert not by_coordinator & {"country.updated", "enrolment.withdrawn", "enrolment.promoted"}


def test_the_region_filter_ignores_accents_and_case_with_or_without_a_country(client, factory, admin):
    apurimac = factory.participant("PE", region="Apurímac")
    factory.participant("PE", region="Cajamarca")
    for params in ({"region": "apurimac"}, {"region": "APURÍMAC", "country": "pe"}):
        response = client.get("/api/v1/enrolments", params=params, headers=admin.headers)
        assert [e["id"] for e in response.json()["items"]] == [apurimac.enrolment_id], params
