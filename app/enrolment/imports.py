"""Bulk registration: every row of a spreadsheet goes, in file order, through the rules of a single application
by the staff member who sends it (``service.apply``), each in a savepoint of its own, so that a broken row is
reported with its row, column and reason while the good ones are stored.

Used by ``POST /applications/import`` and by the dashboard's form: no HTTP in here.
"""

import hashlib
from datetime import date, datetime, timedelta
from typing import Any

from pydantic import ValidationError
from sqlalchemy.orm import Session, sessionmaker

from app.audit import service as audit
from app.auth import scope
from app.auth.principal import Principal
from app.core.bad_input import is_bad_text
from app.core.config import Settings
from app.core.errors import AppError, Forbidden, InvalidInput, NotEligible, field_message
from app.core.i18n import REASONS, Locale, translate
from app.core.text import fold
from app.enrolment import repository, service, spreadsheet
from app.enrolment.geography import COUNTRY_NAMES, DOCUMENT_TYPES
from app.enrolment.schemas import ApplicationIn, ImportReport, ImportRow, ImportRowError, ImportSummary
from app.enrolment.spreadsheet import Cell
from app.guards import idempotency, throttle
from app.models import Participant, Role
from app.privacy.notice import CURRENT_NOTICE_VERSION

IMPORTS_PER_HOUR = 30  # a coordinator fixing a file tries a few dry runs; a loop of uploads is stopped

# the template's column for each field of an application, and for each reason of ineligibility
_FIELD_COLUMNS = {
    "first_name": "nombres", "last_name": "apellidos", "birth_date": "fecha_nacimiento", "gender": "genero",
    "country": "pais", "region": "region", "locality": "localidad", "is_rural": "es_rural",
    "has_internet": "tiene_internet", "document": "numero_documento", "phone": "telefono", "email": "correo",
    "consent": "acepta_aviso", "ethnicity": "etnia", "languages": "idiomas",
}
_GENDERS = {"mujer": "female", "femenino": "female", "femenina": "female", "female": "female", "f": "female",
            "hombre": "male", "masculino": "male", "male": "male", "m": "male", "otro": "other", "other": "other"}
_COUNTRY_BY_NAME = {fold(name): code for code, name in COUNTRY_NAMES.items()}
_YES, _NO = {"si", "true", "verdadero"}, {"no", "false", "falso"}
_NO_CODES = ("activation_code", "activation_code_expires_at")


def count_import(factory: sessionmaker[Session], principal: Principal) -> None:
    """Every import counts toward the sender's hourly limit, dry runs and refused files included: counted
    before the file is read, in a transaction of its own."""
    throttle.take(factory, [throttle.Limit(f"applications-import:user:{principal.user_id}", IMPORTS_PER_HOUR,
                                           timedelta(hours=1), policy="user")])


def import_applications(
    session: Session,
    settings: Settings,
    principal: Principal,
    *,
    data: bytes,
    dry_run: bool,
    idempotency_key: str | None = None,
    locale: Locale = "es",
    country: str | None = None,
) -> ImportReport:
    """Register the women of a CSV or XLSX file (``spreadsheet.COLUMNS``) and report on every row.

    ``dry_run``: everything is checked, waitlist places by quota included, inside a savepoint rolled back at
    the end: nothing is stored but the audit entry, and the report has no ids or codes. An
    ``idempotency_key`` (ignored by dry runs, which store nothing to repeat) makes a repeated import answer the
    first report, with new activation codes for the women who have not activated their account yet.
    ``country`` (the dashboard's page of one country): every row is of that country, an empty ``pais`` included;
    a row naming another is refused, even for an admin, who chose that country's page.
    Raises ``NotASpreadsheet`` (400), ``SpreadsheetColumns`` (422), ``PayloadTooLarge`` (413, too many rows),
    ``Forbidden`` (not staff), ``Conflict`` (a key reused for another file)."""
    if not principal.is_staff:
        raise Forbidden()
    sheet = spreadsheet.read(data, locale)
    record = None
    if idempotency_key and not dry_run:
        fingerprint = hashlib.sha256(data).hexdigest()
        reserved = idempotency.reserve(session, f"applications-import:user:{principal.user_id}", idempotency_key,
                                       fingerprint)
        if isinstance(reserved, dict):
            report = _replay(session, settings, principal, reserved)
            _audit(session, principal, report, replayed=True)
            return report
        record = reserved

    trial = session.begin_nested() if dry_run else None
    # every country the file names is locked first, in one order: two imports naming the same countries
    # queue behind each other instead of deadlocking (each would otherwise lock at its first row of each)
    for code in sorted({_country(cells, principal, country) for _number, cells in sheet.rows} & COUNTRY_NAMES.keys()):
        if scope.may_act_for_country(principal, code):
            repository.lock_country(session, code)
    rows: list[ImportRow] = []
    users: dict[str, int] = {}
    for number, cells in sheet.rows:
        row, user_id = _import_row(session, settings, principal, number, cells, locale, country)
        rows.append(row)
        if user_id is not None:
            users[str(number)] = user_id
    if trial is not None:
        trial.rollback()
        rows = [ImportRow(row=r.row, status=r.status, error=r.error, errors=r.errors,
                          waitlist_position=r.waitlist_position) for r in rows]
    report = ImportReport(dry_run=dry_run, format=sheet.format, rows=rows, summary=_summary(rows))
    _audit(session, principal, report, replayed=False)
    if record is not None:
        # the codes are not kept in clear: a retry gets new ones (see ``_replay``)
        idempotency.complete(record, 200, {
            "answer": report.model_dump(mode="json", exclude={"rows": {"__all__": set(_NO_CODES)}}),
            "activation_users": users,
        })
    return report


