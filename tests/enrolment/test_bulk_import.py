"""Bulk registration (POST /applications/import): each row under the rules of a single application, a row-by-row
report in Spanish, dry runs, retries, bad files, formulas, scope, audit; the templates."""

import io
import json
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from app.auth.principal import Principal
from app.enrolment import imports
from app.enrolment.spreadsheet import MAX_BYTES, XLSX_MEDIA_TYPE
from app.models import AuditEntry, Enrolment, IdempotencyRecord, Participant, Role, User
from tests.enrolment.imports_helpers import IMPORT, by_row, csv_file, person, send, send_xlsx, xlsx_file
from tests.factories import Actor, Factory, message, row_counts

API = "/api/v1"


def count(sessions: sessionmaker[Session], model: Any) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def set_capacity(client: TestClient, admin: Actor, country: str, seats_left: int) -> None:
    current = next(c for c in client.get(f"{API}/countries").json() if c["code"] == country)
    response = client.patch(f"{API}/countries/{country}", json={"capacity": current["enrolled"] + seats_left},
                            headers=admin.headers)
    assert response.status_code == 200, response.text


@pytest.fixture
def coordinator(factory: Factory) -> Actor:
    return factory.coordinator("PE")


def test_good_rows_are_stored_and_broken_ones_reported_with_row_column_and_reason(
    client: TestClient, sessions: sessionmaker[Session], coordinator: Actor
) -> None:
    rows = [
        person(),                                          # row 2
        person(fecha_nacimiento="14/05/1988"),             # 3: not AAAA-MM-DD
        person(region="Lima Norte"),                       # 4: not a region of Peru
        person(genero="hombre"),                           # 5: not eligible
        person(es_rural="quizás"),                         # 6: neither yes nor no
        person(localidad="Porcón\x00Alto"),                # 7: bad bytes
        person(nombres="", telefono="987654321"),          # 8: two problems at once
        person(),                                          # 9
    ]
    response = send(client, csv_file(rows, sep=";"), coordinator.headers)

    assert response.status_code == 200, response.text
    assert response.headers["content-language"] == "es"
    report = response.json()
    assert report["dry_run"] is False
    assert report["format"] == "csv"
    assert report["summary"] == {"total": 8, "enrolled": 2, "waitlisted": 0, "rejected": 6, "possible_duplicate": 0}
    found = by_row(report)
    assert [found[n]["status"] for n in (2, 9)] == ["enrolled", "enrolled"]
    assert found[3]["errors"] == [{"column": "fecha_nacimiento", "message": message("date_parsing")}]
    assert found[4]["errors"] == [{"column": "region", "message": message("region")}]
    assert found[5]["error"] == "not_eligible"
    assert found[5]["errors"] == [{"column": "genero", "message": "El programa es para mujeres."}]
    assert found[6]["errors"] == [{"column": "es_rural", "message": message("yes_no")}]
    assert found[7]["errors"] == [{"column": "localidad", "message": message("invalid_text")}]
    assert {e["column"] for e in found[8]["errors"]} == {"nombres", "telefono"}
    assert all(found[n]["status"] == "rejected" and found[n]["error"] for n in range(3, 9))
    # the good rows are stored, each with her code in this answer only
    with sessions() as session:
        stored = session.scalars(select(Participant).where(
            Participant.id.in_([found[2]["participant_id"], found[9]["participant_id"]]))).all()
        assert len(stored) == 2
        assert session.scalar(select(func.count()).select_from(Participant)) == 2
    code = found[2]["activation_code"]
    assert code
    assert client.post(f"{API}/auth/activate", json={"code": code, "password": "clave-nueva-456"}).status_code == 200


def test_english_reasons_on_request(client: TestClient, coordinator: Actor) -> None:
    response = send(client, csv_file([person(genero="hombre")]), {**coordinator.headers, "Accept-Language": "en"})
    assert response.json()["rows"][0]["errors"] == [{"column": "genero", "message": "The programme is for women."}]


