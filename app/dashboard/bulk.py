"""The bulk registration form of the dashboard: what its report page shows of ``enrolment.imports``' report.

The import itself (rules, throttle, audit, idempotency) is the API's (``app.enrolment.imports``); this only
says each row's outcome in Spanish."""

import secrets
from dataclasses import dataclass

from app.enrolment.schemas import ImportReport, ImportRow

KEY_FIELD = "clave"  # the form's Idempotency-Key, new at each render of the form
ACTION_FIELD = "accion"
STORE = "inscribir"  # the other action, "revisar", is the dry run (the form's first, default button)

_STORED = {"enrolled": "Inscrita", "waitlisted": "En lista de espera", "rejected": "No se registró",
           "possible_duplicate": "Posible duplicado: no se registró"}
_TRIAL = {"enrolled": "Se inscribiría", "waitlisted": "Iría a la lista de espera",
          "rejected": "No se registraría", "possible_duplicate": "Posible duplicado: no se registraría"}


def new_form_key() -> str:
    return secrets.token_urlsafe(18)


def idempotency_key(country: str, given: str | None) -> str | None:
    """The key of one render of one country's form (an admin's forms for two countries never share one)."""
    if not given or len(given) > 100 or not given.isascii() or not given.isprintable():
        return None
    return f"panel:{country}:{given}"


@dataclass(frozen=True)
class ReportRow:
    row: ImportRow
    status: str

    @property
    def position(self) -> str:
        return f" (puesto {self.row.waitlist_position})" if self.row.waitlist_position else ""


def rows(report: ImportReport) -> list[ReportRow]:
    labels = _TRIAL if report.dry_run else _STORED
    return [ReportRow(row, labels[row.status]) for row in report.rows]
