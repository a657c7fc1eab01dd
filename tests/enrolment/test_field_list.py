"""The coordinator's list for field work and one woman's record: phone, locality, whether she has activated her
account, her overall progress (the rule of /participants/{id}/progress, for a whole page in a constant number of
queries), sorting, and GET /participants/{id} in scope without sensitive fields for staff."""

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from app.core.i18n import FIELD_MESSAGES
from app.storage import Storage
from tests.factories import Actor, Factory, application
from tests.progress.conftest import COSTOS_QUIZ, OFICIOS_QUIZ, Catalogue, programme
from tests.progress.conftest import lesson as lesson_spec
from tests.progress.conftest import module as module_spec

API = "/api/v1"
RIGHT = {"oficios": {"q1": ["a"], "q2": ["a", "b"], "q3": ["v"]}, "costos": {"p1": ["b"]}}
QUIZZES = {"oficios": OFICIOS_QUIZ, "costos": COSTOS_QUIZ}


@pytest.fixture
def catalogue(sessions: sessionmaker[Session], storage: Storage) -> Catalogue:
    # saberes (required: valor, oficios; optional: extra), precio (required: costos, cuentas), ferias (optional)
    cat = Catalogue(sessions=sessions, storage=storage, specs={})
    cat.load(*programme())
    return cat


def finish(client: TestClient, actor: Actor, *lessons: tuple[str, str]) -> None:
    events: list[dict[str, Any]] = []
    for module, lesson in lessons:
        if lesson in QUIZZES:
            events.append({"event_id": str(uuid.uuid4()), "type": "quiz_submitted", "module": module,
                           "lesson": lesson, "occurred_at": "2026-11-20T15:00:00Z",
                           "payload": {"answers": RIGHT[lesson]}})
        events.append({"event_id": str(uuid.uuid4()), "type": "lesson_completed", "module": module,
                       "lesson": lesson, "occurred_at": "2026-11-20T15:05:00Z", "payload": {}})
    response = client.post(f"{API}/progress/events", headers=actor.headers, json={"events": events})
    assert response.status_code == 200, response.text
    assert {r["status"] for r in response.json()["results"]} == {"accepted"}, response.text


def listing(client: TestClient, actor: Actor, **params: str) -> dict[str, Any]:
    response = client.get(f"{API}/enrolments", headers=actor.headers, params={"limit": "200", **params})
    assert response.status_code == 200, response.text
    return response.json()


def expected_percent(client: TestClient, actor: Actor, coordinator: Actor) -> int:
    """The overall percent from /participants/{id}/progress's per-module figures: required lessons done over the
    required modules, a completed module counting whole."""
    progress = client.get(f"{API}/participants/{actor.participant_id}/progress", headers=coordinator.headers).json()
    if progress["programme_completed"]:
        return 100
    done = total = 0
    for module in progress["modules"]:
        if not module["required"]:
            continue
        required = [lesson for lesson in module["lessons"] if lesson["required"]]
        total += len(required)
        done += len(required) if module["percent"] == 100 else sum(
            1 for lesson in required if lesson["completed_at"] is not None)
    return round(100 * done / total) if total else 0


@pytest.fixture
def women(client: TestClient, factory: Factory, catalogue: Catalogue) -> dict[str, Actor]:
    """Five Peruvian women at different points of the programme (4 required lessons in all)."""
    people = {name: factory.participant("PE", first_name=first, last_name="Quispe")
              for name, first in [("nothing", "Carmen"), ("one", "ángela"), ("module", "Beatriz"),
                                  ("all", "Dora"), ("optional", "Élida")]}
    finish(client, people["one"], ("saberes", "valor"))
    finish(client, people["module"], ("saberes", "valor"), ("saberes", "oficios"), ("saberes", "extra"))
    finish(client, people["all"], ("saberes", "valor"), ("saberes", "oficios"), ("precio", "costos"),
           ("precio", "cuentas"))
    finish(client, people["optional"], ("ferias", "mercados"), ("saberes", "extra"))
    return people