def test_xlsx_with_typed_cells_and_formulas_that_are_never_evaluated(
    client: TestClient, sessions: sessionmaker[Session], coordinator: Actor, factory: Factory
) -> None:
    typed = person(fecha_nacimiento=date(1990, 3, 2), es_rural=True, tiene_internet=True,
                   numero_documento=41234567)  # a DNI typed as a number
    formula_name = person(nombres='=HYPERLINK("http://x","clic")', apellidos="+Quispe")
    formula_date = person(fecha_nacimiento="=TODAY()-10000")
    formula_region = person(region="=A1")
    response = send_xlsx(client, xlsx_file([typed, formula_name, formula_date, formula_region]),
                         coordinator.headers)

    assert response.status_code == 200, response.text
    found = by_row(response.json())
    assert response.json()["format"] == "xlsx"
    assert found[2]["status"] == "enrolled"
    assert found[3]["status"] == "enrolled"  # a name is text: stored as written
    assert found[4]["errors"] == [{"column": "fecha_nacimiento", "message": message("date_parsing")}]
    assert found[5]["errors"] == [{"column": "region", "message": message("region")}]
    with sessions() as session:
        her = session.get_one(Participant, found[2]["participant_id"])
        assert (her.birth_date, her.document_number, her.is_rural) == (date(1990, 3, 2), "41234567", True)
        assert session.get_one(Participant, found[3]["participant_id"]).first_name == '=HYPERLINK("http://x","clic")'
    # the export later writes it so that a spreadsheet shows it and never runs it
    export = client.get(f"{API}/reports/countries/PE/participants.csv", headers=coordinator.headers)
    assert "'=HYPERLINK(" in export.content.decode("utf-8-sig")
    assert "'+Quispe" in export.content.decode("utf-8-sig")


def test_formulas_in_a_csv_are_text_too(client: TestClient, sessions: sessionmaker[Session],
                                        coordinator: Actor) -> None:
    rows = [person(nombres="=1+1", localidad="@SUM(A1:A9)"), person(telefono="-2+3"), person(es_rural="=TRUE()")]
    found = by_row(send(client, csv_file(rows), coordinator.headers).json())
    assert found[2]["status"] == "enrolled"
    with sessions() as session:
        her = session.get_one(Participant, found[2]["participant_id"])
        assert (her.first_name, her.locality) == ("=1+1", "@SUM(A1:A9)")
    assert found[3]["errors"] == [{"column": "telefono", "message": message("phone_format")}]
    assert found[4]["errors"] == [{"column": "es_rural", "message": message("yes_no")}]


def test_row_numbers_are_the_spreadsheets_across_empty_rows(client: TestClient, coordinator: Actor) -> None:
    workbook = load_workbook(io.BytesIO(xlsx_file([person()])))
    sheet = workbook.active
    assert sheet is not None
    sheet.append([])
    sheet.append([])
    sheet.append([person(genero="hombre")[c] for c in [cell.value for cell in sheet[1]]])
    buffer = io.BytesIO()
    workbook.save(buffer)
    report = send_xlsx(client, buffer.getvalue(), coordinator.headers).json()
    assert [(r["row"], r["status"]) for r in report["rows"]] == [(2, "enrolled"), (5, "rejected")]
    csv_report = send(client, csv_file([person(), {}, person(genero="hombre")]), coordinator.headers).json()
    assert [(r["row"], r["status"]) for r in csv_report["rows"]] == [(2, "enrolled"), (4, "rejected")]


def test_a_dry_run_ignores_the_key(client: TestClient, sessions: sessionmaker[Session], coordinator: Actor) -> None:
    data = csv_file([person()])
    assert send(client, data, coordinator.headers, dry_run=True, key="lista-1").status_code == 200
    real = send(client, data, coordinator.headers, key="lista-1")
    assert real.json()["summary"]["enrolled"] == 1
    assert count(sessions, Participant) == 1


