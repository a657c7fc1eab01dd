"""Bad input to POST /api/v1/applications: each rule answers 422 on the right field, in the caller's
language, and nothing is stored. Not-eligible applicants get the failing fields as reasons; nothing stored.
"""

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from app.core.i18n import FIELD_MESSAGES, MESSAGES, REASONS
from app.enrolment.documents import curp_check_digit, run_check_digit
from tests.factories import application, birthday_years_ago, message, row_counts

URL = "/api/v1/applications"
DROP = object()  # a change that removes the key instead of setting it
ELIGIBILITY_FIELDS = {"gender", "birth_date", "country", "region", "is_rural", "has_internet"}

RUN_BODY = "12345678"
RUN_RIGHT = run_check_digit(RUN_BODY)
RUN_WRONG = "K" if RUN_RIGHT != "K" else "0"
CURP_FIRST17 = "GOMC850101MOCBCB1"
CURP_RIGHT = CURP_FIRST17 + curp_check_digit(CURP_FIRST17)
CURP_WRONG_DIGIT = CURP_FIRST17 + str((int(curp_check_digit(CURP_FIRST17)) + 1) % 10)


def changed(body: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``changes`` maps dotted paths ("consent.version") to a new value, or to DROP to remove the key."""
    for path, value in changes.items():
        *parents, leaf = path.split(".")
        target = body
        for key in parents:
            target = target[key]
        if value is DROP:
            target.pop(leaf)
        else:
            target[leaf] = value
    return body


@pytest.fixture
def unchanged(client: Any, sessions: sessionmaker[Session]) -> Iterator[None]:
    """The test's requests leave the row count of every table as it was (counted once the app is up)."""
    before = row_counts(sessions)
    yield
    assert row_counts(sessions) == before


def row(field: str, rule: str, changes: dict[str, Any], *, country: str = "PE", id: str) -> Any:
    return pytest.param(country, changes, field, rule, id=id)


BAD_INPUT = [
    # required fields
    *[row(name, "missing", {name: DROP}, id=f"missing-{name}")
      for name in ("first_name", "last_name", "birth_date", "gender", "country", "region", "locality",
                   "is_rural", "has_internet", "consent")],
    row("consent.accepted", "missing", {"consent.accepted": DROP}, id="missing-consent.accepted"),
    row("consent.version", "missing", {"consent.version": DROP}, id="missing-consent.version"),
    row("document.type", "missing", {"document.type": DROP}, id="missing-document.type"),
    row("document.number", "missing", {"document.number": DROP}, id="missing-document.number"),
    # names and locality
    row("first_name", "string_too_short", {"first_name": ""}, id="first_name-empty"),
    row("first_name", "string_too_short", {"first_name": "   "}, id="first_name-whitespace"),
    row("first_name", "string_too_long", {"first_name": "A" * 101}, id="first_name-101-chars"),
    row("first_name", "string_type", {"first_name": 42}, id="first_name-not-text"),
    row("last_name", "string_too_short", {"last_name": ""}, id="last_name-empty"),
    row("last_name", "string_too_short", {"last_name": " \t "}, id="last_name-whitespace"),
    row("last_name", "string_too_long", {"last_name": "Q" * 101}, id="last_name-101-chars"),
    row("locality", "string_too_short", {"locality": ""}, id="locality-empty"),
    row("locality", "string_too_short", {"locality": "  "}, id="locality-whitespace"),
    # email, phone, password
    row("email", "email", {"email": "maria.example.org"}, id="email-no-at"),
    row("email", "email", {"email": "maria@"}, id="email-no-domain"),
    row("email", "email", {"email": "maria @example.org"}, id="email-space"),
    row("phone", "phone_format", {"phone": "987654321"}, id="phone-no-plus"),
    row("phone", "phone_format", {"phone": "+51 98765"}, id="phone-too-short"),
    row("phone", "phone_format", {"phone": "+51abc654321"}, id="phone-letters"),
    row("phone", "phone_format", {"phone": "+0519876543"}, id="phone-leading-zero"),
    row("phone", "phone_country", {"phone": "+56987654321"}, id="phone-chilean-code-for-PE"),
    row("phone", "phone_country", {"phone": "+51987654321"}, country="MX", id="phone-peruvian-code-for-MX"),
    row("password", "string_too_short", {"password": "corta"}, id="password-too-short"),
    row("password", "string_too_long", {"password": "x" * 129}, id="password-too-long"),
    # birth date and gender
    row("birth_date", "date_from_datetime_parsing", {"birth_date": "14/05/1988"}, id="birth_date-malformed"),
    row("birth_date", "date_from_datetime_parsing", {"birth_date": "1988-02-30"},
        id="birth_date-no-such-day"),
    row("birth_date", "birth_date_future", {"birth_date": birthday_years_ago(0, 1)},
        id="birth_date-tomorrow"),
    row("birth_date", "birth_date_past", {"birth_date": "1899-12-31"}, id="birth_date-before-1900"),
    row("gender", "literal_error", {"gender": "mujer"}, id="gender-not-in-enum"),
    row("gender", "literal_error", {"gender": "FEMALE"}, id="gender-wrong-case"),
    # country and region
    row("country", "string_too_long", {"country": "PER"}, id="country-three-letters"),
    row("country", "string_too_short", {"country": "P"}, id="country-one-letter"),
    row("country", "country", {"country": "P1"}, id="country-digit"),
    row("region", "region", {"region": "Santiago"}, id="region-Santiago-not-Peruvian"),
    row("region", "region", {"region": "Oaxaca"}, id="region-Oaxaca-for-PE"),
    row("region", "region", {"region": "Lima"}, country="CL", id="region-Lima-for-CL"),
    row("region", "string_too_short", {"region": ""}, id="region-empty"),
    # booleans
    row("is_rural", "bool_parsing", {"is_rural": "quizás"}, id="is_rural-not-boolean"),
    row("is_rural", "bool_parsing", {"is_rural": 2}, id="is_rural-number"),
    row("has_internet", "bool_parsing", {"has_internet": "a veces"}, id="has_internet-not-boolean"),
    # documents
    row("document", "document_type_country",
        {"document": {"type": "RUN", "number": f"{RUN_BODY}-{RUN_RIGHT}"}}, id="document-RUN-for-PE"),
    row("document", "document_type_country", {"document": {"type": "DNI", "number": "40000001"}},
        country="MX", id="document-DNI-for-MX"),
    row("document.type", "literal_error", {"document": {"type": "PASSPORT", "number": "40000001"}},
        id="document-unknown-type"),
    row("document.number", "dni", {"document": {"type": "DNI", "number": "4000000"}}, id="DNI-7-digits"),
    row("document.number", "dni", {"document": {"type": "DNI", "number": "400000001"}}, id="DNI-9-digits"),
    row("document.number", "dni", {"document": {"type": "DNI", "number": "4000000A"}}, id="DNI-letter"),
    row("document.number", "run", {"document": {"type": "RUN", "number": f"{RUN_BODY}-{RUN_WRONG}"}},
        country="CL", id="RUN-wrong-check-digit"),
    row("document.number", "run", {"document": {"type": "RUN", "number": "12.34A.678-5"}},
        country="CL", id="RUN-letters"),
    row("document.number", "cc", {"document": {"type": "CC", "number": "12345"}}, country="CO",
        id="CC-5-digits"),
    row("document.number", "cc", {"document": {"type": "CC", "number": "12345678901"}}, country="CO",
        id="CC-11-digits"),
    row("document.number", "curp", {"document": {"type": "CURP", "number": CURP_RIGHT[:17]}}, country="MX",
        id="CURP-17-chars"),
    row("document.number", "curp", {"document": {"type": "CURP", "number": CURP_RIGHT + "0"}}, country="MX",
        id="CURP-19-chars"),
    row("document.number", "curp", {"document": {"type": "CURP", "number": "1OMC850101MOCBCB1" + "0"}},
        country="MX", id="CURP-digit-where-letter"),
    row("document.number", "curp", {"document": {"type": "CURP", "number": "GOMC851301MOCBCB1" + "0"}},
        country="MX", id="CURP-month-13"),
    row("document.number", "curp", {"document": {"type": "CURP", "number": CURP_WRONG_DIGIT}}, country="MX",
        id="CURP-wrong-check-digit"),
    # consent
    row("consent.accepted", "consent_required", {"consent.accepted": False}, id="consent-not-accepted"),
    row("consent.version", "consent_version", {"consent.version": "2019-01"}, id="consent-old-version"),
    row("consent", "model_type", {"consent": True}, id="consent-not-an-object"),
    row("consent.surprise", "extra_forbidden", {"consent.surprise": 1}, id="consent-unknown-field"),
    # sensitive data
    row("ethnicity", "sensitive_without_consent", {"ethnicity": "Quechua"}, id="ethnicity-without-consent"),
    row("languages", "sensitive_without_consent", {"languages": ["quechua"]}, id="languages-without-consent"),
    row("languages", "too_long",
        {"languages": [f"lengua {i}" for i in range(11)], "consent.sensitive_data": True},
        id="languages-11-items"),
    row("languages.0", "string_too_short", {"languages": [""], "consent.sensitive_data": True},
        id="languages-empty-item"),
    row("languages", "list_type", {"languages": "quechua", "consent.sensitive_data": True},
        id="languages-not-a-list"),
    # unknown top-level fields
    row("role", "extra_forbidden", {"role": "admin"}, id="unknown-field-role"),
    row("status", "extra_forbidden", {"status": "enrolled"}, id="unknown-field-status"),
    # a self-application needs an account
    row("email", "self_application_needs_account", {"email": DROP}, id="self-application-without-email"),
    row("password", "self_application_needs_account", {"password": DROP},
        id="self-application-without-password"),
    row("email", "self_application_needs_account", {"email": None}, id="self-application-email-null"),
]


@pytest.mark.parametrize(("country", "changes", "field", "rule"), BAD_INPUT)
@pytest.mark.usefixtures("unchanged")
def test_bad_input_is_refused_on_its_field(client, country, changes, field, rule):
    body = changed(application(country), changes)

    response = client.post(URL, json=body)

    assert response.status_code == 422, response.text
    data = response.json()
    assert data["error"] == "invalid_input"
    assert data["detail"] == MESSAGES["invalid_input"]["es"]
    assert {"field": field, "message": message(rule)} in data["fields"], data["fields"]
    assert all(set(f) == {"field", "message"} for f in data["fields"])


STAFF_BAD_INPUT = [
    pytest.param("admin", {"first_name": "  "}, "first_name", "string_too_short",
                 id="admin-blank-first_name"),
    pytest.param("admin", {"document": {"type": "DNI", "number": "123"}}, "document.number", "dni",
                 id="admin-short-DNI"),
    pytest.param("coordinator", {"region": "Oaxaca"}, "region", "region", id="coordinator-foreign-region"),
    pytest.param("coordinator", {"consent.accepted": False}, "consent.accepted", "consent_required",
                 id="coordinator-consent-not-accepted"),
    pytest.param("coordinator", {"password": "1234"}, "password", "string_too_short",
                 id="coordinator-short-password"),
]


@pytest.mark.parametrize(("actor", "changes", "field", "rule"), STAFF_BAD_INPUT)
def test_bad_input_from_staff_is_refused(client, factory, sessions, actor, changes, field, rule):
    headers = (factory.admin() if actor == "admin" else factory.coordinator("PE")).headers
    body = changed(application("PE", self_service=False), changes)
    before = row_counts(sessions)

    response = client.post(URL, json=body, headers=headers)

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_input"
    assert {"field": field, "message": message(rule)} in response.json()["fields"]
    assert row_counts(sessions) == before


def test_staff_registration_needs_no_email_or_password_but_valid_fields(client, factory, sessions):
    """The self-application rule is about anonymous callers only: staff get the field errors, not it."""
    headers = factory.admin().headers
    before = row_counts(sessions)
    body = changed(application("PE", self_service=False), {"phone": "12"})

    response = client.post(URL, json=body, headers=headers)

    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["fields"]] == ["phone"]
    assert row_counts(sessions) == before


