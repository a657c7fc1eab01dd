"""Her rights over her data. Erasure anonymises in place (never deletes rows): seats, aggregates, progress counts
and certificate verification keep working, and nothing left names her."""

import json
from datetime import date
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.audit import service as audit
from app.auth import repository as auth_repository
from app.auth.principal import Principal
from app.certificates import service as certificates_service
from app.core.config import Settings
from app.core.errors import InvalidInput
from app.enrolment import repository as enrolment_repository
from app.enrolment import service as enrolment_service
from app.enrolment.geography import CALLING_CODES
from app.models import (
    AuditEntry,
    Certificate,
    ConsentRecord,
    Enrolment,
    EnrolmentStatus,
    Participant,
    ProgressEvent,
    User,
)
from app.privacy.notice import CURRENT_NOTICE_VERSION
from app.rights.schemas import (
    AccountData,
    ConsentData,
    ConsentWithdrawOut,
    EnrolmentData,
    EraseOut,
    EventData,
    MeUpdate,
    MyData,
    RecordData,
    ViewData,
)

# the audited staff actions that showed her record or listed her (data names her id in one of these keys)
VIEW_ACTIONS = ("report.viewed", "participants.exported", "participants.listed", "participant.viewed")
VIEW_KEYS = ("listed_participants", "participants", "participant_id")
SCRUBBED = "[borrado]"
# what a certificate's verification shows as its holder once she was erased: still verifiable, no longer naming her
ERASED_HOLDER = "Datos de la titular eliminados a su pedido"


def withdraw_sensitive_consent(session: Session, principal: Principal) -> ConsentWithdrawOut:
    """Ethnicity and languages are erased at once; the ledger keeps when consent was withdrawn."""
    if principal.participant_id is None:  # staff hold no sensitive data of their own
        return ConsentWithdrawOut(sensitive_data=False, erased=[])
    participant = session.get_one(Participant, principal.participant_id)
    erased = [name for name in ("ethnicity", "languages") if getattr(participant, name) is not None]
    participant.ethnicity, participant.languages = None, None
    session.add(ConsentRecord(participant_id=participant.id, notice_version=CURRENT_NOTICE_VERSION,
                              sensitive_data=False, channel="withdrawal", recorded_by_id=principal.user_id))
    audit.record(session, principal, "consent.sensitive_withdrawn", "participant", participant.id,
                 country=participant.country_code, erased=erased)
    session.flush()
    return ConsentWithdrawOut(sensitive_data=False, erased=erased)


def _names_her(entry: AuditEntry, participant_id: int) -> bool:
    return any(participant_id == entry.data.get(key) or (
        isinstance(entry.data.get(key), list) and participant_id in entry.data[key]) for key in VIEW_KEYS)


def my_data(session: Session, settings: Settings, principal: Principal) -> MyData:
    user = session.get_one(User, principal.user_id)
    account = AccountData(id=user.id, username=user.username, role=user.role, email=user.email,
                          participant_code=user.participant_code, full_name=user.full_name, locale=user.locale,
                          country=user.country_code, created_at=user.created_at)
    if principal.participant_id is None:
        return MyData(account=account, record=None, enrolments=[], consents=[], progress_events=[], certificates=[],
                      viewed_by=[])
    pid = principal.participant_id
    participant = session.get_one(Participant, pid)
    enrolments = session.scalars(select(Enrolment).where(Enrolment.participant_id == pid).order_by(Enrolment.id))
    consents = session.scalars(select(ConsentRecord).where(ConsentRecord.participant_id == pid)
                               .order_by(ConsentRecord.id))
    events = session.scalars(select(ProgressEvent).where(ProgressEvent.participant_id == pid)
                             .order_by(ProgressEvent.id))
    views = session.execute(
        select(AuditEntry, User).outerjoin(User, User.id == AuditEntry.actor_id)
        .where(AuditEntry.action.in_(VIEW_ACTIONS),
               or_(AuditEntry.country_code == participant.country_code, AuditEntry.country_code.is_(None)))
        .order_by(AuditEntry.id)
    ).all()
    return MyData(
        account=account, record=RecordData.model_validate(participant),
        enrolments=[EnrolmentData.model_validate(e) for e in enrolments],
        consents=[ConsentData.model_validate(c) for c in consents],
        progress_events=[EventData.model_validate(e) for e in events],
        certificates=certificates_service.mine(session, settings, pid),
        viewed_by=[ViewData(at=entry.at, action=entry.action, viewer_id=entry.actor_id,
                            viewer_name=viewer.full_name if viewer else None,
                            viewer_role=viewer.role if viewer else None)
                   for entry, viewer in views if _names_her(entry, pid) and entry.actor_id != principal.user_id],
    )


