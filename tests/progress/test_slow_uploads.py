"""Phones on 2G upload a sync slowly. While 20 of them trickle their bodies a few bytes at a time, other database
routes must still answer: the body is read before a unit-of-work slot (16) or a connection is taken. Through a
real uvicorn server with raw sockets, on a database of its own, on both databases."""

import json
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from app.core.db import MAX_CONCURRENT_UNITS_OF_WORK
from tests.conftest import BACKENDS
from tests.live import live_service, self_applied_learner

pytestmark = pytest.mark.xdist_group("concurrency")
API = "/api/v1"
UPLOADS = 20  # more than the slots
TRICKLE_SECONDS = 8.0  # each upload takes this long to arrive
BOUND_SECONDS = 5.0  # a generous bound for the other client; the bench measures the real figure


@pytest.fixture(params=BACKENDS)
def live(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[str, str]]:
    """(base URL, a learner's bearer token) on a fresh database of its own, with the test programme loaded."""
    with live_service(request.param, tmp_path) as service, \
            httpx.Client(base_url=service.base_url, timeout=60) as http:
        yield service.base_url, self_applied_learner(http)["Authorization"].removeprefix("Bearer ")


class SlowUpload(threading.Thread):
    """One phone: the request line and headers at once, then the body a few bytes at a time."""

    def __init__(self, base_url: str, token: str, started: threading.Barrier) -> None:
        super().__init__(daemon=True)
        self.address = urlsplit(base_url)
        self.token, self.started = token, started
        occurred = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
        self.event_id = str(uuid.uuid4())
        self.body = json.dumps({"device_id": "tel-2g", "events": [{
            "event_id": self.event_id, "type": "lesson_viewed", "module": "saberes", "lesson": "valor",
            "occurred_at": occurred, "payload": {"seconds": 1}}]}).encode()
        self.response = b""

    def run(self) -> None:
        head = (f"POST {API}/progress/events HTTP/1.1\r\nHost: {self.address.netloc}\r\n"
                f"Authorization: Bearer {self.token}\r\nContent-Type: application/json\r\n"
                f"Content-Length: {len(self.body)}\r\nConnection: close\r\n\r\n").encode()
        with socket.create_connection((self.address.hostname or "", self.address.port or 80), timeout=60) as sock:
            sock.sendall(head + self.body[:5])
            self.started.wait()
            pieces = [self.body[i:i + 8] for i in range(5, len(self.body), 8)]
            for piece in pieces:
                time.sleep(TRICKLE_SECONDS / len(pieces))
                sock.sendall(piece)
            while chunk := sock.recv(65536):
                self.response += chunk

    @property
    def status(self) -> int:
        return int(self.response.split(b" ", 2)[1]) if self.response else 0

    @property
    def results(self) -> list[dict[str, object]]:
        results: list[dict[str, object]] = json.loads(self.response.split(b"\r\n\r\n", 1)[1])["results"]
        return results


def test_slow_uploads_do_not_hold_the_database_routes(live: tuple[str, str]) -> None:
    base_url, token = live
    assert UPLOADS > MAX_CONCURRENT_UNITS_OF_WORK
    started = threading.Barrier(UPLOADS + 1)
    uploads = [SlowUpload(base_url, token, started) for _ in range(UPLOADS)]
    for upload in uploads:
        upload.start()
    started.wait()  # every phone has sent its headers and the first bytes of its body
    time.sleep(0.5)  # and the server has begun to handle each of them

    with httpx.Client(base_url=base_url, timeout=60) as http:
        begun = time.monotonic()
        countries = http.get(f"{API}/countries")
        elapsed = time.monotonic() - begun
        progress = http.get(f"{API}/me/progress", headers={"Authorization": f"Bearer {token}"})
    still_uploading = sum(upload.is_alive() for upload in uploads)

    assert countries.status_code == 200, countries.text
    assert progress.status_code == 200, progress.text
    assert elapsed < BOUND_SECONDS, f"GET /countries took {elapsed:.1f} s behind {UPLOADS} slow uploads"
    assert still_uploading == UPLOADS  # it was measured while every upload was still arriving

    for upload in uploads:
        upload.join(timeout=60)
    assert [u.status for u in uploads] == [200] * UPLOADS
    assert [u.results[0]["status"] for u in uploads] == ["accepted"] * UPLOADS