@pytest.mark.usefixtures("unchanged")
def test_english_when_accept_language_prefers_it(client):
    body = changed(application("PE"), {"phone": "987654321", "region": "Oaxaca"})

    response = client.post(URL, json=body, headers={"Accept-Language": "en-GB,en;q=0.9,es;q=0.5"})

    assert response.status_code == 422, response.text
    data = response.json()
    assert data["detail"] == MESSAGES["invalid_input"]["en"]
    assert {"field": "phone", "message": message("phone_format", "en")} in data["fields"]
    assert {"field": "region", "message": message("region", "en")} in data["fields"]


@pytest.mark.usefixtures("unchanged")
def test_english_for_a_rule_checked_by_the_service(client):
    body = changed(application("PE"), {"password": DROP})

    response = client.post(URL, json=body, headers={"Accept-Language": "en"})

    assert response.status_code == 422, response.text
    assert response.json()["detail"] == MESSAGES["invalid_input"]["en"]
    assert response.json()["fields"] == [
        {"field": "password", "message": message("self_application_needs_account", "en")}]


@pytest.mark.usefixtures("unchanged")
def test_spanish_when_accept_language_names_neither(client):
    response = client.post(URL, json=changed(application("PE"), {"gender": "x"}),
                           headers={"Accept-Language": "fr-FR,de;q=0.8"})

    assert response.status_code == 422, response.text
    assert response.json()["detail"] == MESSAGES["invalid_input"]["es"]
    assert response.json()["fields"] == [{"field": "gender", "message": message("literal_error")}]


