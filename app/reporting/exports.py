"""The participants of a country as a spreadsheet (CSV or XLSX), for the coordinator's own follow-up.

No sensitive data (ethnicity, languages) is ever exported. A cell that a spreadsheet would run as a formula
(``=``, ``+``, ``-``, ``@``, tab, CR first) is written so that it stays text (OWASP "CSV injection").
"""

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from openpyxl import Workbook
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth.principal import Principal
from app.reporting import repository
from app.reporting.service import Cohort, Learning

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

COLUMNS: tuple[tuple[str, str], ...] = (
    ("codigo", "Código"), ("nombres", "Nombres"), ("apellidos", "Apellidos"), ("region", "Región"),
    ("localidad", "Localidad"), ("telefono", "Teléfono"), ("estado", "Estado"),
    ("posicion_espera", "Posición en espera"),
    ("postulo", "Postuló"), ("inscrita", "Inscrita"), ("avance_requerido", "Avance requerido (%)"),
    ("ultima_actividad", "Última actividad"),
)

Cell = str | int | float | date | datetime | None


@dataclass
class Export:
    filename: str
    rows: list[list[Cell]]


def neutralise(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def participants(session: Session, principal: Principal, code: str, kind: Literal["csv", "xlsx"]) -> Export:
    country = repository.manageable_country(session, principal, code)
    cohort = Cohort.load(session, principal, country.code)
    learning = Learning.load(session, country.code)
    rows: list[list[Cell]] = []
    for enrolment, participant, user in sorted(cohort.latest, key=lambda r: (r[2].participant_code or "", r[1].id)):
        last = learning.last_event.get(participant.id)
        rows.append([
            user.participant_code, participant.first_name, participant.last_name, participant.region,
            participant.locality, participant.phone, enrolment.status.value, enrolment.waitlist_position,
            enrolment.applied_at, enrolment.enrolled_at, round(100 * learning.required_share(participant.id)),
            last,
        ])
    audit.record(session, principal, "participants.exported", "country", country.code, country=country.code,
                 format=kind, participants=[r[1].id for r in cohort.latest])
    session.flush()
    return Export(filename=f"participantes-{country.code}.{kind}", rows=rows)


def _text(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def to_csv(export: Export, separator: str) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=separator, lineterminator="\r\n")
    writer.writerow([title for _key, title in COLUMNS])
    for row in export.rows:
        writer.writerow([_text(neutralise(v)) for v in row])
    # the BOM tells Excel the file is UTF-8: accents survive a double click
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def to_xlsx(export: Export) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "Participantes"
    sheet.append([title for _key, title in COLUMNS])
    for row in export.rows:
        # datetimes without zone: Excel has none (they are UTC, as the header of the API says)
        sheet.append([v.replace(tzinfo=None) if isinstance(v, datetime) else v for v in row])
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            if isinstance(cell.value, str):
                # typed as text, never as a formula: a name beginning with "=" is shown as written
                cell.data_type = "s"
                if cell.value.startswith(FORMULA_STARTS):
                    cell.quotePrefix = True
    sheet.freeze_panes = "A2"
    for column, width in zip("ABCDEFGHIJKL", (10, 20, 20, 16, 18, 15, 12, 10, 20, 20, 10, 20), strict=True):
        sheet.column_dimensions[column].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
