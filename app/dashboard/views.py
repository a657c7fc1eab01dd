"""What each dashboard page shows, assembled from the features' own services (the report, the enrolment list,
a woman's record and progress): the dashboard computes no figure of its own, so its numbers are the API's."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from app.auth import service as auth_service
from app.auth.principal import Principal
from app.auth.schemas import TokenOut
from app.core.base import utcnow
from app.core.config import Settings
from app.core.errors import NotFound
from app.core.pagination import PageParams
from app.core.security import digest
from app.dashboard import charts
from app.enrolment import repository as enrolment_repository
from app.enrolment import service as enrolment_service
from app.enrolment.geography import COUNTRY_NAMES
from app.models import AccessToken, Country, EnrolmentStatus, Role, User
from app.progress import service as progress_service
from app.reporting import repository as reporting_repository
from app.reporting import service as reporting_service
from app.reporting.schemas import AttentionItem

REASONS = {
    "inactive_14_days": "Sin actividad hace más de 14 días",
    "quiz_failed_3_times": "Reprobó la misma evaluación 3 veces",
    "behind_pace": "Va atrasada respecto del calendario",
    "promoted_not_notified": "Salió de la lista de espera y aún no fue avisada",
}
STATUSES = {
    EnrolmentStatus.ENROLLED: "Inscrita", EnrolmentStatus.WAITLISTED: "En lista de espera",
    EnrolmentStatus.WITHDRAWN: "Retirada", EnrolmentStatus.COMPLETED: "Completó",
}
LIST_LIMIT = 200  # a country has 50 seats and a waitlist: one page holds them all


@dataclass(frozen=True)
class Contact:
    tel: str
    whatsapp: str
    shown: str


def contact(phone: str | None) -> Contact | None:
    """``tel:+51987654321`` and ``https://wa.me/51987654321`` (WhatsApp wants the digits alone)."""
    if not phone:
        return None
    digits = "".join(ch for ch in phone if ch.isdigit())
    if not 8 <= len(digits) <= 15:
        return None
    return Contact(tel=f"tel:+{digits}", whatsapp=f"https://wa.me/{digits}", shown=f"+{digits}")


def country_name(code: str) -> str:
    return COUNTRY_NAMES.get(code, code)


def countries(session: Session) -> list[tuple[str, str]]:
    return [(c.code, country_name(c.code)) for c in enrolment_service.list_countries(session)]


def manageable(session: Session, principal: Principal, code: str) -> Country:
    """Her own country (or any, for an admin); any other is not found."""
    return reporting_repository.manageable_country(session, principal, code.upper())


@dataclass(frozen=True)
class AttentionRow:
    item: AttentionItem
    reasons: list[str]
    contact: Contact | None
    to_notify: bool


def country_page(session: Session, principal: Principal, code: str) -> dict[str, Any]:
    country = manageable(session, principal, code)
    report = reporting_service.country_report(session, principal, country.code)
    s = report.statuses
    seated = s.enrolled + s.completed
    funnel = [("Postularon", s.applied), ("Inscritas (en curso o completado)", seated),
              ("Completaron el programa", s.completed), ("Certificadas", s.certified)]
    modules = charts.bars("modulos", "Avance por módulo: participantes que lo completaron",
                          [(m.title, m.completed, seated) for m in report.modules])
    regions = charts.bars("regiones", "Avance por región: participantes que completaron el programa",
                          [(r.region, r.completed, r.enrolled + r.completed) for r in report.regions])
    attention = [AttentionRow(item=i, reasons=[REASONS[r] for r in i.reasons], contact=contact(i.phone),
                              to_notify="promoted_not_notified" in i.reasons) for i in report.attention]
    return {"country": country, "report": report, "funnel": funnel, "module_chart": modules,
            "region_chart": regions, "attention": attention, "free_seats": max(0, country.capacity - country.enrolled)}


def participants_page(session: Session, principal: Principal, code: str, q: str | None) -> dict[str, Any]:
    country = manageable(session, principal, code)
    page = enrolment_service.list_enrolments(session, principal, PageParams(limit=LIST_LIMIT, offset=0),
                                             country.code, None, None, q or None, "name")
    return {"country": country, "page": page, "q": q or "", "statuses": STATUSES}


def participant_page(session: Session, principal: Principal, code: str, participant_id: int) -> dict[str, Any]:
    country = manageable(session, principal, code)
    # read through the one scoping rule (and audited as a view), then held to the country of the page: under
    # another country's address even an admin does not find her
    record = enrolment_service.get_participant(session, principal, participant_id)
    if record.country != country.code:
        raise NotFound()
    progress = progress_service.progress_of(session, record.id)
    return {"country": country, "record": record, "progress": progress, "contact": contact(record.phone),
            "statuses": STATUSES}


def spanish_datetime(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.strftime("%d/%m/%Y %H:%M") + " UTC"


def staff_login(session: Session, factory: sessionmaker[Session], settings: Settings, username: str, password: str,
                address: str) -> TokenOut | None:
    """The API's login (its throttles, its dummy hash for unknown names, one error for every failure); None for
    a participant, whose new token is withdrawn at once: the dashboard is not hers."""
    issued = auth_service.login(session, factory, settings, username, password, address)
    token = session.scalars(select(AccessToken).where(AccessToken.token_hash == digest(issued.access_token))).one()
    if session.get_one(User, token.user_id).role in (Role.COORDINATOR, Role.ADMIN):
        return issued
    token.revoked_at = utcnow()
    return None


def mark_notified(session: Session, principal: Principal, code: str, enrolment_id: int) -> None:
    """The "avisada" button: the API's rule, for an enrolment of the page's country."""
    enrolment, _participant, _user = enrolment_repository.get_readable_enrolment(session, principal, enrolment_id)
    if enrolment.country_code != code:
        raise NotFound()
    enrolment_service.mark_notified(session, principal, enrolment_id)
