"""A country's report: its numbers recomputed from the rows, who needs attention and why, sensitive data only as
suppressed counts, and a number of statements that does not grow with the cohort."""

import statistics
from collections import Counter
from datetime import UTC, date, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from app.core.base import utcnow
from app.models import (
    AuditEntry,
    Certificate,
    Enrolment,
    LessonProgress,
    ModuleCompletion,
    Participant,
    ProgressEvent,
)
from app.privacy.notice import CURRENT_NOTICE_VERSION
from app.reporting.service import suppress
from tests.certificates.conftest import complete_programme
from tests.factories import Actor, Factory
from tests.progress.conftest import Catalogue, enrolled_since
from tests.reporting.conftest import send

API = "/api/v1"
OFICIOS_RIGHT = {"q1": ["a"], "q2": ["a", "b"], "q3": ["v"]}
OFICIOS_WRONG = {"q1": ["b"], "q2": ["c", "d"], "q3": ["f"]}


def report(client: TestClient, actor: Actor, code: str = "PE") -> dict[str, Any]:
    response = client.get(f"{API}/reports/countries/{code}", headers=actor.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def certify(client: TestClient, admin: Actor, participant_id: int, **extra: Any) -> int:
    response = client.post(f"{API}/certificates", json={"participant_id": participant_id, **extra},
                           headers=admin.headers)
    assert response.status_code == 201, response.text
    certificate_id: int = response.json()["id"]
    return certificate_id


def set_capacity(client: TestClient, admin: Actor, code: str, capacity: int) -> None:
    response = client.patch(f"{API}/countries/{code}", json={"capacity": capacity}, headers=admin.headers)
    assert response.status_code == 200, response.text


def backdate(sessions: sessionmaker[Session], actors: list[Actor], days: int) -> None:
    for actor in actors:
        enrolled_since(sessions, actor.participant_id, utcnow() - timedelta(days=days))


def sensitive(**overrides: Any) -> dict[str, Any]:
    return {"consent": {"accepted": True, "version": CURRENT_NOTICE_VERSION, "sensitive_data": True}, **overrides}


@pytest.fixture
def cohort(client: TestClient, factory: Factory, sessions: sessionmaker[Session], catalogue: Catalogue) -> dict[
        str, Any]:
    """Peru: six seats taken, two more on the waitlist, one withdrawal (the head of the waitlist promoted);
    some progress; and a Chilean woman who must never appear."""
    admin = factory.admin()
    women = [factory.participant("PE", region="Cajamarca" if i % 2 else "Huancavelica") for i in range(6)]
    pe = next(c for c in client.get(f"{API}/countries").json() if c["code"] == "PE")
    set_capacity(client, admin, "PE", pe["enrolled"])
    waiting = [factory.participant("PE"), factory.participant("PE")]
    backdate(sessions, women, 40)
    response = client.post(f"{API}/enrolments/{women[5].enrolment_id}/withdraw", json={"reason": "Se mudó"},
                           headers=admin.headers)
    assert response.status_code == 200, response.text
    promoted_enrolment = response.json()["promoted_enrolment_id"]
    assert promoted_enrolment == waiting[0].enrolment_id

    # women[0]: the whole of "saberes", recently; women[1]: viewed once, long ago; women[2]: failed oficios 3 times
    send(client, women[0], ("lesson_viewed", "saberes", "valor", {"seconds": 300}, 2),
         ("lesson_completed", "saberes", "valor", {}, 2),
         ("quiz_submitted", "saberes", "oficios", {"answers": OFICIOS_RIGHT}, 1),
         ("lesson_completed", "saberes", "oficios", {}, 1))
    send(client, women[1], ("lesson_viewed", "saberes", "valor", {"seconds": 120}, 30))
    send(client, women[2], *[("quiz_submitted", "saberes", "oficios", {"answers": OFICIOS_WRONG}, 3)] * 3)
    chilean = factory.participant("CL", first_name="Violeta", last_name="Parra Sandoval")
    return {"admin": admin, "women": women, "waiting": waiting, "chilean": chilean}


def test_the_numbers_are_those_of_the_rows(client: TestClient, factory: Factory, sessions: sessionmaker[Session],
                                           cohort: dict[str, Any]) -> None:
    body = report(client, factory.coordinator("PE"))

    with sessions() as session:
        enrolments = session.scalars(select(Enrolment).where(Enrolment.country_code == "PE")).all()
        statuses = Counter(e.status.value for e in enrolments)
        assert body["statuses"] == {
            "applied": len(enrolments), "enrolled": statuses["enrolled"], "waitlisted": statuses["waitlisted"],
            "withdrawn": statuses["withdrawn"], "completed": statuses["completed"],
            "certified": certified_from_rows(session, "PE"),
        }
        regions: dict[str, Counter[str]] = {}
        for e in enrolments:
            region = session.get_one(Participant, e.participant_id).region
            regions.setdefault(region, Counter())[e.status.value] += 1
        assert {r["region"]: r["applied"] for r in body["regions"]} == {k: sum(v.values()) for k, v in
                                                                         regions.items()}
        assert {r["region"]: r["enrolled"] for r in body["regions"]} == {k: v["enrolled"] for k, v in
                                                                          regions.items()}

        seated = {e.participant_id for e in enrolments if e.status.value in ("enrolled", "completed")}
        lessons = [r for r in session.scalars(select(LessonProgress)) if r.participant_id in seated]
        completions = [c for c in session.scalars(select(ModuleCompletion)) if c.participant_id in seated]
    modules = {m["slug"]: m for m in body["modules"]}
    assert set(modules) == {"saberes", "precio", "ferias"}
    saberes = [r for r in lessons if r.module == "saberes"]
    per_woman: dict[int, int] = {}
    for r in saberes:
        per_woman[r.participant_id] = per_woman.get(r.participant_id, 0) + r.seconds
    assert modules["saberes"]["started"] == len(per_woman) == 3
    assert modules["saberes"]["median_active_seconds"] == round(statistics.median(per_woman.values()))
    scores = [r.quiz_best_score for r in saberes if r.quiz_best_score is not None]
    assert modules["saberes"]["mean_best_quiz_score"] == pytest.approx(statistics.fmean(scores), abs=1e-4)
    assert modules["saberes"]["completed"] == sum(1 for c in completions if c.module == "saberes") == 1
    assert modules["precio"] == {**modules["precio"], "started": 0, "completed": 0, "mean_best_quiz_score": None,
                                 "median_active_seconds": None}

    weeks = body["weekly_activity"]
    assert len(weeks) == 12
    assert all(date.fromisoformat(w["week_start"]).weekday() == 0 for w in weeks)
    assert sum(w["events"] for w in weeks) == 8  # all of them within the twelve weeks
    # each week recomputed from the event rows: events and distinct women of the country, Monday to Sunday UTC
    with sessions() as session:
        peruvians = set(session.scalars(select(Participant.id).where(Participant.country_code == "PE")))
        rows = [(e.participant_id, e.effective_at) for e in session.scalars(select(ProgressEvent))
                if e.participant_id in peruvians]
    for week in weeks:
        start = date.fromisoformat(week["week_start"])
        inside = [pid for pid, at in rows if start <= at.astimezone(UTC).date() < start + timedelta(days=7)]
        assert (week["events"], week["active_participants"]) == (len(inside), len(set(inside))), week
    assert len({w["week_start"] for w in weeks if w["events"]}) >= 2  # the events span weeks
    assert "Violeta" not in str(body)


def certified_from_rows(session: Session, code: str) -> int:
    """Women of the country with a completed enrolment and an issued (not revoked, not superseded) certificate."""
    completed = {e.participant_id for e in session.scalars(select(Enrolment).where(Enrolment.country_code == code))
                 if e.status.value == "completed"}
    return len({c.participant_id for c in session.scalars(select(Certificate))
                if c.status.value == "issued" and c.participant_id in completed})


def test_certified_counts_valid_certificates_of_the_completed(
        client: TestClient, factory: Factory, sessions: sessionmaker[Session], catalogue: Catalogue) -> None:
    admin, coordinator = factory.admin(), factory.coordinator("PE")
    valid, revoked, reissued, uncertified = (factory.participant("PE") for _ in range(4))
    on_paper = factory.participant("PE")  # not complete here: certified by override
    chilean = factory.participant("CL")
    for woman in (valid, revoked, reissued, uncertified, chilean):
        complete_programme(client, woman, catalogue)
    assert report(client, coordinator)["statuses"]["certified"] == 0

    ids = {}
    for woman in (valid, revoked, reissued, chilean):
        ids[woman.participant_id] = certify(client, admin, woman.participant_id)
    certify(client, admin, on_paper.participant_id, override_reason="Avance registrado en papel")
    statuses = report(client, coordinator)["statuses"]
    assert (statuses["completed"], statuses["certified"]) == (4, 3)  # the override is not a completed one

    response = client.post(f"{API}/certificates/{ids[revoked.participant_id]}/revoke",
                           json={"reason": "error_de_emision"}, headers=admin.headers)
    assert response.status_code == 200, response.text
    response = client.post(f"{API}/certificates/{ids[reissued.participant_id]}/reissue",
                           json={"reason": "Corrección del nombre"}, headers=admin.headers)
    assert response.status_code == 201, response.text
    statuses = report(client, coordinator)["statuses"]
    # revoked: no longer certified; reissued: the old one superseded, the new one valid, she is counted once
    assert (statuses["completed"], statuses["certified"]) == (4, 2)
    with sessions() as session:
        assert statuses["certified"] == certified_from_rows(session, "PE")
        assert session.scalar(select(func.count()).select_from(Certificate).where(
            Certificate.participant_id == reissued.participant_id)) == 2
    assert report(client, factory.coordinator("CL"), "CL")["statuses"]["certified"] == 1
    assert statuses["certified"] <= statuses["completed"]


def test_who_needs_attention_and_why(client: TestClient, factory: Factory, sessions: sessionmaker[Session],
                                     cohort: dict[str, Any]) -> None:
    coordinator = factory.coordinator("PE")
    women, waiting, admin = cohort["women"], cohort["waiting"], cohort["admin"]
    eleven_months_ago = (date.today() - timedelta(days=335)).isoformat()
    response = client.patch(f"{API}/countries/PE", json={"cohort_start": eleven_months_ago}, headers=admin.headers)
    assert response.status_code == 200, response.text
    assert response.json()["cohort_start"] == eleven_months_ago

    body = report(client, coordinator)
    attention = {a["participant_id"]: a for a in body["attention"]}
    assert body["cohort_start"] == eleven_months_ago
    # women[1] last did something 30 days ago; women[3] and [4] never did, seated 40 days ago
    for woman in (women[1], women[3], women[4]):
        assert "inactive_14_days" in attention[woman.participant_id]["reasons"]
    assert "inactive_14_days" not in attention.get(women[0].participant_id, {"reasons": []})["reasons"]
    assert attention[women[2].participant_id]["failed_quizzes"] == ["saberes/oficios"]
    assert "quiz_failed_3_times" in attention[women[2].participant_id]["reasons"]
    # 11 of 12 months gone (92 %): 2 of 4 required lessons (50 %) is more than 25 points behind
    assert "behind_pace" in attention[women[0].participant_id]["reasons"]
    assert attention[women[0].participant_id]["required_share_done"] == 0.5  # valor and oficios
    promoted = attention[waiting[0].participant_id]
    assert "promoted_not_notified" in promoted["reasons"]
    assert waiting[1].participant_id not in attention  # still waiting: not a seat to follow yet
    assert women[5].participant_id not in attention  # withdrawn

    # she was told: the report stops listing her for that
    response = client.post(f"{API}/enrolments/{promoted['enrolment_id']}/notified", headers=coordinator.headers)
    assert response.status_code == 200, response.text
    again = client.post(f"{API}/enrolments/{promoted['enrolment_id']}/notified", headers=coordinator.headers)
    assert again.json()["notified_at"] == response.json()["notified_at"]
    after = {a["participant_id"]: a for a in report(client, coordinator)["attention"]}
    assert "promoted_not_notified" not in after.get(waiting[0].participant_id, {"reasons": []})["reasons"]
    # never promoted: nothing to mark
    assert client.post(f"{API}/enrolments/{women[0].enrolment_id}/notified",
                       headers=coordinator.headers).status_code == 409
    assert client.post(f"{API}/enrolments/{promoted['enrolment_id']}/notified",
                       headers=factory.coordinator("CL").headers).status_code == 404


def test_sensitive_data_only_as_suppressed_counts(client: TestClient, factory: Factory) -> None:
    for _ in range(6):
        factory.participant("PE", **sensitive(ethnicity="Quechua", languages=["quechua", "español"]))
    factory.participant("PE", **sensitive(ethnicity="Aymara", languages=["aimara"]))
    for _ in range(5):
        factory.participant("PE")
    body = report(client, factory.admin())
    ethnicity = {c["value"]: c["count"] for c in body["sensitive"]["ethnicity"]}
    # "Aymara" is one woman; "no declarado" (5) is hidden too, or 12 − 6 − 5 would name her count
    assert ethnicity == {"Quechua": 6, "no declarado": "≥5", "Aymara": "<5"}
    languages = {c["value"]: c["count"] for c in body["sensitive"]["languages"]}
    assert languages == {"quechua": 6, "español": 6, "aimara": "<5"}
    assert "Quechua" not in str(body["attention"])
    assert "quechua" not in str(body["attention"])


def test_suppression_rules() -> None:
    assert [c.count for c in suppress({"a": 10, "b": 7}, sums_to_known_total=True)] == [10, 7]
    assert [c.count for c in suppress({"a": 10, "b": 7, "c": 2}, sums_to_known_total=True)] == [10, "≥5", "<5"]
    assert [c.count for c in suppress({"a": 10, "b": 3, "c": 2}, sums_to_known_total=True)] == [10, "<5", "<5"]
    assert [c.count for c in suppress({"a": 10, "c": 2}, sums_to_known_total=False)] == [10, "<5"]


def test_a_coordinator_reports_on_her_country_only(client: TestClient, factory: Factory) -> None:
    factory.participant("CL", first_name="Violeta")
    peru = factory.coordinator("PE")
    assert client.get(f"{API}/reports/countries/CL", headers=peru.headers).status_code == 404
    assert client.get(f"{API}/reports/countries/XX", headers=factory.admin().headers).status_code == 404
    assert client.get(f"{API}/reports/countries/pe", headers=peru.headers).status_code == 200
    woman = factory.participant("PE")
    assert client.get(f"{API}/reports/countries/PE", headers=woman.headers).status_code == 403


def test_viewing_a_report_is_audited(client: TestClient, factory: Factory, sessions: sessionmaker[Session]) -> None:
    coordinator = factory.coordinator("PE")
    report(client, coordinator)
    with sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "report.viewed")).one()
    assert (entry.actor_id, entry.country_code) == (coordinator.user_id, "PE")


