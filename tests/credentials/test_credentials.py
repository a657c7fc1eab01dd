"""The Open Badges 3.0 credential of a certificate, the key that verifies it and the status list that revokes it,
through HTTP on both databases; every signature checked with the key the service publishes."""

import base64
import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from joserfc import jwt
from joserfc.errors import BadSignatureError
from joserfc.jwk import KeySet
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.certificates import repository as certificate_repository
from app.certificates.render import PROGRAMME
from app.credentials import status_list
from app.models import STATUS_LIST_SIZE, Certificate, Participant, User
from tests.certificates.conftest import API, complete_programme
from tests.credentials.conftest import InvalidSignature, b64decode, verified
from tests.factories import Actor, Factory
from tests.progress.conftest import Catalogue

BASE = "http://127.0.0.1:8000"  # CAMINOS_PUBLIC_BASE_URL of the tests
STATUS_URL = f"{BASE}/api/v1/credentials/status/1"


def issued(client: TestClient, admin: Actor, participant: Actor) -> dict[str, Any]:
    response = client.post(f"{API}/certificates", json={"participant_id": participant.participant_id},
                           headers=admin.headers)
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def jwks(client: TestClient) -> dict[str, Any]:
    response = client.get("/.well-known/jwks.json")
    assert response.status_code == 200
    keys: dict[str, Any] = response.json()
    return keys