@pytest.mark.usefixtures("unchanged")
def test_several_errors_are_all_reported(client):
    body = changed(application("PE"), {"first_name": "", "email": "x", "birth_date": "ayer", "extra": 1})

    response = client.post(URL, json=body)

    assert response.status_code == 422, response.text
    assert {f["field"] for f in response.json()["fields"]} == {"first_name", "email", "birth_date", "extra"}


# --- not eligible ---------------------------------------------------------------------------------------

NOT_ELIGIBLE = [
    pytest.param({"birth_date": birthday_years_ago(18, 1)}, ["birth_date"], id="17-turns-18-tomorrow"),
    pytest.param({"birth_date": birthday_years_ago(15)}, ["birth_date"], id="15-years-old"),
    pytest.param({"gender": "male"}, ["gender"], id="male"),
    pytest.param({"gender": "other"}, ["gender"], id="other-gender"),
    pytest.param({"region": "Lima"}, ["region"], id="PE-Lima-not-eligible-region"),
    pytest.param({"region": "lima"}, ["region"], id="PE-lima-lowercase"),
    pytest.param({"country": "AR", "region": "Jujuy", "document": DROP, "phone": DROP}, ["country"],
                 id="AR-not-participating"),
    pytest.param({"is_rural": False}, ["is_rural"], id="not-rural"),
    pytest.param({"has_internet": False}, ["has_internet"], id="no-internet"),
    pytest.param({"gender": "male", "birth_date": birthday_years_ago(17), "region": "Lima",
                  "is_rural": False, "has_internet": False},
                 ["gender", "birth_date", "region", "is_rural", "has_internet"], id="all-at-once-PE-Lima"),
    pytest.param({"country": "AR", "region": "Jujuy", "document": DROP, "phone": DROP, "gender": "other",
                  "birth_date": birthday_years_ago(18, 1), "is_rural": False, "has_internet": False},
                 ["gender", "birth_date", "country", "is_rural", "has_internet"], id="all-at-once-AR"),
]