def _phone(value: str, country: str | None) -> str:
    compact = "".join(ch for ch in value if ch not in " -().")
    if not (compact.startswith("+") and compact[1:].isdigit() and 8 <= len(compact) - 1 <= 15
            and compact[1] != "0"):
        raise InvalidInput("phone", "phone_format")
    calling_code = CALLING_CODES.get(country or "")
    if calling_code and not compact[1:].startswith(calling_code):
        raise InvalidInput("phone", "phone_country")
    return compact


def update_me(session: Session, settings: Settings, principal: Principal, body: MeUpdate) -> MyData:
    """Rectification: her names, phone and language. Staff correct their own name and language."""
    user = session.get_one(User, principal.user_id)
    changed = sorted(body.model_fields_set)
    if body.locale is not None:
        user.locale = body.locale
    if principal.participant_id is not None:
        participant = session.get_one(Participant, principal.participant_id)
        if body.first_name is not None:
            participant.first_name = body.first_name
        if body.last_name is not None:
            participant.last_name = body.last_name
        if "phone" in body.model_fields_set:
            participant.phone = _phone(body.phone, participant.country_code) if body.phone else None
        user.full_name = participant.full_name
    else:
        if "phone" in body.model_fields_set:
            raise InvalidInput("phone", "value_error")  # staff accounts keep no phone
        if body.first_name is not None or body.last_name is not None:
            user.full_name = " ".join(filter(None, (body.first_name, body.last_name)))
    audit.record(session, principal, "account.rectified", "user", user.id, country=user.country_code,
                 fields=changed)
    session.flush()
    return my_data(session, settings, principal)


def _scrub(value: Any, needles: list[str]) -> Any:
    if isinstance(value, str):
        for needle in needles:
            value = value.replace(needle, SCRUBBED)
        return value
    if isinstance(value, list):
        return [_scrub(v, needles) for v in value]
    if isinstance(value, dict):
        return {k: _scrub(v, needles) for k, v in value.items()}
    return value


def erase(session: Session, principal: Principal, participant_id: int, reason: str) -> EraseOut:
    """One transaction: withdrawn if she holds or waits for a seat (the seat goes to the head of the waitlist),
    her personal fields anonymised, free text naming her scrubbed, her sessions and codes ended."""
    participant = enrolment_repository.get_manageable_participant(session, principal, participant_id)
    user = session.get_one(User, participant.user_id)
    needles = sorted({n for n in (participant.full_name, participant.first_name, participant.last_name,
                                  user.email, participant.document_number, participant.phone)
                      if n and len(n) >= 3}, key=len, reverse=True)  # the longest first: "María Quispe" whole
    reason = _scrub(reason, needles)
    withdrawn_id = promoted_id = None
    active = enrolment_repository.active_enrolment(session, participant.id)
    if active is not None and active.status in (EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED):
        out = enrolment_service.withdraw(session, principal, active.id, "erasure")
        withdrawn_id, promoted_id = out.id, out.promoted_enrolment_id
    for enrolment in session.scalars(select(Enrolment).where(Enrolment.participant_id == participant.id)):
        if enrolment.withdraw_reason:
            enrolment.withdraw_reason = _scrub(enrolment.withdraw_reason, needles)

    # what aggregates need survives (country, region, year of birth, gender, rurality); what names her does not
    participant.first_name, participant.last_name = "Anonimizada", f"#{participant.id}"
    participant.birth_date = date(participant.birth_date.year, 1, 1)
    participant.locality = SCRUBBED
    participant.phone = participant.document_type = participant.document_number = None
    participant.ethnicity = participant.languages = None
    user.email, user.password_hash, user.active = None, None, False
    user.full_name = participant.full_name
    # her certificates stay verifiable (status, country, modules, dates): whoever holds the PDF has the name
    for certificate in session.scalars(select(Certificate).where(Certificate.participant_id == participant.id)):
        certificate.holder_name = ERASED_HOLDER
    auth_repository.revoke_tokens(session, user.id)
    auth_repository.retire_activation_codes(session, user.id)

    # the audit log is append-only but for this: the law's right to erasure reaches free text that names her
    scrubbed = 0
    if needles:
        for entry in session.scalars(select(AuditEntry).where(or_(
                AuditEntry.country_code == participant.country_code, AuditEntry.country_code.is_(None)))):
            if any(n in json.dumps(entry.data, ensure_ascii=False) for n in needles):
                entry.data = _scrub(entry.data, needles)
                scrubbed += 1
    audit.record(session, principal, "participant.erased", "participant", participant.id,
                 country=participant.country_code, reason=reason)
    session.flush()
    return EraseOut(participant_id=participant.id, withdrawn_enrolment_id=withdrawn_id,
                    promoted_enrolment_id=promoted_id, audit_entries_scrubbed=scrubbed)