def test_the_list_tells_phone_locality_activation_and_progress(client, factory, women):
    coordinator = factory.coordinator("PE")
    items = {item["participant_id"]: item for item in listing(client, coordinator)["items"]}
    percents = {name: items[actor.participant_id]["progress_percent"] for name, actor in women.items()}
    assert percents == {"nothing": 0, "one": 25, "module": 50, "all": 100, "optional": 0}
    for actor in women.values():
        assert items[actor.participant_id]["progress_percent"] == expected_percent(client, actor, coordinator)
        item = items[actor.participant_id]
        assert item["locality"] == "Porcón Alto"
        assert item["phone"].startswith("+5198")
        assert item["activated"] is True  # the factory's women have a password
    assert items[women["all"].participant_id]["status"] == "completed"
    # the single enrolment says the same
    single = client.get(f"{API}/enrolments/{women['one'].enrolment_id}", headers=coordinator.headers).json()
    assert single["progress_percent"] == 25


def test_a_woman_registered_in_the_field_has_not_activated_until_she_uses_her_code(client, factory):
    coordinator = factory.coordinator("PE")
    registered = client.post(f"{API}/applications", headers=coordinator.headers,
                             json=application("PE", self_service=False))
    assert registered.status_code == 201, registered.text
    answer = registered.json()

    def activated() -> bool:
        items = listing(client, coordinator, q=answer["username"])["items"]
        record = client.get(f"{API}/participants/{answer['participant_id']}", headers=coordinator.headers).json()
        assert [i["activated"] for i in items] == [record["activated"]]
        return bool(record["activated"])

    assert not activated()
    response = client.post(f"{API}/auth/activate", json={"code": answer["activation_code"],
                                                         "password": "clave-nueva-456"})
    assert response.status_code == 200, response.text
    assert activated()


def test_a_new_required_module_lowers_progress_but_not_a_completed_programme(client, factory, women, catalogue):
    catalogue.load(module_spec("nuevo", 4, tuple(lesson_spec(slug, n) for n, slug in enumerate(
        ("uno", "dos", "tres", "cuatro"), start=1))))
    coordinator = factory.coordinator("PE")
    items = {item["participant_id"]: item for item in listing(client, coordinator)["items"]}
    assert items[women["one"].participant_id]["progress_percent"] == round(100 * 1 / 8)
    assert items[women["module"].participant_id]["progress_percent"] == 25
    assert items[women["all"].participant_id]["progress_percent"] == 100  # her completion is never taken away


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def test_progress_of_a_page_takes_the_same_queries_whatever_its_length(client, factory, women, statements):
    coordinator = factory.coordinator("PE")
    listing(client, coordinator, limit="1")  # warms the per-process cache of module shapes
    counts = {}
    for limit in ("1", "5"):
        statements.clear()
        assert len(listing(client, coordinator, limit=limit, sort="progress")["items"]) == int(limit)
        counts[limit] = len(statements)
    assert counts["1"] == counts["5"], statements


@pytest.mark.parametrize("sort", ["name", "-name", "applied_at", "-applied_at", "progress", "-progress"])
def test_sorting(client, factory, women, sort):
    coordinator = factory.coordinator("PE")
    ids = {actor.participant_id: name for name, actor in women.items()}
    order = [ids[item["participant_id"]] for item in listing(client, coordinator, sort=sort)["items"]
             if item["participant_id"] in ids]
    expected = {
        # accents and case ignored: ángela, Beatriz, Carmen, Dora, Élida
        "name": ["one", "module", "nothing", "all", "optional"],
        "applied_at": ["nothing", "one", "module", "all", "optional"],
        # ties (0 %) by name: Carmen before Élida
        "progress": ["nothing", "optional", "one", "module", "all"],
    }
    wanted = expected[sort.removeprefix("-")]
    if sort.startswith("-"):
        wanted = {"-name": wanted[::-1], "-applied_at": wanted[::-1],
                  "-progress": ["all", "module", "one", "nothing", "optional"]}[sort]
    assert order == wanted


def test_sorted_pages_do_not_overlap(client, factory, women):
    coordinator = factory.coordinator("PE")
    whole = [i["id"] for i in listing(client, coordinator, sort="progress")["items"]]
    pages: list[int] = []
    for offset in range(0, len(whole), 2):
        pages += [i["id"] for i in listing(client, coordinator, sort="progress", limit="2",
                                           offset=str(offset))["items"]]
    assert pages == whole