@pytest.mark.parametrize(("changes", "reasons"), NOT_ELIGIBLE)
@pytest.mark.usefixtures("unchanged")
def test_not_eligible_lists_the_failing_fields_and_stores_nothing(client, changes, reasons):
    body = changed(application("PE"), changes)

    response = client.post(URL, json=body)

    assert response.status_code == 422, response.text
    data = response.json()
    assert data["error"] == "not_eligible"
    assert data["detail"] == MESSAGES["not_eligible"]["es"]
    assert isinstance(data["reasons"], list)
    assert set(data["reasons"]) <= ELIGIBILITY_FIELDS
    assert len(data["reasons"]) == len(set(data["reasons"]))
    assert sorted(data["reasons"]) == sorted(reasons)
    assert "fields" not in data or data["fields"] is None


@pytest.mark.usefixtures("unchanged")
def test_not_eligible_in_english(client):
    response = client.post(URL, json=application("PE", gender="male"), headers={"Accept-Language": "en"})

    assert response.status_code == 422, response.text
    assert response.json()["detail"] == MESSAGES["not_eligible"]["en"]
    assert response.json()["reasons"] == ["gender"]
    assert response.json()["reason_details"] == [{"field": "gender", "message": REASONS["gender"]["en"]}]


@pytest.mark.usefixtures("unchanged")
def test_invalid_input_is_reported_before_eligibility(client):
    """A male applicant with a malformed phone is told about the phone: input is validated first."""
    response = client.post(URL, json=application("PE", gender="male", phone="123"))

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_input"
    assert [f["field"] for f in response.json()["fields"]] == ["phone"]