def test_a_duplicate_of_an_existing_woman_and_possible_duplicates_are_not_stored(
    client: TestClient, sessions: sessionmaker[Session], coordinator: Actor, factory: Factory
) -> None:
    existing = factory.participant("PE")
    with sessions() as session:
        her = session.get_one(Participant, existing.participant_id)
        same_document = person(numero_documento=her.document_number)
        # no document and no email: only her names (typed differently), birth date and locality tell
        lookalike = person(nombres=her.first_name.upper(), apellidos=her.last_name.replace("Quispe", "quispe"),
                           fecha_nacimiento=her.birth_date.isoformat(), localidad=f" {her.locality} ",
                           numero_documento="", tipo_documento="", correo="")
    twin_a = person(nombres="Rosa", apellidos="Ccori Mamani", numero_documento="", tipo_documento="")
    twin_b = {**twin_a, "nombres": "Rósa"}  # the same woman twice in the file, accents aside
    before = count(sessions, Participant)

    report = send(client, csv_file([same_document, lookalike, twin_a, twin_b]), coordinator.headers).json()

    found = by_row(report)
    assert (found[2]["status"], found[2]["error"]) == ("rejected", "duplicate_application")
    assert found[2]["errors"][0]["column"] == "numero_documento"
    assert (found[3]["status"], found[3]["error"]) == ("possible_duplicate", "possible_duplicate")
    assert found[3]["errors"] == [{"column": None, "message": message("possible_duplicate")}]
    assert found[4]["status"] == "enrolled"
    assert found[5]["status"] == "possible_duplicate"
    assert report["summary"]["possible_duplicate"] == 2
    assert count(sessions, Participant) == before + 1


def test_rows_past_the_quota_wait_in_file_order_and_a_dry_run_says_so_storing_nothing(
    client: TestClient, sessions: sessionmaker[Session], coordinator: Actor, factory: Factory
) -> None:
    admin = factory.admin()
    set_capacity(client, admin, "PE", 2)
    data = csv_file([person(), person(genero="otro"), person(), person(), person()])
    before = row_counts(sessions)

    trial = send(client, data, coordinator.headers, dry_run=True)

    assert trial.status_code == 200, trial.text
    assert trial.json()["dry_run"] is True
    assert [(r["status"], r["waitlist_position"]) for r in trial.json()["rows"]] == [
        ("enrolled", None), ("rejected", None), ("enrolled", None), ("waitlisted", 1), ("waitlisted", 2)]
    assert not any(r["activation_code"] or r["participant_id"] or r["enrolment_id"] for r in trial.json()["rows"])
    assert row_counts(sessions) == before  # nothing stored but the audit entry

    real = send(client, data, coordinator.headers)

    assert [(r["status"], r["waitlist_position"]) for r in real.json()["rows"]] == [
        (r["status"], r["waitlist_position"]) for r in trial.json()["rows"]]
    pe = next(c for c in client.get(f"{API}/countries").json() if c["code"] == "PE")
    assert (pe["available"], pe["waitlisted"]) == (0, 2)
    with sessions() as session:
        assert session.scalar(select(func.count()).select_from(Enrolment)) == 4


def test_the_same_file_twice_with_its_key_answers_the_first_report_and_registers_nobody_twice(
    client: TestClient, sessions: sessionmaker[Session], coordinator: Actor
) -> None:
    data = csv_file([person(), person(), person(genero="hombre")])
    first = send(client, data, coordinator.headers, key="planilla-huancavelica-1")
    again = send(client, data, coordinator.headers, key="planilla-huancavelica-1")

    assert first.status_code == again.status_code == 200

    def without_codes(report: dict[str, Any]) -> list[dict[str, Any]]:
        return [{k: v for k, v in r.items() if not k.startswith("activation_code")} for r in report["rows"]]

    assert without_codes(again.json()) == without_codes(first.json())
    assert again.json()["summary"] == first.json()["summary"]
    assert count(sessions, Participant) == 2
    codes = [(r["activation_code"], r2["activation_code"]) for r, r2 in
             zip(first.json()["rows"][:2], again.json()["rows"][:2], strict=True)]
    assert all(a and b and a != b for a, b in codes)
    with sessions() as session:
        stored = json.dumps([r.response for r in session.scalars(select(IdempotencyRecord))])
    assert not any(a in stored or b in stored for a, b in codes)
    # the lost codes are retired; the retry's work
    activate = f"{API}/auth/activate"
    assert client.post(activate, json={"code": codes[0][0], "password": "clave-nueva-456"}).status_code == 400
    assert client.post(activate, json={"code": codes[0][1], "password": "clave-nueva-456"}).status_code == 200
    # the same key with another file is refused
    other = send(client, csv_file([person()]), coordinator.headers, key="planilla-huancavelica-1")
    assert (other.status_code, other.json()["error"]) == (409, "idempotency_key_reused")
    assert count(sessions, Participant) == 2