def _summary(rows: list[ImportRow]) -> ImportSummary:
    counts = {status: sum(r.status == status for r in rows)
              for status in ("enrolled", "waitlisted", "rejected", "possible_duplicate")}
    return ImportSummary(total=len(rows), **counts)


def _audit(session: Session, principal: Principal, report: ImportReport, *, replayed: bool) -> None:
    # counts only: no name, file name or cell of the file in the log
    audit.record(session, principal, "applications.imported", "import", "-", country=principal.country,
                 dry_run=report.dry_run, replayed=replayed, format=report.format, rows=report.summary.total,
                 **{status: count for status, count in report.summary.model_dump().items() if status != "total"},
                 enrolments=[r.enrolment_id for r in report.rows if r.enrolment_id is not None])


def _replay(session: Session, settings: Settings, principal: Principal, stored: dict[str, Any]) -> ImportReport:
    """The first report again; a woman who has not activated her account gets a new code (the lost one is
    retired), as a retried single application does."""
    report = ImportReport.model_validate(stored["answer"])
    users: dict[str, int] = stored.get("activation_users", {})
    for row in report.rows:
        user_id = users.get(str(row.row))
        code = service.replacement_activation_code(session, settings, principal, user_id) if user_id else None
        if code is not None:
            row.activation_code, row.activation_code_expires_at = code.activation_code, code.expires_at
    return report


def _import_row(
    session: Session, settings: Settings, principal: Principal, number: int, cells: dict[str, Cell],
    locale: Locale, country: str | None = None,
) -> tuple[ImportRow, int | None]:
    """One row as a single application by ``principal``; the user id of a woman registered without a password."""
    values, problems = _application(cells, principal, country)
    found: list[tuple[str | None, str]] = list(problems)
    body = None
    if not any(rule == "invalid_text" for _column_key, rule in problems):  # never let bad bytes go further
        try:
            body = ApplicationIn.model_validate(values)
        except ValidationError as exc:
            unreadable = {column for column, _rule in problems}
            found += [(column, err["type"]) for err in exc.errors()
                      if (column := _column(tuple(err["loc"]))) not in unreadable]
    if found or body is None:
        return _rejected(number, "invalid_input", [(c, field_message(rule, locale)) for c, rule in found]), None
    if country is not None and body.country != country:
        return _rejected(number, "country_out_of_scope", [("pais", translate("not_this_country", locale))]), None
    if _looks_registered(session, principal, body):
        return ImportRow(row=number, status="possible_duplicate", error="possible_duplicate", errors=[
            ImportRowError(column=None, message=field_message("possible_duplicate", locale))]), None
    try:
        with session.begin_nested():
            out = service.apply(session, settings, principal, body, None, None)
    except AppError as exc:
        if exc.trace is not None:
            exc.trace(session)  # the audit of a refusal (an out-of-scope match), kept though the row is not
        return _refused(number, body, exc, locale), None
    row = ImportRow(row=number, status=out.status.value, enrolment_id=out.enrolment_id,
                    participant_id=out.participant_id, username=out.username,
                    waitlist_position=out.waitlist_position, activation_code=out.activation_code,
                    activation_code_expires_at=out.activation_code_expires_at)
    return row, session.get_one(Participant, out.participant_id).user_id if out.activation_code else None


def _rejected(number: int, error: str, problems: list[tuple[str | None, str]]) -> ImportRow:
    unique = list(dict.fromkeys(problems))  # pydantic may report one cell twice (a union's branches)
    return ImportRow(row=number, status="rejected", error=error,
                     errors=[ImportRowError(column=column, message=message) for column, message in unique])