def credential_jwt(client: TestClient, certificate_id: int, actor: Actor) -> str:
    response = client.get(f"{API}/certificates/{certificate_id}/credential", headers=actor.headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/vc+jwt"
    return response.text


def status_bits(client: TestClient) -> bytes:
    response = client.get(f"{API}/credentials/status/1")  # no login
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/vc+jwt"
    header, payload = verified(response.text, jwks(client))
    assert set(header) == {"alg", "kid", "typ"}
    assert payload["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    assert payload["id"] == payload["jti"] == STATUS_URL
    subject = payload["credentialSubject"]
    assert subject["type"] == "BitstringStatusList"
    assert subject["statusPurpose"] == "revocation"
    bits = status_list.decode(subject["encodedList"])
    assert len(bits) * 8 == STATUS_LIST_SIZE >= 131_072  # the specification's minimum, 16 KB
    return bits


def graduate_of(client: TestClient, factory: Factory, catalogue: Catalogue, country: str = "PE") -> Actor:
    actor = factory.participant(country)
    complete_programme(client, actor, catalogue)
    return actor


# ---------------------------------------------------------------------------------------------------------------
# the credential and its signature


def test_the_credential_verifies_with_the_published_key_and_says_what_the_certificate_says(
        client: TestClient, admin: Actor, graduate: Actor, sessions: sessionmaker[Session]) -> None:
    certificate = issued(client, admin, graduate)
    token = credential_jwt(client, certificate["id"], graduate)
    header, claims = verified(token, jwks(client))
    # the library's own verification agrees, with the key set as published
    decoded = jwt.decode(token, KeySet.import_key_set(jwks(client)), algorithms=["RS256"])
    assert decoded.claims == claims

    assert header == {"alg": "RS256", "kid": header["kid"], "typ": "vc+jwt"}  # nothing else: no jwk, no x5c
    with sessions() as session:
        row = session.get_one(Certificate, certificate["id"])
    assert claims["@context"] == ["https://www.w3.org/ns/credentials/v2",
                                  "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json"]
    assert claims["type"] == ["VerifiableCredential", "OpenBadgeCredential"]
    assert claims["iss"] == claims["issuer"]["id"] == BASE
    assert claims["issuer"]["type"] == ["Profile"]
    assert "Alianza del Pacífico" in claims["issuer"]["name"]
    assert claims["jti"] == claims["id"]
    assert claims["id"].startswith("urn:uuid:")
    assert claims["sub"] == claims["credentialSubject"]["id"]
    assert claims["sub"].startswith("urn:uuid:")
    assert claims["nbf"] == int(row.issued_at.timestamp())
    assert claims["validFrom"] == row.issued_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    subject = claims["credentialSubject"]
    assert subject["type"] == ["AchievementSubject"]
    assert subject["achievement"]["type"] == ["Achievement"]
    assert subject["achievement"]["name"] == PROGRAMME
    assert subject["creditsEarned"] == round(50 / 60, 2)  # the modules' 50 minutes, in hours
    for module in row.modules:
        assert module["title"] in subject["narrative"]
    assert claims["evidence"][0]["id"] == certificate["verify_url"]
    assert claims["credentialStatus"] == {
        "id": f"{STATUS_URL}#{row.status_list_index}", "type": "BitstringStatusListEntry",
        "statusPurpose": "revocation", "statusListIndex": str(row.status_list_index),
        "statusListCredential": STATUS_URL,
    }
    # the same certificate gives the same credential: a wallet that fetches it again gets no new one
    assert credential_jwt(client, certificate["id"], graduate) == token


def test_json_is_served_when_asked_for(client: TestClient, admin: Actor, graduate: Actor) -> None:
    certificate = issued(client, admin, graduate)
    url = f"{API}/certificates/{certificate['id']}/credential"
    response = client.get(url, headers={**graduate.headers, "Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "private, no-store"
    assert "accept" in response.headers["vary"].lower()
    assert set(response.json()) == {"jwt"}
    assert response.json()["jwt"] == credential_jwt(client, certificate["id"], graduate)
    verified(response.json()["jwt"], jwks(client))
    # what a verifier's generic client sends still gets the VC-JWT; preferences are weighed
    for accept, served in [("*/*", "application/vc+jwt"), ("", "application/vc+jwt"),
                           ("application/vc+jwt, application/json", "application/vc+jwt"),
                           ("application/json;q=0.5, application/vc+jwt", "application/vc+jwt"),
                           ("application/json, */*;q=0.1", "application/json"),
                           ("application/json;q=0, */*", "application/vc+jwt"),
                           ("application/json;q=nope", "application/vc+jwt")]:
        answer = client.get(url, headers={**graduate.headers, "Accept": accept})
        assert answer.status_code == 200
        assert answer.headers["content-type"] == served, accept


def test_a_tampered_payload_or_signature_does_not_verify(
        client: TestClient, admin: Actor, graduate: Actor) -> None:
    certificate = issued(client, admin, graduate)
    token = credential_jwt(client, certificate["id"], graduate)
    keys = jwks(client)
    header_part, payload_part, signature_part = token.split(".")
    payload = json.loads(b64decode(payload_part))
    payload["credentialSubject"]["achievement"]["name"] = "Doctorado en Física"
    forged_payload = base64.urlsafe_b64encode(json.dumps(payload).encode()).rstrip(b"=").decode()
    signature = bytearray(b64decode(signature_part))
    signature[10] ^= 0x01
    forged_signature = base64.urlsafe_b64encode(bytes(signature)).rstrip(b"=").decode()
    for forged in (f"{header_part}.{forged_payload}.{signature_part}",
                   f"{header_part}.{payload_part}.{forged_signature}"):
        with pytest.raises(InvalidSignature):
            verified(forged, keys)
        with pytest.raises(BadSignatureError):
            jwt.decode(forged, KeySet.import_key_set(keys), algorithms=["RS256"])


def test_the_published_key_is_public_only_and_named_by_its_thumbprint(client: TestClient) -> None:
    response = client.get("/.well-known/jwks.json")  # no login
    assert response.status_code == 200
    assert response.headers["cache-control"].startswith("public")
    (key,) = response.json()["keys"]
    assert set(key) == {"kty", "n", "e", "kid", "alg", "use"}  # no d, p, q: nothing private
    assert (key["kty"], key["alg"], key["use"]) == ("RSA", "RS256", "sig")
    assert key["kid"] == KeySet.import_key_set(response.json()).keys[0].thumbprint()  # RFC 7638


# ---------------------------------------------------------------------------------------------------------------
# who may read it


def test_only_she_her_coordinator_and_admins_get_her_credential(
        client: TestClient, factory: Factory, admin: Actor, graduate: Actor) -> None:
    certificate = issued(client, admin, graduate)
    url = f"{API}/certificates/{certificate['id']}/credential"
    assert client.get(url).status_code == 401
    for stranger in (factory.participant("PE"), factory.coordinator("CO")):
        response = client.get(url, headers=stranger.headers)
        assert response.status_code == 404
        assert response.json()["error"] == "not_found"
        assert "eyJ" not in response.text
    for reader in (graduate, factory.coordinator("PE"), admin):
        verified(credential_jwt(client, certificate["id"], reader), jwks(client))
    assert client.get(f"{API}/certificates/999999/credential", headers=admin.headers).status_code == 404
    bad = client.get(f"{API}/certificates/abc/credential", headers=admin.headers)
    assert bad.status_code == 422
    assert bad.json()["detail"]


def test_nothing_in_the_credential_names_her_even_after_her_erasure(
        client: TestClient, factory: Factory, admin: Actor, graduate: Actor,
        sessions: sessionmaker[Session]) -> None:
    certificate = issued(client, admin, graduate)
    with sessions() as session:
        participant = session.get_one(Participant, graduate.participant_id)
        user = session.get_one(User, participant.user_id)
        personal = [participant.first_name, participant.last_name, participant.phone, participant.document_number,
                    user.email, graduate.username, participant.locality]
    personal = [p for p in personal if p]
    assert len(personal) >= 5

    def shown(token: str) -> str:
        _, claims = verified(token, jwks(client))
        return token + json.dumps(claims, ensure_ascii=False)

    before = shown(credential_jwt(client, certificate["id"], admin))
    assert not [p for p in personal if p in before]
    erased = client.post(f"{API}/participants/{graduate.participant_id}/erase",
                         json={"reason": "Lo pidió ella por escrito"}, headers=admin.headers)
    assert erased.status_code == 200, erased.text
    after = shown(credential_jwt(client, certificate["id"], admin))
    assert not [p for p in personal if p in after]
    assert "Anonimizada" not in after


# ---------------------------------------------------------------------------------------------------------------
# status list


def test_revocation_sets_her_bit_and_no_other(
        client: TestClient, factory: Factory, admin: Actor, catalogue: Catalogue,
        sessions: sessionmaker[Session]) -> None:
    first, second = (issued(client, admin, graduate_of(client, factory, catalogue, c)) for c in ("PE", "MX"))
    with sessions() as session:
        index = {c["id"]: session.get_one(Certificate, c["id"]).status_list_index for c in (first, second)}
    assert index[first["id"]] != index[second["id"]]
    bits = status_bits(client)
    assert not any(bits)  # a fresh database: nothing revoked yet
    revoked = client.post(f"{API}/certificates/{first['id']}/revoke", json={"reason": "error_de_emision"},
                          headers=admin.headers)
    assert revoked.status_code == 200, revoked.text

    bits = status_bits(client)
    assert status_list.is_set(bits, index[first["id"]])
    assert not status_list.is_set(bits, index[second["id"]])
    assert sum(bin(byte).count("1") for byte in bits) == 1
    response = client.get(f"{API}/credentials/status/1")
    assert response.headers["cache-control"] == "public, max-age=300"  # a verifier sees a revocation soon
    assert client.get(f"{API}/credentials/status/1",
                      headers={"Accept": "application/json"}).json()["jwt"].count(".") == 2


def test_a_superseded_certificate_is_no_longer_valid_and_its_successor_is(
        client: TestClient, admin: Actor, graduate: Actor, sessions: sessionmaker[Session]) -> None:
    old = issued(client, admin, graduate)
    reissued = client.post(f"{API}/certificates/{old['id']}/reissue", json={"reason": "Rectificación del nombre"},
                           headers=admin.headers)
    assert reissued.status_code == 201, reissued.text
    new = reissued.json()
    with sessions() as session:
        old_index = session.get_one(Certificate, old["id"]).status_list_index
        new_index = session.get_one(Certificate, new["id"]).status_list_index
    assert old_index != new_index  # a position is never reused
    bits = status_bits(client)
    assert status_list.is_set(bits, old_index)
    assert not status_list.is_set(bits, new_index)
    # the old credential can still be fetched (her history), and points to the bit that says it is not valid
    _, claims = verified(credential_jwt(client, old["id"], graduate), jwks(client))
    assert claims["credentialStatus"]["statusListIndex"] == str(old_index)


def test_status_list_positions_are_distinct_and_kept(
        client: TestClient, factory: Factory, admin: Actor, catalogue: Catalogue,
        sessions: sessionmaker[Session]) -> None:
    made = [issued(client, admin, graduate_of(client, factory, catalogue)) for _ in range(3)]
    with sessions() as session:
        rows = session.scalars(select(Certificate).where(Certificate.id.in_([c["id"] for c in made]))).all()
        indexes = [r.status_list_index for r in rows]
    assert len(set(indexes)) == 3
    assert all(0 <= i < STATUS_LIST_SIZE for i in indexes)
    # drawn at random: positions say nothing about the order of issue (3 in a row by chance: ~1 in 10^10)
    assert sorted(indexes) != list(range(min(indexes), min(indexes) + 3))


def test_an_issuer_that_drew_a_taken_position_draws_again(
        client: TestClient, factory: Factory, admin: Actor, catalogue: Catalogue,
        sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch) -> None:
    """Two issuers may draw the same free position at the same moment; the unique constraint refuses the second
    and it draws again. Simulated by a first draw that returns a position another certificate already holds."""
    first = issued(client, admin, graduate_of(client, factory, catalogue))
    with sessions() as session:
        taken = session.get_one(Certificate, first["id"]).status_list_index
    draws: list[int] = []
    real = certificate_repository.free_status_index

    def unlucky_then_real(session: Session) -> int:
        draws.append(taken if not draws else real(session))
        return draws[-1]

    monkeypatch.setattr(certificate_repository, "free_status_index", unlucky_then_real)
    second = issued(client, admin, graduate_of(client, factory, catalogue))
    assert len(draws) == 2
    with sessions() as session:
        assert session.get_one(Certificate, second["id"]).status_list_index == draws[1] != taken
        assert session.get_one(Certificate, first["id"]).status_list_index == taken