def test_turning_18_today_is_accepted(client, sessions):
    before = row_counts(sessions)

    response = client.post(URL, json=application("PE", birth_date=birthday_years_ago(18)))

    assert response.status_code == 201, response.text
    after = row_counts(sessions)
    assert after["enrolment"] == before["enrolment"] + 1
    assert after["participant"] == before["participant"] + 1


@pytest.mark.parametrize(("country", "changes"), [
    pytest.param("PE", {"region": "apurimac"}, id="region-without-accent"),
    pytest.param("PE", {"phone": "+51 987 654 321"}, id="phone-with-spaces"),
    pytest.param("CL", {"document": {"type": "RUN", "number": f"12.345.678-{RUN_RIGHT}"}},
                 id="RUN-with-dots"),
    pytest.param("MX", {"document": {"type": "CURP", "number": CURP_RIGHT.lower()}}, id="CURP-lowercase"),
    pytest.param("CO", {"document": {"type": "CC", "number": "123456"}}, id="CC-6-digits"),
    pytest.param("CO", {"document": {"type": "CC", "number": "1234567890"}}, id="CC-10-digits"),
    pytest.param("PE", {"document": DROP, "phone": DROP}, id="no-document-no-phone"),
    pytest.param("PE", {"languages": ["quechua"], "ethnicity": "Quechua", "consent.sensitive_data": True},
                 id="sensitive-with-consent"),
    pytest.param("PE", {"first_name": "A" * 100}, id="first_name-100-chars"),
    pytest.param("PE", {"birth_date": "1900-01-01"}, id="born-1900-01-01"),
])
def test_edge_values_that_are_accepted(client, country, changes):
    """The other side of the table's limits: these are valid."""
    response = client.post(URL, json=changed(application(country), changes))

    assert response.status_code == 201, response.text


# --- malformed bodies ------------------------------------------------------------------------------------

@pytest.mark.parametrize("content", [
    pytest.param(b'{"first_name": "Mar', id="truncated-json"),
    pytest.param(b"first_name=Maria", id="form-encoded"),
    pytest.param(b"\xff\xfe\x00", id="binary"),
])
@pytest.mark.usefixtures("unchanged")
def test_non_json_body_is_400(client, content):
    response = client.post(URL, content=content, headers={"Content-Type": "application/json"})

    assert response.status_code == 400, response.text
    assert response.json()["error"] == "invalid_json"
    assert response.json()["detail"] == FIELD_MESSAGES["json_invalid"]["es"]


@pytest.mark.parametrize("payload", [
    pytest.param([application("PE")], id="list-of-application"),
    pytest.param([], id="empty-list"),
    pytest.param("texto", id="string"),
    pytest.param(42, id="number"),
    pytest.param(None, id="null"),
])
@pytest.mark.usefixtures("unchanged")
def test_json_that_is_not_an_object_is_422(client, payload):
    response = client.post(URL, json=payload)

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_input"
    assert response.json()["fields"], response.json()


@pytest.mark.usefixtures("unchanged")
def test_empty_body_is_422(client):
    response = client.post(URL)

    assert response.status_code == 422, response.text
    assert response.json()["error"] == "invalid_input"
    assert response.json()["fields"] == [{"field": "body", "message": message("missing")}]