def test_the_same_file_twice_without_a_key_finds_every_woman_already_registered(
    client: TestClient, sessions: sessionmaker[Session], coordinator: Actor
) -> None:
    with_email = person(numero_documento="", tipo_documento="", correo="rosa.ccori@example.org")
    no_identifier = person(numero_documento="", tipo_documento="", nombres="Juana", apellidos="Huamán")
    data = csv_file([person(), with_email, no_identifier])
    assert send(client, data, coordinator.headers).json()["summary"]["enrolled"] == 3

    again = send(client, data, coordinator.headers).json()

    assert [(r["status"], r["error"]) for r in again["rows"]] == [
        ("rejected", "duplicate_application"), ("rejected", "duplicate_application"),
        ("possible_duplicate", "possible_duplicate")]
    assert again["rows"][1]["errors"][0]["column"] == "correo"
    assert count(sessions, Participant) == 3


def test_a_coordinators_file_with_another_countrys_rows(
    client: TestClient, sessions: sessionmaker[Session], coordinator: Actor, factory: Factory
) -> None:
    chilean = factory.participant("CL")
    with sessions() as session:
        her_email = session.get_one(User, chilean.user_id).email
    assert her_email
    rows = [
        person("PE"),
        person("CL"),  # a Chilean row: not hers to register
        person("PE", pais=""),  # left empty: her own country
        # a Peruvian row carrying a Chilean woman's email: she is neither moved nor revealed
        person("PE", correo=her_email.upper()),
    ]
    report = send(client, csv_file(rows), coordinator.headers).json()

    found = by_row(report)
    assert found[2]["status"] == found[4]["status"] == "enrolled"
    assert (found[3]["error"], found[3]["errors"]) == (
        "country_out_of_scope", [{"column": "pais", "message": message("country_out_of_scope")}])
    assert (found[5]["status"], found[5]["error"]) == ("rejected", "duplicate_application")
    assert found[5]["errors"] == [{"column": "numero_documento", "message": message("duplicate_application")}]
    with sessions() as session:
        violeta = session.get_one(Participant, chilean.participant_id)
        assert (violeta.country_code, violeta.first_name) == ("CL", "María")
        assert session.scalar(select(func.count()).select_from(Participant).where(
            Participant.country_code == "CL")) == 1
        refusal = session.scalars(select(AuditEntry).where(AuditEntry.action == "application.refused")).one()
        assert refusal.data["reason"] == "out_of_scope"


def test_an_admin_imports_any_country(client: TestClient, factory: Factory) -> None:
    rows = [person("CL"), person("MX", pais="México"), person("CO", pais="co"), person("PE", pais="Perú")]
    report = send(client, csv_file(rows), factory.admin().headers).json()
    assert report["summary"]["enrolled"] == 4, report


@pytest.mark.parametrize(("data", "media_type"), [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)), "image/png"),
    (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj", "application/pdf"),
    (b"PK\x03\x04 not really a zip", XLSX_MEDIA_TYPE),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500), "application/vnd.ms-excel"),
    (b"", "text/csv"),
])
def test_a_file_that_is_not_a_spreadsheet(client: TestClient, sessions: sessionmaker[Session],
                                          coordinator: Actor, data: bytes, media_type: str) -> None:
    before = row_counts(sessions)
    response = send(client, data, coordinator.headers, media_type=media_type)
    assert (response.status_code, response.json()["error"]) == (400, "not_a_spreadsheet")
    assert response.json()["detail"] == message("not_a_spreadsheet")
    assert row_counts(sessions) == before


def test_a_body_that_is_neither_a_form_nor_a_spreadsheet_is_415(client: TestClient, coordinator: Actor) -> None:
    response = client.post(IMPORT, json={"rows": []}, headers=coordinator.headers)
    assert (response.status_code, response.json()["error"]) == (415, "not_a_spreadsheet")
    no_file = client.post(IMPORT, data={"archivo": "x"}, files={"otro": ("a.csv", b"x")}, headers=coordinator.headers)
    assert (no_file.status_code, no_file.json()["error"]) == (400, "not_a_spreadsheet")


def test_the_file_itself_as_the_body(client: TestClient, coordinator: Actor) -> None:
    csv_body = client.post(IMPORT, content=csv_file([person()]),
                           headers={**coordinator.headers, "Content-Type": "text/csv; charset=utf-8"})
    xlsx_body = client.post(IMPORT, content=xlsx_file([person()]),
                            headers={**coordinator.headers, "Content-Type": XLSX_MEDIA_TYPE})
    assert csv_body.json()["summary"]["enrolled"] == xlsx_body.json()["summary"]["enrolled"] == 1