def _refused(number: int, body: ApplicationIn, exc: AppError, locale: Locale) -> ImportRow:
    code = getattr(exc, "specific_code", exc.code)
    if isinstance(exc, NotEligible):
        reasons: list[str] = exc.extra.get("reasons", [])
        return _rejected(number, code, [(_FIELD_COLUMNS.get(r), translate(r, locale, REASONS)) for r in reasons])
    if isinstance(exc, InvalidInput):
        return _rejected(number, code, [(_column(tuple(exc.field.split("."))), field_message(exc.rule, locale))])
    if isinstance(exc, Forbidden):
        return _rejected(number, exc.message_key, [("pais", translate(exc.message_key, locale))])
    column = "numero_documento" if body.document else "correo" if body.email else None
    return _rejected(number, code, [(column, translate(exc.message_key, locale))])


def _column(loc: tuple[int | str, ...]) -> str | None:
    if loc[:2] == ("document", "type"):
        return "tipo_documento"
    if loc[:2] == ("consent", "sensitive_data"):
        return "datos_sensibles"
    return _FIELD_COLUMNS.get(str(loc[0])) if loc else None


def _looks_registered(session: Session, principal: Principal, body: ApplicationIn) -> bool:
    """A row with neither document nor email cannot be told apart from a woman already registered in the
    caller's scope (an earlier row of the same file included) but by her folded names, birth date and
    locality: it is set aside rather than registering her twice."""
    if body.document is not None or body.email is not None or not scope.may_act_for_country(principal,
                                                                                              body.country):
        return False
    wanted = (fold(body.first_name), fold(body.last_name), fold(body.locality))
    return any((fold(first), fold(last), fold(locality)) == wanted
               for first, last, locality in repository.names_born_on(session, body.country, body.birth_date))


def _country(cells: dict[str, Cell], principal: Principal, chosen: str | None = None) -> str:
    given = _text(cells.get("pais"))
    if given is None and chosen is not None:
        return chosen
    if given is None and principal.role is Role.COORDINATOR and principal.country:
        return principal.country  # her own country when she leaves it empty
    return _COUNTRY_BY_NAME.get(fold(given or ""), (given or "").upper())  # "Perú" as well as "PE"


def _text(value: Cell) -> str | None:
    """A cell as the text it shows: a number typed into a document or phone cell is its digits."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "sí" if value else "no"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    text = str(value).strip()
    return text or None


def _yes_no(value: Cell) -> bool | None | str:
    """True/False, None for an empty cell, or the cell's text when it is neither yes nor no."""
    if isinstance(value, bool):
        return value
    text = _text(value)
    if text is None:
        return None
    folded = fold(text)
    return True if folded in _YES else False if folded in _NO else text


def _application(cells: dict[str, Cell], principal: Principal,
                 chosen: str | None = None) -> tuple[dict[str, Any], list[tuple[str, str]]]:
    """The row as the body of a single application, and the cells that cannot even be read as one
    (bad bytes, a yes/no that is neither, a number where a date goes)."""
    problems = [(key, "invalid_text") for key, value in cells.items()
                if isinstance(value, str) and is_bad_text(value)]
    if problems:
        return {}, problems
    body: dict[str, Any] = {}

    def put(field: str, value: object) -> None:
        if value is not None:
            body[field] = value

    for key, field in (("nombres", "first_name"), ("apellidos", "last_name"), ("region", "region"),
                       ("localidad", "locality"), ("telefono", "phone"), ("correo", "email"),
                       ("etnia", "ethnicity")):
        put(field, _text(cells.get(key)))
    country = _country(cells, principal, chosen)
    put("country", country or None)
    birth = cells.get("fecha_nacimiento")
    if isinstance(birth, datetime):
        put("birth_date", birth.date().isoformat())
    elif isinstance(birth, int | float) and not isinstance(birth, bool):
        problems.append(("fecha_nacimiento", "date_parsing"))  # a number, not a date cell
    else:
        put("birth_date", _text(birth))
    gender = _text(cells.get("genero"))
    put("gender", _GENDERS.get(fold(gender), gender) if gender else None)
    answers: dict[str, bool] = {}
    for key in ("es_rural", "tiene_internet", "acepta_aviso", "datos_sensibles"):
        answer = _yes_no(cells.get(key))
        if isinstance(answer, str):
            problems.append((key, "yes_no"))
        elif answer is not None:
            answers[key] = answer
    put("is_rural", answers.get("es_rural"))
    put("has_internet", answers.get("tiene_internet"))
    body["consent"] = {"accepted": answers.get("acepta_aviso", False), "version": CURRENT_NOTICE_VERSION,
                       "sensitive_data": answers.get("datos_sensibles", False)}
    number, kind = _text(cells.get("numero_documento")), _text(cells.get("tipo_documento"))
    if number is not None:
        body["document"] = {"type": (kind or DOCUMENT_TYPES.get(country, "")).upper(), "number": number}
    elif kind is not None:
        problems.append(("numero_documento", "missing"))
    languages = _text(cells.get("idiomas"))
    if languages is not None:
        body["languages"] = [part.strip() for part in languages.replace(";", ",").split(",") if part.strip()]
    return body, problems