def count_statements(engine: Engine, call: Any) -> int:
    seen: list[str] = []

    def listener(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", listener)
    try:
        call()
    finally:
        event.remove(engine, "before_cursor_execute", listener)
    return len(seen)


def test_statements_do_not_grow_with_participants(client: TestClient, factory: Factory, engine: Engine,
                                                  sessions: sessionmaker[Session], catalogue: Catalogue) -> None:
    """The report and both exports with 5 women, then with 50 (and ten times the events): the same statements."""
    coordinator = factory.coordinator("PE")
    set_capacity(client, factory.admin(), "PE", 100)

    def add(n: int) -> None:
        for i in range(n):
            woman = factory.participant("PE", region="Cajamarca" if i % 2 else "Huancavelica")
            send(client, woman, ("lesson_viewed", "saberes", "valor", {"seconds": 60}, i % 20),
                 ("lesson_completed", "saberes", "valor", {}, i % 20),
                 ("quiz_submitted", "saberes", "oficios", {"answers": OFICIOS_WRONG}, i % 30))
        with sessions() as session, session.begin():  # some promoted, so that every branch runs
            session.execute(update(Enrolment).where(Enrolment.country_code == "PE").values(promoted_at=utcnow()))

    paths = ["", "/participants.csv", "/participants.xlsx"]

    def counts() -> list[int]:
        return [count_statements(engine, lambda p=p: client.get(f"{API}/reports/countries/PE{p}",
                                                                headers=coordinator.headers)) for p in paths]

    add(5)
    report(client, coordinator)  # warms the per-process cache of module shapes
    small = counts()
    add(45)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Participant).where(
            Participant.country_code == "PE")) == 50
    large = counts()
    assert small == large
    assert max(large) < 25
