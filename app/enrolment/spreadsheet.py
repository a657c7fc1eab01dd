"""A bulk registration's spreadsheet: its columns, reading a CSV or XLSX into cells, and the template to fill in.

Nothing in a cell is ever evaluated: openpyxl is asked for what was written (a formula cell gives its text,
"=1+1"), and the CSV reader knows no formulas. What a cell holds is then validated like any typed input.
"""

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.worksheet._read_only import ReadOnlyWorksheet

from app.core.bad_input import field_name
from app.core.errors import PayloadTooLarge, field_message
from app.core.i18n import Locale
from app.core.text import fold
from app.enrolment.errors import NotASpreadsheet, SpreadsheetColumns
from app.enrolment.geography import COUNTRY_NAMES, DOCUMENT_TYPES, REGIONS
from app.privacy.notice import CURRENT_NOTICE_VERSION

MAX_BYTES = 10 * 1024 * 1024
MAX_ROWS = 2000  # the programme has 200 seats; a file past this is a mistake, and a row costs a few queries
_MAX_LINES = 20 * MAX_ROWS
XLSX_MEDIA_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
_ZIP, _OLE2 = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # XLSX is a zip; the old .xls an OLE2 file

Cell = str | int | float | bool | date | datetime | None


@dataclass(frozen=True)
class Column:
    key: str  # the header as the template writes it
    field: str  # the API's name for it, also accepted as a header
    required: bool
    help: str


COLUMNS: tuple[Column, ...] = (
    Column("nombres", "first_name", True, "Nombres, como en su documento."),
    Column("apellidos", "last_name", True, "Apellidos, como en su documento."),
    Column("fecha_nacimiento", "birth_date", True,
           "Fecha de nacimiento como AAAA-MM-DD (por ejemplo 1988-05-14), o una celda con formato de fecha. "
           "Debe tener 18 años o más."),
    Column("genero", "gender", True, "mujer, hombre u otro (también female, male, other). El programa es para "
                                     "mujeres."),
    Column("pais", "country", True, "Código del país (PE, CL, CO o MX) o su nombre. Una coordinadora puede "
                                    "dejarlo vacío: se entiende su país."),
    Column("region", "region", True, "Una región del país, escrita como en la lista (mayúsculas y tildes no "
                                     "importan)."),
    Column("localidad", "locality", True, "Comunidad, caserío, vereda o pueblo donde vive."),
    Column("es_rural", "is_rural", True, "sí o no: vive en una zona rural."),
    Column("tiene_internet", "has_internet", True, "sí o no: tiene algún acceso a internet para seguir los "
                                                   "módulos."),
    Column("tipo_documento", "document_type", False, "DNI (PE), RUN (CL), CC (CO) o CURP (MX). Vacío: el del "
                                                     "país, si hay número."),
    Column("numero_documento", "document_number", False, "Número del documento, con o sin puntos y guiones."),
    Column("telefono", "phone", False, "Teléfono en formato internacional E.164, con el código del país: por "
                                       "ejemplo +51987654321."),
    Column("correo", "email", False, "Correo electrónico, si tiene."),
    Column("acepta_aviso", "consent", True,
           f"sí: ella aceptó el aviso de privacidad vigente (versión {CURRENT_NOTICE_VERSION}). Sin su "
           "aceptación no se registra."),
    Column("datos_sensibles", "sensitive_data", False,
           "sí: consintió por separado en dar su etnia y lenguas. Vacío o no: esos datos no se guardan."),
    Column("etnia", "ethnicity", False, "Pueblo u origen étnico que declara (solo con datos_sensibles = sí)."),
    Column("idiomas", "languages", False, "Lenguas que habla, separadas por comas (solo con datos_sensibles = sí)."),
)
_BY_HEADER = {name: column.key for column in COLUMNS for name in (column.key, column.field)}


@dataclass
class Sheet:
    format: Literal["csv", "xlsx"]
    rows: list[tuple[int, dict[str, Cell]]]  # (row number as the spreadsheet shows it, cells by column key)


def read(data: bytes, locale: Locale) -> Sheet:
    """The data rows of the file's first sheet, each with its number (the header is row 1); empty rows are
    skipped. Raises ``NotASpreadsheet``, ``SpreadsheetColumns`` (422) or ``PayloadTooLarge``."""
    if data.startswith(_OLE2):
        raise NotASpreadsheet()  # an .xls of Excel 97-2003: it must be saved as .xlsx or CSV
    kind: Literal["csv", "xlsx"] = "xlsx" if data.startswith(_ZIP) else "csv"
    raw_rows = _xlsx_rows(data) if kind == "xlsx" else _csv_rows(data)
    try:
        header = next(raw_rows)
    except StopIteration:
        raise NotASpreadsheet() from None
    keys = _columns(header, locale)
    rows: list[tuple[int, dict[str, Cell]]] = []
    for number, values in enumerate(raw_rows, start=2):
        if number > _MAX_LINES:  # a file of mostly empty lines
            raise PayloadTooLarge("too_many_rows")
        if all(_blank(v) for v in values):
            continue
        if len(rows) == MAX_ROWS:
            raise PayloadTooLarge("too_many_rows")
        rows.append((number, {key: values[i] if i < len(values) else None for i, key in keys.items()}))
    return Sheet(format=kind, rows=rows)