def test_unknown_and_missing_columns_are_named(client: TestClient, sessions: sessionmaker[Session],
                                               coordinator: Actor) -> None:
    header = [c for c in person() if c not in ("localidad", "acepta_aviso")] + ["comentario"]
    response = send(client, csv_file([person()], header=header), coordinator.headers)
    assert response.status_code == 422
    assert response.json()["error"] == "invalid_input"
    assert {f["field"]: f["message"] for f in response.json()["fields"]} == {
        "comentario": message("unknown_column"), "localidad": message("missing_column"),
        "acepta_aviso": message("missing_column")}
    assert count(sessions, Participant) == 0


def test_too_many_rows_and_a_bad_header(client: TestClient, coordinator: Actor) -> None:
    many = csv_file([person(genero="hombre")] * 2001)
    response = send(client, many, coordinator.headers)
    assert (response.status_code, response.json()["detail"]) == (413, message("too_many_rows"))
    header = [*person(), "nota\x00"]
    bad = send(client, csv_file([person()], header=header), coordinator.headers)
    assert bad.status_code == 422
    assert bad.json()["fields"] == [{"field": "nota\ufffd", "message": message("unknown_column")}]


def test_headers_in_english_or_with_accents_and_a_file_without_bom(client: TestClient, coordinator: Actor) -> None:
    row = person()
    english = {"nombres": "first_name", "apellidos": "last_name", "genero": "Género", "pais": "País",
               "telefono": "Teléfono"}
    header = [english.get(c, c) for c in row]
    data = csv_file([dict(zip(header, row.values(), strict=True))], header=header, bom=False)
    assert send(client, data, coordinator.headers).json()["summary"]["enrolled"] == 1


def test_a_file_over_10_mb_is_refused_before_it_is_read_and_stores_nothing(
    client: TestClient, sessions: sessionmaker[Session], coordinator: Actor
) -> None:
    before = row_counts(sessions)
    big = csv_file([person()]) + b" " * MAX_BYTES
    as_form = send(client, big, coordinator.headers)
    as_body = client.post(IMPORT, content=big, headers={**coordinator.headers, "Content-Type": "text/csv"})

    def chunks() -> Any:  # no Content-Length: the stream is cut off as it passes the limit
        for _ in range(11):
            yield b" " * (1024 * 1024)

    chunked = client.post(IMPORT, content=chunks(), headers={**coordinator.headers, "Content-Type": "text/csv"})

    for response in (as_form, as_body, chunked):
        assert (response.status_code, response.json()["error"]) == (413, "file_too_large")
        assert response.json()["detail"] == message("file_too_large")
    assert row_counts(sessions) == before


def test_imports_are_throttled_per_user(client: TestClient, coordinator: Actor, factory: Factory,
                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "IMPORTS_PER_HOUR", 2)
    data = csv_file([person(genero="hombre")])
    first = send(client, data, coordinator.headers, dry_run=True)
    assert first.headers["ratelimit-policy"] == '"user";q=30;w=3600'  # stated before it is hit
    assert [send(client, data, coordinator.headers, dry_run=True).status_code for _ in range(2)] == [200, 429]
    assert send(client, data, factory.coordinator("PE").headers, dry_run=True).status_code == 200  # another user


def test_each_import_is_audited_without_personal_data(
    client: TestClient, sessions: sessionmaker[Session], coordinator: Actor
) -> None:
    row = person(nombres="Eulalia", apellidos="Ccahuana Rojas")
    send(client, csv_file([row, person(genero="hombre")]), coordinator.headers, dry_run=True)
    send(client, csv_file([row]), coordinator.headers)
    with sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "applications.imported")
                                  .order_by(AuditEntry.id)).all()
    assert [(e.actor_id, e.country_code, e.data["dry_run"], e.data["rows"]) for e in entries] == [
        (coordinator.user_id, "PE", True, 2), (coordinator.user_id, "PE", False, 1)]
    assert entries[0].data["rejected"] == 1
    text = json.dumps([e.data for e in entries])
    assert "Eulalia" not in text
    assert "Ccahuana" not in text
    assert row["numero_documento"] not in text


