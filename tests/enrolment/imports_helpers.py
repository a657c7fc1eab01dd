"""Spreadsheets of applicants as a coordinator fills them in, and sending them to the import."""

import csv
import io
from typing import Any

import httpx
from fastapi.testclient import TestClient
from openpyxl import Workbook

from app.enrolment.spreadsheet import COLUMNS, XLSX_MEDIA_TYPE
from tests.factories import application

IMPORT = "/api/v1/applications/import"
HEADER = [c.key for c in COLUMNS]


def person(country: str = "PE", **cells: Any) -> dict[str, Any]:
    """A valid, eligible row (a new woman, with her document), in the template's columns."""
    body = application(country, self_service=False)
    row: dict[str, Any] = {
        "nombres": body["first_name"], "apellidos": body["last_name"], "fecha_nacimiento": body["birth_date"],
        "genero": "mujer", "pais": country, "region": body["region"], "localidad": body["locality"],
        "es_rural": "sí", "tiene_internet": "si", "tipo_documento": body["document"]["type"],
        "numero_documento": body["document"]["number"], "telefono": body["phone"], "correo": "",
        "acepta_aviso": "sí", "datos_sensibles": "no", "etnia": "", "idiomas": "",
    }
    row.update(cells)
    return row


def csv_file(rows: list[dict[str, Any]], sep: str = ",", bom: bool = True,
             header: list[str] | None = None) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n")
    columns = header or HEADER
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row.get(c) is None else row.get(c) for c in columns])
    return (("\ufeff" if bom else "") + buffer.getvalue()).encode("utf-8")


def xlsx_file(rows: list[dict[str, Any]]) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.append(HEADER)
    for row in rows:
        sheet.append([row.get(c) if row.get(c) != "" else None for c in HEADER])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def send(client: TestClient | httpx.Client, data: bytes, headers: dict[str, str], *, dry_run: bool = False,
         key: str | None = None, filename: str = "lista.csv", media_type: str = "text/csv") -> httpx.Response:
    extra = {"Idempotency-Key": key} if key else {}
    return client.post(IMPORT, params={"dry_run": "true"} if dry_run else {}, headers={**headers, **extra},
                       files={"file": (filename, data, media_type)})


def send_xlsx(client: TestClient, data: bytes, headers: dict[str, str], **kwargs: Any) -> httpx.Response:
    return send(client, data, headers, filename="lista.xlsx", media_type=XLSX_MEDIA_TYPE, **kwargs)


def by_row(report: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {r["row"]: r for r in report["rows"]}