def _blank(value: Cell) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _columns(header: tuple[Cell, ...], locale: Locale) -> dict[int, str]:
    """Position → column key; unknown, repeated and missing required columns are all named at once."""
    keys: dict[int, str] = {}
    problems: list[dict[str, str]] = []
    for position, title in enumerate(header):
        if _blank(title):
            continue  # an empty header cell: spreadsheets often carry a few
        name = fold(str(title)).replace(" ", "_")
        key = _BY_HEADER.get(name)
        if key is None:
            problems.append({"field": field_name((str(title)[:100],)),
                             "message": field_message("unknown_column", locale)})
        elif key in keys.values():
            problems.append({"field": key, "message": field_message("duplicate_column", locale)})
        else:
            keys[position] = key
    present = set(keys.values())
    problems += [{"field": c.key, "message": field_message("missing_column", locale)}
                 for c in COLUMNS if c.required and c.key not in present]
    if problems:
        raise SpreadsheetColumns(problems)
    return keys


def _csv_rows(data: bytes) -> Iterator[tuple[Cell, ...]]:
    try:
        text = data.decode("utf-8-sig")  # with or without the BOM Excel writes
    except UnicodeDecodeError:
        raise NotASpreadsheet() from None
    first_line = text.split("\n", 1)[0]
    # Excel in Spanish writes ";" (the decimal separator is ","); the header tells which one this file uses
    delimiter = ";" if first_line.count(";") > first_line.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for row in reader:
            yield tuple(row)
    except csv.Error:  # a field past the csv module's limit, a stray quote in strict mode
        raise NotASpreadsheet() from None


def _xlsx_rows(data: bytes) -> Iterator[tuple[Cell, ...]]:
    try:
        # data_only=False: a formula cell gives the formula's text, never a value a spreadsheet computed
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=False)
    except Exception:  # a broken zip, missing parts, bad XML: all the same to her
        raise NotASpreadsheet() from None
    try:
        sheet = workbook.worksheets[0]
        if isinstance(sheet, ReadOnlyWorksheet):
            # the size some programs write in the file can be wrong: read what is there instead
            sheet.reset_dimensions()
        expected = 1
        for row in sheet.iter_rows():
            number = next((cell.row for cell in row if getattr(cell, "row", None)), expected)
            # read-only mode may skip rows that hold nothing: keep the numbers the spreadsheet shows
            while expected < number:
                yield ()
                expected += 1
            yield tuple(_xlsx_value(cell.value) for cell in row)
            expected += 1
    except Exception:
        raise NotASpreadsheet() from None
    finally:
        workbook.close()


def _xlsx_value(value: object) -> Cell:
    if value is None or isinstance(value, str | int | float | bool | date | datetime):
        return value
    return str(value)  # a time or a duration: text, which validation then judges


def template_csv() -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\r\n").writerow([c.key for c in COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM: Excel reads the file as UTF-8


def template_xlsx(countries: list[str]) -> bytes:
    """The columns to fill in, and a second sheet explaining each one in Spanish with its allowed values."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Participantes"
    sheet.append([c.key for c in COLUMNS])
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    sheet.freeze_panes = "A2"
    for index, _column in enumerate(COLUMNS):
        sheet.column_dimensions[sheet.cell(row=1, column=index + 1).column_letter].width = 18
    guide = workbook.create_sheet("Instrucciones")
    guide.append(["Columna", "Obligatoria", "Qué escribir", "Valores permitidos"])
    for cell in guide[1]:
        cell.font = Font(bold=True)
    for column in COLUMNS:
        guide.append([column.key, "sí" if column.required else "no", column.help, _allowed(column.key, countries)])
    guide.append([])
    guide.append(["Una fila por mujer, desde la fila 2. Las filas con errores se informan con su número, su columna "
                  "y el motivo; las demás se registran. Una fórmula se guarda como texto, nunca se calcula."])
    for row in guide.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    for letter, width in zip("ABCD", (18, 12, 60, 60), strict=True):
        guide.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _allowed(key: str, countries: list[str]) -> str:
    match key:
        case "genero":
            return "mujer, hombre, otro"
        case "pais":
            return ", ".join(f"{code} ({COUNTRY_NAMES[code]})" for code in countries)
        case "region":
            return "\n".join(f"{code}: {', '.join(REGIONS[code])}" for code in countries)
        case "tipo_documento":
            return ", ".join(f"{DOCUMENT_TYPES[code]} ({code})" for code in countries)
        case "es_rural" | "tiene_internet" | "acepta_aviso" | "datos_sensibles":
            return "sí, no (también si, true, false)"
        case "fecha_nacimiento":
            return "AAAA-MM-DD"
        case "telefono":
            return "E.164: + código del país y número"
    return ""