def test_templates_list_the_columns_and_explain_them_in_spanish(client: TestClient, coordinator: Actor,
                                                                factory: Factory) -> None:
    csv_template = client.get(f"{IMPORT}/template.csv", headers=coordinator.headers)
    assert csv_template.status_code == 200
    assert csv_template.content.decode("utf-8-sig").strip().split(",")[:3] == ["nombres", "apellidos",
                                                                              "fecha_nacimiento"]
    xlsx = client.get(f"{IMPORT}/template.xlsx", headers=coordinator.headers)
    assert xlsx.headers["content-type"] == XLSX_MEDIA_TYPE
    workbook = load_workbook(io.BytesIO(xlsx.content))
    assert workbook.sheetnames == ["Participantes", "Instrucciones"]
    guide = {row[0]: row for row in workbook["Instrucciones"].iter_rows(min_row=2, values_only=True) if row[0]}
    assert "Apurímac" in guide["region"][3]
    assert "Los Lagos" not in guide["region"][3]  # her country's regions only
    assert "AAAA-MM-DD" in guide["fecha_nacimiento"][2]
    assert "E.164" in guide["telefono"][2]
    assert "sí" in guide["es_rural"][3]
    assert guide["tipo_documento"][3] == "DNI (PE)"
    admin_guide = load_workbook(io.BytesIO(client.get(f"{IMPORT}/template.xlsx",
                                                      headers=factory.admin().headers).content))["Instrucciones"]
    assert "Los Lagos" in next(r[3] for r in admin_guide.iter_rows(values_only=True) if r[0] == "region")


def test_a_filled_in_template_imports(client: TestClient, coordinator: Actor) -> None:
    workbook = load_workbook(io.BytesIO(client.get(f"{IMPORT}/template.xlsx", headers=coordinator.headers).content))
    sheet = workbook["Participantes"]
    header = [c.value for c in sheet[1]]
    row = person(fecha_nacimiento=date(1985, 7, 1), es_rural="Sí", tiene_internet="true", acepta_aviso="SI",
                 datos_sensibles="sí", etnia="Quechua", idiomas="quechua, castellano")
    sheet.append([row[c] or None for c in header])
    buffer = io.BytesIO()
    workbook.save(buffer)

    report = send_xlsx(client, buffer.getvalue(), coordinator.headers).json()

    assert report["summary"]["enrolled"] == 1, report
    assert report["rows"][0]["row"] == 2


def test_sensitive_data_needs_its_own_consent(client: TestClient, sessions: sessionmaker[Session],
                                              coordinator: Actor) -> None:
    report = send(client, csv_file([person(etnia="Aymara"), person(datos_sensibles="sí", etnia="Aymara",
                                                                   idiomas="aymara;castellano")]),
                  coordinator.headers).json()
    found = by_row(report)
    assert found[2]["errors"] == [{"column": "etnia", "message": message("sensitive_without_consent")}]
    with sessions() as session:
        her = session.get_one(Participant, found[3]["participant_id"])
        assert (her.ethnicity, her.languages) == ("Aymara", ["aymara", "castellano"])
        assert session.get_one(User, her.user_id).password_hash is None


@pytest.mark.parametrize("role", ["participant", "anonymous"])
def test_participants_and_strangers_may_not_import(client: TestClient, factory: Factory, role: str) -> None:
    headers = factory.participant("PE").headers if role == "participant" else {}
    response = send(client, csv_file([person()]), headers)
    assert response.status_code == (403 if role == "participant" else 401)
    template = client.get(f"{IMPORT}/template.xlsx", headers=headers)
    assert template.status_code == (403 if role == "participant" else 401)


def test_the_service_works_without_http_for_the_dashboard(sessions: sessionmaker[Session], settings: Any,
                                                           coordinator: Actor) -> None:
    principal = Principal(user_id=coordinator.user_id, role=Role.COORDINATOR, country="PE", participant_id=None,
                          token_id=0)
    with sessions() as session, session.begin():
        report = imports.import_applications(session, settings, principal, data=xlsx_file([person(), person()]),
                                             dry_run=False, locale="en")
    assert (report.format, report.summary.enrolled) == ("xlsx", 2)
    assert all(row.activation_code for row in report.rows)
    assert count(sessions, Participant) == 2
