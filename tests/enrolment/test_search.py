"""Staff find a woman as they would type her name on a phone: without accents or capitals, or by her document
number with or without its dots and dashes."""

import pytest

from app.models import Participant

API = "/api/v1"


@pytest.fixture
def women(factory):  # type: ignore[no-untyped-def]
    huaman = factory.participant("PE", first_name="María de los Ángeles", last_name="Huamán Ñaupa",
                                 document={"type": "DNI", "number": "40123456"})
    chaska = factory.participant("PE", first_name="Ch'aska", last_name="Quispe", document={"type": "DNI",
                                                                                           "number": "41234567"})
    chilean = factory.participant("CL", first_name="María", last_name="Huamán")
    return huaman, chaska, chilean


def found(client, actor, q):  # type: ignore[no-untyped-def]
    response = client.get(f"{API}/enrolments", params={"q": q, "limit": 200}, headers=actor.headers)
    assert response.status_code == 200, response.text
    return {item["participant_id"] for item in response.json()["items"]}


@pytest.mark.parametrize("q", ["maria de los angeles", "HUAMAN", "huamán ñaupa", "ÑAUPA", "  angeles  huaman "])
def test_a_name_is_found_without_accents_or_case(client, factory, women, q):
    huaman, _chaska, chilean = women
    coordinator = factory.coordinator("PE")
    result = found(client, coordinator, q)
    assert huaman.participant_id in result
    assert chilean.participant_id not in result  # her country only


def test_an_apostrophe_in_a_quechua_name_is_found(client, factory, women):
    _huaman, chaska, _ = women
    assert found(client, factory.coordinator("PE"), "ch'aska") == {chaska.participant_id}


@pytest.mark.parametrize("q", ["40123456", "40.123.456", "40-123-456"])
def test_a_document_number_is_found_with_or_without_separators(client, factory, women, q):
    huaman, _chaska, _ = women
    assert found(client, factory.coordinator("PE"), q) == {huaman.participant_id}


def test_another_countrys_coordinator_finds_nobody_by_document(client, factory, women):
    assert found(client, factory.coordinator("CL"), "40123456") == set()


def test_search_text_follows_a_corrected_name(client, sessions, factory, women):
    huaman, _chaska, _ = women
    with sessions() as session, session.begin():
        session.get_one(Participant, huaman.participant_id).last_name = "Condori"
    coordinator = factory.coordinator("PE")
    assert huaman.participant_id in found(client, coordinator, "condori")
    assert huaman.participant_id not in found(client, coordinator, "naupa")
