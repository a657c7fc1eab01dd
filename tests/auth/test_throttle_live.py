"""Throttling as attackers and proxies really reach it: through a live server, with real commits, on both
databases. Parallel guesses must not slip under the limit; behind a trusted proxy the forwarded client address
is what counts, and a forged ``X-Forwarded-For`` from anyone else is ignored; guesses at one woman's account
from elsewhere do not lock her out of her own phone."""

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from app.auth import service as auth_service
from app.auth.schemas import UserCreate
from app.core.security import hash_password
from app.models import Role
from tests.conftest import BACKENDS
from tests.factories import application
from tests.live import live_service, run_at_once

pytestmark = pytest.mark.xdist_group("concurrency")
API = "/api/v1"
PASSWORD = "clave-segura-123"
PROXY = "127.0.0.2"


@contextmanager
def served(backend: str, tmp_path: Path, **overrides: Any) -> Iterator[str]:
    """A live server on a database of its own with one coordinator, ``coord@example.org``."""
    with live_service(backend, tmp_path, with_programme=False, **overrides) as service:
        with service.sessions() as session, session.begin():
            auth_service.create_user(session, None, UserCreate(
                email="coord@example.org", password=PASSWORD, full_name="Rosa", role=Role.COORDINATOR,
                country="PE"), hash_password(service.settings, PASSWORD))
        yield service.base_url


def client_from(address: str, base_url: str) -> httpx.Client:
    """An HTTP client whose connections leave from ``address`` (any 127.x is this machine)."""
    return httpx.Client(base_url=base_url, timeout=60, transport=httpx.HTTPTransport(local_address=address))


def guess(http: httpx.Client, password: str = "no-es-la-clave", forwarded: str | None = None) -> int:
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    response = http.post(f"{API}/auth/token", data={"username": "coord@example.org", "password": password},
                         headers=headers)
    return response.status_code


@pytest.mark.parametrize("backend", BACKENDS)
def test_twelve_guesses_at_once_get_only_five_tries(backend: str, tmp_path: Path) -> None:
    with served(backend, tmp_path) as base:
        calls = [lambda http, n=n: http.post(f"{base}{API}/auth/token",
                                             data={"username": "coord@example.org", "password": f"mala-{n}"})
                 for n in range(12)]
        statuses = Counter(r.status_code for r in run_at_once(calls))
    assert statuses == {401: 5, 429: 7}


@pytest.mark.parametrize("backend", BACKENDS)
def test_refused_applications_count_toward_the_hourly_limit(backend: str, tmp_path: Path) -> None:
    with served(backend, tmp_path, application_rate_limit=3) as base, httpx.Client(base_url=base, timeout=60) as http:
        ineligible = http.post(f"{API}/applications", json=application("PE", gender="male"))
        body = application("PE")
        accepted = http.post(f"{API}/applications", json=body)
        duplicate = http.post(f"{API}/applications", json=application("PE", document=body["document"]))
        fourth = http.post(f"{API}/applications", json=application("PE"))
    assert [ineligible.status_code, accepted.status_code, duplicate.status_code] == [422, 201, 409]
    assert fourth.status_code == 429
    assert int(fourth.headers["retry-after"]) > 0


@pytest.mark.parametrize("backend", BACKENDS)
def test_behind_a_trusted_proxy_the_forwarded_address_is_throttled(backend: str, tmp_path: Path) -> None:
    with served(backend, tmp_path, forwarded_allow_ips=[PROXY], login_failures_per_address=3,
                login_failures_per_account=50) as base, client_from(PROXY, base) as proxy:
        assert [guess(proxy, forwarded="203.0.113.7") for _ in range(4)] == [401, 401, 401, 429]
        # another woman behind the same proxy is another address
        assert guess(proxy, forwarded="198.51.100.20") == 401
        assert guess(proxy, password=PASSWORD, forwarded="198.51.100.20") == 200


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_forged_forwarded_header_from_an_untrusted_peer_is_ignored(backend: str, tmp_path: Path) -> None:
    with served(backend, tmp_path, forwarded_allow_ips=[PROXY], login_failures_per_address=3,
                login_failures_per_account=50) as base, client_from("127.0.0.3", base) as stranger:
        # a new forged address each time does not buy new tries: the peer 127.0.0.3 is what counts
        statuses = [guess(stranger, forwarded=f"192.0.2.{n}") for n in range(4)]
    assert statuses == [401, 401, 401, 429]


@pytest.mark.parametrize("backend", BACKENDS)
def test_guesses_from_elsewhere_do_not_lock_the_owner_out(backend: str, tmp_path: Path) -> None:
    with served(backend, tmp_path) as base, client_from("127.0.0.4", base) as attacker, \
            client_from("127.0.0.5", base) as owner:
        assert [guess(attacker) for _ in range(6)] == [401] * 5 + [429]
        assert guess(owner, password=PASSWORD) == 200
        assert guess(attacker, password=PASSWORD) == 429  # the attacker's address stays locked for this account


@pytest.mark.parametrize("backend", BACKENDS)
def test_guesses_spread_over_many_addresses_meet_the_account_cap(backend: str, tmp_path: Path) -> None:
    with served(backend, tmp_path, login_failures_per_account_total=6) as base:
        statuses = []
        for n in range(7):
            with client_from(f"127.0.1.{n + 1}", base) as http:
                statuses.append(guess(http))
        with client_from("127.0.2.1", base) as owner:
            owner_status = guess(owner, password=PASSWORD)
    assert statuses == [401] * 6 + [429]
    assert owner_status == 429  # the price of a cap per account: the README says so
