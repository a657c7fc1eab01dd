"""Over a real socket, as a wallet and a verifier would: the credential is checked with the key fetched from
/.well-known/jwks.json, and its revocation read from the status list; issuers racing each other never share a
status list position. Both databases."""

from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from app.credentials import status_list
from tests.conftest import BACKENDS
from tests.credentials.conftest import verified
from tests.factories import Factory
from tests.live import live_service, run_at_once

pytestmark = pytest.mark.xdist_group("live")
API = "/api/v1"


@pytest.mark.parametrize("backend", BACKENDS)
def test_a_verifier_checks_the_credential_and_its_revocation_over_http(backend: str, tmp_path: Path) -> None:
    with live_service(backend, tmp_path, data_dir=tmp_path / "data") as service:
        factory = Factory(service.sessions, service.settings)
        admins = [factory.admin() for _ in range(2)]
        women = [factory.participant("PE") for _ in range(6)]

        def issue(n: int) -> Callable[[httpx.Client], httpx.Response]:
            return lambda http: http.post(
                f"{service.base_url}{API}/certificates", headers=admins[n % 2].headers,
                json={"participant_id": women[n].participant_id, "override_reason": "Avance registrado en papel"})

        answers = run_at_once([issue(n) for n in range(len(women))])
        assert [a.status_code for a in answers] == [201] * len(women), [a.text for a in answers]

        with httpx.Client(base_url=service.base_url, timeout=60) as http:
            keys = http.get("/.well-known/jwks.json").json()  # what a verifier knows: nothing but this URL
            indexes = []
            for woman, answer in zip(women, answers, strict=True):
                response = http.get(f"{API}/certificates/{answer.json()['id']}/credential", headers=woman.headers)
                assert response.status_code == 200
                _, claims = verified(response.text, keys)
                indexes.append(int(claims["credentialStatus"]["statusListIndex"]))
                assert claims["credentialStatus"]["statusListCredential"].endswith(f"{API}/credentials/status/1")
            assert len(set(indexes)) == len(women)

            revoked = http.post(f"{API}/certificates/{answers[0].json()['id']}/revoke",
                                json={"reason": "a_pedido_de_la_titular"}, headers=admins[0].headers)
            assert revoked.status_code == 200
            listed = http.get(f"{API}/credentials/status/1")
            assert listed.headers["content-type"] == "application/vc+jwt"
            _, status = verified(listed.text, keys)
            bits = status_list.decode(status["credentialSubject"]["encodedList"])
            assert [status_list.is_set(bits, i) for i in indexes] == [True] + [False] * (len(women) - 1)