@pytest.mark.parametrize("sort", ["age", "", "name,progress", "NAME", "+name", "--name", "x" * 500])
def test_an_unknown_sort_is_422_naming_sort(client, factory, sort):
    coordinator = factory.coordinator("PE")
    response = client.get(f"{API}/enrolments", headers=coordinator.headers, params={"sort": sort})
    assert response.status_code == 422, response.text
    body = response.json()
    assert body["error"] == "invalid_input"
    assert [f["field"] for f in body["fields"]] == ["sort"]


# --- GET /participants/{id} -----------------------------------------------------------------------------

def sensitive_woman(factory: Factory) -> Actor:
    return factory.participant("PE", ethnicity="Quechua", languages=["quechua", "castellano"],
                               consent={"accepted": True, "version": application()["consent"]["version"],
                                        "sensitive_data": True})


def test_her_record_for_herself_holds_her_sensitive_fields(client, factory):
    woman = sensitive_woman(factory)
    response = client.get(f"{API}/participants/{woman.participant_id}", headers=woman.headers)
    assert response.status_code == 200, response.text
    record = response.json()
    assert record["sensitive"] == {"ethnicity": "Quechua", "languages": ["quechua", "castellano"]}
    assert record["id"] == woman.participant_id
    assert record["username"] == woman.username
    assert record["first_name"] == "María"
    assert record["full_name"] == f"María {record['last_name']}"
    assert record["birth_date"] == "1988-05-14"
    assert (record["country"], record["region"], record["locality"]) == ("PE", "Cajamarca", "Porcón Alto")
    assert record["document"]["type"] == "DNI"
    assert len(record["document"]["number"]) == 8
    assert record["phone"].startswith("+5198")
    assert record["activated"] is True
    assert [e["id"] for e in record["enrolments"]] == [woman.enrolment_id]
    assert record["enrolments"][0]["status"] == "enrolled"
    assert record["progress_percent"] == 0


@pytest.mark.parametrize("staff", ["coordinator", "admin"])
def test_staff_never_see_her_ethnicity_or_languages(client, factory, staff):
    woman = sensitive_woman(factory)
    caller = factory.coordinator("PE") if staff == "coordinator" else factory.admin()
    response = client.get(f"{API}/participants/{woman.participant_id}", headers=caller.headers)
    assert response.status_code == 200, response.text
    assert response.json()["sensitive"] is None
    assert "Quechua" not in response.text
    assert "quechua" not in response.text


def test_out_of_scope_is_not_found(client, factory):
    woman = factory.participant("PE")
    for caller in (factory.coordinator("CL"), factory.participant("PE")):
        response = client.get(f"{API}/participants/{woman.participant_id}", headers=caller.headers)
        assert response.status_code == 404, response.text
        assert response.json()["error"] == "not_found"
    assert client.get(f"{API}/participants/{woman.participant_id}").status_code == 401


@pytest.mark.parametrize(("participant_id", "status"), [
    ("999999", 404), ("0", 422), ("-3", 422), ("abc", 422), ("99999999999999999999", 422),
])
def test_unknown_or_malformed_ids(client, factory, participant_id, status):
    admin = factory.admin()
    response = client.get(f"{API}/participants/{participant_id}", headers=admin.headers)
    assert response.status_code == status, response.text


def test_her_enrolments_newest_first_after_withdrawing_and_applying_again(client, factory, women):
    coordinator = factory.coordinator("PE")
    woman = women["one"]
    withdrawn = client.post(f"{API}/enrolments/{woman.enrolment_id}/withdraw", headers=coordinator.headers,
                            json={"reason": "Se mudó"})
    assert withdrawn.status_code == 200, withdrawn.text
    again = client.post(f"{API}/applications", headers=woman.headers, json=application("PE", self_service=False))
    assert again.status_code == 201, again.text
    record = client.get(f"{API}/participants/{woman.participant_id}", headers=coordinator.headers).json()
    assert [(e["id"], e["status"]) for e in record["enrolments"]] == [
        (again.json()["enrolment_id"], "enrolled"), (woman.enrolment_id, "withdrawn")]
    assert record["progress_percent"] == 25  # her lessons stay hers


def test_the_sort_message_is_spanish(client, factory):
    coordinator = factory.coordinator("PE")
    response = client.get(f"{API}/enrolments", headers=coordinator.headers, params={"sort": "edad"})
    assert response.json()["fields"] == [{"field": "sort", "message": FIELD_MESSAGES["literal_error"]["es"]}]
