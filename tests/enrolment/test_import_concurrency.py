"""Two bulk registrations at once into a country with few seats left, through the real HTTP stack, on both
databases: the cap holds, the waitlist stays 1..n, and a woman in both files is registered once."""

import socket
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from app.auth import service as auth_service
from app.auth.schemas import UserCreate
from app.core.db import make_engine, make_sessionmaker
from app.core.security import hash_password
from app.models import Participant, Role
from tests.conftest import BACKENDS, drop_database, make_test_settings, migrated_database
from tests.enrolment.imports_helpers import IMPORT, csv_file, person
from tests.enrolment.test_quota_concurrency import assert_quota_invariants
from tests.live import live_server, run_at_once

pytestmark = pytest.mark.xdist_group("concurrency")


@pytest.fixture(params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, Any, list[str]]]:
    """(base URL, sessionmaker, tokens of an admin and of Peru's coordinator) on a fresh database of its own."""
    url = migrated_database(request.param, tmp_path)
    settings = make_test_settings(url)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    tokens = []
    with sessions() as session, session.begin():
        for role, country in ((Role.ADMIN, None), (Role.COORDINATOR, "PE")):
            user = auth_service.create_user(session, None, UserCreate(
                email=f"{role.value}@example.org", password="clave-segura-123", full_name="Staff", role=role,
                country=country), hash_password(settings, "clave-segura-123"))  # type: ignore[arg-type]
            tokens.append(auth_service.issue_token(session, settings, user.id).access_token)
    try:
        with live_server(settings) as base_url:
            yield base_url, sessions, tokens
    finally:
        engine.dispose()
        drop_database(url)


def test_two_imports_at_once_never_exceed_the_quota(live: tuple[str, Any, list[str]]) -> None:
    base, sessions, tokens = live
    admin, coordinator = ({"Authorization": f"Bearer {t}"} for t in tokens)
    assert httpx.patch(f"{base}/api/v1/countries/PE", json={"capacity": 3}, headers=admin).status_code == 200
    shared = [person("PE"), person("PE")]  # in both files, in the same places
    files = [csv_file([shared[0], person("PE"), shared[1], person("PE")]),
             csv_file([shared[0], person("PE"), shared[1], person("PE"), person("PE")])]

    def call(data: bytes, headers: dict[str, str]) -> Any:
        return lambda http: http.post(f"{base}{IMPORT}", headers=headers,
                                      files={"file": ("lista.csv", data, "text/csv")})

    responses = run_at_once([call(files[0], admin), call(files[1], coordinator)])

    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
    statuses = Counter(row["status"] for r in responses for row in r.json()["rows"])
    # 7 women: 3 seated, 4 waiting; each shared woman is registered by one import and refused by the other
    assert statuses == {"enrolled": 3, "waitlisted": 4, "rejected": 2}
    refused = [row for r in responses for row in r.json()["rows"] if row["status"] == "rejected"]
    assert {row["error"] for row in refused} == {"duplicate_application"}
    # each report's waitlist places are in its file's order
    for response in responses:
        places = [row["waitlist_position"] for row in response.json()["rows"] if row["waitlist_position"]]
        assert places == sorted(places)
    with sessions() as session:
        enrolled, positions = assert_quota_invariants(session, "PE")
        assert (enrolled, len(positions)) == (3, 4)
        assert session.scalar(select(func.count()).select_from(Participant)) == 7


def test_the_same_file_twice_at_once_with_its_key_registers_everyone_once(live: tuple[str, Any, list[str]]) -> None:
    base, sessions, tokens = live
    headers = {"Authorization": f"Bearer {tokens[1]}", "Idempotency-Key": "doble-toque"}
    data = csv_file([person("PE") for _ in range(5)])
    responses = run_at_once([
        lambda http: http.post(f"{base}{IMPORT}", headers=headers, files={"file": ("lista.csv", data, "text/csv")})
        for _ in range(2)])
    assert [r.status_code for r in responses] == [200, 200], [r.text for r in responses]
    assert [r.json()["summary"]["enrolled"] for r in responses] == [5, 5]  # the second is the first's report
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Participant)) == 5


def test_a_declared_length_over_10_mb_is_refused_before_the_body_is_sent(live: tuple[str, Any, list[str]]) -> None:
    base, _sessions, tokens = live
    host, port = base.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        # the headers only: the answer must come without the server waiting for 20 MB that never arrive
        sock.sendall((f"POST {IMPORT} HTTP/1.1\r\nHost: {host}\r\nAuthorization: Bearer {tokens[1]}\r\n"
                      "Content-Type: text/csv\r\nContent-Length: 20000000\r\n\r\n").encode())
        answer = ""
        while "}" not in answer:  # the headers and the JSON body may come in separate packets
            chunk = sock.recv(65536)
            if not chunk:
                break
            answer += chunk.decode("utf-8", "replace")
    assert answer.startswith("HTTP/1.1 413")
    assert '"error":"file_too_large"' in answer.replace(" ", "")
