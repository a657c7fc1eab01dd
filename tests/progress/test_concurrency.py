"""One woman's devices syncing at the same moment (a phone coming back online while a browser tab posts) must
neither fail nor lose progress: through the real HTTP stack, with real commits, on both databases."""

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.conftest import BACKENDS
from tests.live import live_service, run_at_once, self_applied_learner

pytestmark = pytest.mark.xdist_group("concurrency")
API = "/api/v1"
BASE = datetime.now(UTC).replace(microsecond=0) - timedelta(days=10)


@pytest.fixture(params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """(base URL, a learner's headers) on a fresh database of its own, with the test programme loaded."""
    with live_service(request.param, tmp_path) as service, \
            httpx.Client(base_url=service.base_url, timeout=60) as http:
        yield service.base_url, self_applied_learner(http)


def event(kind: str, module: str, lesson: str, payload: dict[str, Any], minute: int) -> dict[str, Any]:
    return {"event_id": str(uuid.uuid4()), "type": kind, "module": module, "lesson": lesson,
            "occurred_at": (BASE + timedelta(minutes=minute)).isoformat(), "payload": payload}


def test_simultaneous_batches_of_one_participant_lose_nothing(live: tuple[str, dict[str, str]]) -> None:
    base, headers = live
    # each request views every lesson for a minute; the completions of the programme are spread over them
    lessons = [("saberes", "valor"), ("saberes", "oficios"), ("saberes", "extra"), ("precio", "costos"),
               ("precio", "cuentas"), ("ferias", "mercados")]
    finishing = [
        event("lesson_completed", "saberes", "valor", {}, 1),
        event("lesson_completed", "saberes", "oficios", {}, 2),
        event("quiz_submitted", "saberes", "oficios", {"answers": {"q1": ["a"], "q2": ["a", "b"], "q3": ["v"]}}, 3),
        event("lesson_completed", "precio", "costos", {}, 4),
        event("quiz_submitted", "precio", "costos", {"answers": {"p1": ["b"]}}, 5),
        event("lesson_completed", "precio", "cuentas", {}, 6),
    ]
    batches = []
    for i in range(12):
        batch = [event("lesson_viewed", m, s, {"seconds": 60}, 10 + i) for m, s in lessons]
        if i < len(finishing):
            batch.append(finishing[i])
        batches.append(batch)

    def post(batch: list[dict[str, Any]]) -> Callable[[httpx.Client], httpx.Response]:
        return lambda http: http.post(f"{base}{API}/progress/events", json={"events": batch}, headers=headers)

    responses = run_at_once([post(b) for b in batches])
    assert Counter(r.status_code for r in responses) == {200: len(batches)}, [r.text for r in responses]
    assert {r["status"] for resp in responses for r in resp.json()["results"]} == {"accepted"}

    with httpx.Client(timeout=60) as http:
        progress = http.get(f"{base}{API}/me/progress", headers=headers).json()
        me = http.get(f"{base}{API}/me", headers=headers).json()
    seconds = {(m["slug"], row["slug"]): row["seconds"] for m in progress["modules"] for row in m["lessons"]}
    assert seconds == {key: 60 * len(batches) for key in lessons}
    assert progress["programme_completed"] is True
    assert progress["programme_completed_at"] is not None
    assert me["enrolment"]["status"] == "completed"


def test_views_sent_while_another_sync_completes_the_lesson_keep_every_second(
        live: tuple[str, dict[str, str]]) -> None:
    """A sync of views only adds seconds without waiting for her other syncs; one that completes a lesson reads
    her summary first. Round after round the two race on the same lesson: no second may be lost."""
    base, headers = live
    rounds, views_per_round = 12, 4
    for n in range(rounds):
        lesson = [("saberes", "valor"), ("saberes", "extra"), ("ferias", "mercados")][n % 3]
        completing = [event("lesson_viewed", *lesson, {"seconds": 7}, n), event("lesson_completed", *lesson, {}, n)]
        views = [[event("lesson_viewed", *lesson, {"seconds": 5}, n)] for _ in range(views_per_round)]

        def post(batch: list[dict[str, Any]]) -> Callable[[httpx.Client], httpx.Response]:
            return lambda http: http.post(f"{base}{API}/progress/events", json={"events": batch}, headers=headers)

        responses = run_at_once([post(completing), *(post(v) for v in views)])
        assert [r.status_code for r in responses] == [200] * (1 + views_per_round), [r.text for r in responses]
    with httpx.Client(timeout=60) as http:
        progress = http.get(f"{base}{API}/me/progress", headers=headers).json()
    seconds = {(m["slug"], row["slug"]): row["seconds"] for m in progress["modules"] for row in m["lessons"]}
    for lesson in [("saberes", "valor"), ("saberes", "extra"), ("ferias", "mercados")]:
        assert seconds[lesson] == (rounds // 3) * (7 + 5 * views_per_round), lesson
