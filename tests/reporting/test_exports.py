"""The participants as CSV and XLSX: text stays text (no formulas), accents survive, one country only."""

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.models import AuditEntry
from app.privacy.notice import CURRENT_NOTICE_VERSION
from tests.factories import Factory

API = "/api/v1/reports/countries"


@pytest.fixture
def women(factory: Factory) -> dict[str, Any]:
    return {
        "formula": factory.participant("PE", first_name="=HYPERLINK(\"http://x\")", last_name="+Quispe"),
        "accents": factory.participant("PE", first_name="María Ñusta", last_name="Huamán Ccahuana",
                                       locality="Ch'aska Pampa"),
        "chilean": factory.participant("CL", first_name="Violeta", last_name="Parra Sandoval"),
    }


def rows_of_csv(content: bytes, sep: str = ",") -> list[list[str]]:
    assert content.startswith("\ufeff".encode())  # the BOM: Excel reads it as UTF-8
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig")), delimiter=sep))


@pytest.mark.parametrize("sep", [",", ";"])
def test_csv_keeps_text_as_text_and_accents(client: TestClient, factory: Factory, women: dict[str, Any],
                                            sep: str) -> None:
    response = client.get(f"{API}/PE/participants.csv", params={"sep": sep},
                          headers=factory.coordinator("PE").headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert "participantes-PE.csv" in response.headers["content-disposition"]
    rows = rows_of_csv(response.content, sep)
    header, body = rows[0], rows[1:]
    by_first = {r[header.index("Nombres")]: r for r in body}
    assert "'=HYPERLINK(\"http://x\")" in by_first  # prefixed: a spreadsheet shows it, never runs it
    assert by_first["'=HYPERLINK(\"http://x\")"][header.index("Apellidos")] == "'+Quispe"
    accents = by_first["María Ñusta"]
    assert accents[header.index("Apellidos")] == "Huamán Ccahuana"
    assert accents[header.index("Localidad")] == "Ch'aska Pampa"
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in body for cell in row)


def test_xlsx_typed_cells_frozen_header_no_formula(client: TestClient, factory: Factory,
                                                   women: dict[str, Any]) -> None:
    response = client.get(f"{API}/PE/participants.xlsx", headers=factory.admin().headers)
    assert response.status_code == 200, response.text
    sheet = load_workbook(io.BytesIO(response.content)).active
    assert sheet.freeze_panes == "A2"
    header = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2))
    names = {r[header.index("Nombres")].value: r for r in rows}
    formula = names["=HYPERLINK(\"http://x\")"]
    assert formula[header.index("Nombres")].data_type == "s"  # text, as written
    assert formula[header.index("Apellidos")].value == "+Quispe"
    assert names["María Ñusta"][header.index("Apellidos")].value == "Huamán Ccahuana"
    assert all(c.data_type != "f" for r in rows for c in r)
    enrolled = names["María Ñusta"][header.index("Inscrita")]
    assert enrolled.is_date  # a typed date, not text
    assert isinstance(names["María Ñusta"][header.index("Avance requerido (%)")].value, int)


def test_no_woman_of_another_country_in_any_answer(client: TestClient, factory: Factory,
                                                   women: dict[str, Any]) -> None:
    peru, chile = factory.coordinator("PE"), factory.coordinator("CL")
    for path in ("", "/participants.csv", "/participants.xlsx", "/participants.csv?sep=;"):
        for refused in (client.get(f"{API}/PE{path}", headers=chile.headers),
                        client.get(f"{API}/CL{path}", headers=peru.headers)):
            assert refused.status_code == 404
            assert refused.json()["error"] == "not_found"
            # the same answer as for a country that does not exist: nothing about who is there
            assert refused.json() == client.get(f"{API}/XX{path}", headers=peru.headers).json()
            assert not any(name in refused.text for name in ("Violeta", "Parra", "María", "Huamán", "Quispe"))
        path = path.split("?")[0]
        answer = client.get(f"{API}/PE{path}", headers=peru.headers)
        assert answer.status_code == 200
        content = answer.content
        if path.endswith("xlsx"):
            sheet = load_workbook(io.BytesIO(content)).active
            content = repr([[c.value for c in r] for r in sheet.iter_rows()]).encode()
        assert b"Violeta" not in content
        assert b"Parra" not in content
        assert b"Violeta" in client.get(f"{API}/CL/participants.csv", headers=chile.headers).content


def test_exports_are_audited(client: TestClient, factory: Factory, sessions: sessionmaker[Session],
                             women: dict[str, Any]) -> None:
    coordinator = factory.coordinator("PE")
    client.get(f"{API}/PE/participants.csv", headers=coordinator.headers)
    client.get(f"{API}/PE/participants.xlsx", headers=coordinator.headers)
    with sessions() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.action == "participants.exported")).all()
    assert [e.data["format"] for e in entries] == ["csv", "xlsx"]
    assert women["formula"].participant_id in entries[0].data["participants"]
    assert women["chilean"].participant_id not in entries[0].data["participants"]


def test_no_sensitive_data_in_the_exports(client: TestClient, factory: Factory) -> None:
    """Ethnicity and languages leave only as the report's suppressed counts, never in a list of women."""
    consent = {"accepted": True, "version": CURRENT_NOTICE_VERSION, "sensitive_data": True}
    factory.participant("PE", first_name="Rosa", ethnicity="Asháninka", languages=["asháninka"], consent=consent)
    coordinator = factory.coordinator("PE")
    csv_rows = rows_of_csv(client.get(f"{API}/PE/participants.csv", headers=coordinator.headers).content)
    sheet = load_workbook(io.BytesIO(client.get(f"{API}/PE/participants.xlsx",
                                                headers=coordinator.headers).content)).active
    xlsx_rows = [[str(c.value) for c in r] for r in sheet.iter_rows()]
    for rows in (csv_rows, xlsx_rows):
        assert any("Rosa" in row for row in rows)
        assert "Asháninka".lower() not in repr(rows).lower()
    report = client.get(f"{API}/PE", headers=coordinator.headers).json()
    assert {"value": "Asháninka", "count": "<5"} in report["sensitive"]["ethnicity"]
