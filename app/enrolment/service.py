"""Applications, the quota of seats per country, the waitlist, and withdrawals.

Every change to a country's seats or waitlist happens while its row is locked (``repository.lock_country``),
in the same transaction as the enrolment rows it concerns: the cap cannot be exceeded and positions stay 1..n.
"""

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import ColumnElement, SQLColumnExpression
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.audit import service as audit
from app.auth import repository as auth_repository
from app.auth import scope
from app.auth import service as auth_service
from app.auth.principal import Principal
from app.auth.schemas import ActivationCodeOut
from app.content import service as content_service
from app.core.base import utcnow
from app.core.config import Settings
from app.core.errors import Conflict, Forbidden, InvalidInput, NotEligible, NotFound
from app.core.pagination import Page, PageParams, count
from app.core.security import digest
from app.enrolment import repository
from app.enrolment.geography import COUNTRY_NAMES, REGIONS, canonical_region
from app.enrolment.schemas import (
    ApplicationIn,
    ApplicationOut,
    CountryOut,
    CountryUpdate,
    DocumentOut,
    EnrolmentOut,
    EnrolmentSort,
    NotifiedOut,
    ParticipantEnrolment,
    ParticipantOut,
    SensitiveOut,
    WithdrawOut,
)
from app.guards import idempotency, throttle
from app.models import (
    ConsentRecord,
    Country,
    Enrolment,
    EnrolmentStatus,
    Participant,
    Role,
    User,
)

MIN_AGE = 18


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def ineligibility_reasons(session: Session, body: ApplicationIn) -> list[str]:
    reasons = []
    if body.gender != "female":
        reasons.append("gender")
    if age_on(body.birth_date, utcnow().date()) < MIN_AGE:
        reasons.append("birth_date")
    country = session.get(Country, body.country) if body.country in COUNTRY_NAMES else None
    if country is None:
        reasons.append("country")
    elif body.region not in country.eligible_regions:
        reasons.append("region")
    if not body.is_rural:
        reasons.append("is_rural")
    if not body.has_internet:
        reasons.append("has_internet")
    return reasons


def count_public_application(factory: sessionmaker[Session], settings: Settings, address: str) -> None:
    """Every anonymous application counts toward its address's hourly limit, refused ones (not eligible,
    duplicate) included: counted before any other work, in a transaction of its own."""
    throttle.take(factory, [throttle.Limit(f"apply:address:{address}", settings.application_rate_limit,
                                           timedelta(hours=1))])


def apply(
    session: Session,
    settings: Settings,
    principal: Principal | None,
    body: ApplicationIn,
    password_hash: str | None,
    idempotency_key: str | None,
) -> ApplicationOut:
    channel = _check_applicant(principal, body)
    email = body.email.lower() if body.email else None
    record = None
    if idempotency_key:
        fingerprint = idempotency.request_fingerprint(body.model_dump(mode="json"))
        reserved = idempotency.reserve(session, _idempotency_scope(principal, email), idempotency_key,
                                       fingerprint)
        if isinstance(reserved, dict):
            return _replay(session, settings, principal, reserved)
        record = reserved

    reasons = ineligibility_reasons(session, body)
    if reasons:
        raise NotEligible(reasons=reasons)

    document = (body.document.type, body.document.number) if body.document else None
    participant = _returning_participant(session, principal, body, email, document)
    try:
        user, participant = _save_person(session, principal, body, participant, email, password_hash)
        session.add(ConsentRecord(
            participant_id=participant.id, notice_version=body.consent.version,
            sensitive_data=body.consent.sensitive_data, channel=channel,
            recorded_by_id=principal.user_id if principal else None,
        ))
        enrolment = _take_seat_or_queue(session, participant, user, channel, principal)
    except IntegrityError as exc:
        # the same person applying twice at the same moment: the unique indexes decide, nothing is doubled
        raise Conflict("duplicate_application") from exc

    out = ApplicationOut(
        enrolment_id=enrolment.id, participant_id=participant.id, username=user.username,
        status=enrolment.status, waitlist_position=enrolment.waitlist_position,
    )
    if user.password_hash is None:
        _attach_activation_code(session, settings, principal, out, user.id)
    if record is not None:
        # the code is not kept in clear: a retry gets a new one (see ``_replay``)
        idempotency.complete(record, 201, {
            "answer": out.model_dump(mode="json", exclude={"activation_code", "activation_code_expires_at"}),
            "activation_user_id": user.id if out.activation_code else None,
        })
    return out


def _idempotency_scope(principal: Principal | None, email: str | None) -> str:
    """Keys are the caller's own: a staff member's or participant's account, or for a woman applying by herself
    her email (her address may change between retries; she has no account yet)."""
    if principal is not None:
        return f"applications:user:{principal.user_id}"
    assert email is not None  # an anonymous application needs one (``_check_applicant``)
    return f"applications:anonymous:{digest(email)}"


def _replay(session: Session, settings: Settings, principal: Principal | None,
            stored: dict[str, Any]) -> ApplicationOut:
    """The first answer again. Its activation code was never stored in clear: if she has not activated her
    account yet, the lost code is retired and a new one given (only to the same caller: keys are scoped)."""
    out = ApplicationOut.model_validate(stored["answer"])
    user_id = stored.get("activation_user_id")
    code = replacement_activation_code(session, settings, principal, user_id) if user_id is not None else None
    if code is not None:
        out.activation_code, out.activation_code_expires_at = code.activation_code, code.expires_at
    return out


def replacement_activation_code(session: Session, settings: Settings, principal: Principal | None,
                                user_id: int) -> ActivationCodeOut | None:
    """For a retried registration (one application, or a bulk import): if she has not activated her account
    yet, the code the lost answer carried is retired and a new one given; else none."""
    if session.get_one(User, user_id).password_hash is not None:
        return None
    auth_repository.retire_activation_codes(session, user_id)
    return auth_service.create_activation_code(session, settings, user_id, principal.user_id if principal else None)


def _attach_activation_code(session: Session, settings: Settings, principal: Principal | None,
                            out: ApplicationOut, user_id: int) -> None:
    code = auth_service.create_activation_code(session, settings, user_id, principal.user_id if principal else None)
    out.activation_code, out.activation_code_expires_at = code.activation_code, code.expires_at


def _returning_participant(
    session: Session, principal: Principal | None, body: ApplicationIn,
    email: str | None, document: tuple[str, str] | None,
) -> Participant | None:
    """The existing woman this application is from, if any, and only if the caller may act for her.

    An anonymous caller never changes or reveals an existing person, active or withdrawn: a withdrawn woman
    applies again with her own token or through her coordinator. Staff act only on people already in their
    scope. Every refusal is the same ``duplicate_application`` an active duplicate gets, and is audited."""
    same_people = repository.find_same_people(session, email, document)
    if principal is None:
        if same_people:
            _refuse(principal, body, same_people, "existing_person")
        return None
    if scope.is_participant(principal):
        if any(p.id != principal.participant_id for p in same_people):  # another woman's document or email
            _refuse(principal, body, same_people, "another_person")
        assert principal.participant_id is not None
        same_people = [session.get_one(Participant, principal.participant_id)]
    elif any(not scope.may_act_for_country(principal, p.country_code) for p in same_people):
        _refuse(principal, body, same_people, "out_of_scope")
    # the document of one woman with the email of another is not a re-application either
    if len(same_people) > 1:
        _refuse(principal, body, same_people, "several_people")
    if same_people and repository.active_enrolment(session, same_people[0].id) is not None:
        raise Conflict("duplicate_application")
    return same_people[0] if same_people else None


def _refuse(principal: Principal | None, body: ApplicationIn, matches: list[Participant], why: str) -> NoReturn:
    refusal = Conflict("duplicate_application")
    refusal.trace = lambda session: audit.record(
        session, principal, "application.refused", "application", "-", country=body.country, reason=why,
        matched_participants=[p.id for p in matches])
    raise refusal


def _check_applicant(principal: Principal | None, body: ApplicationIn) -> str:
    """Who may apply for whom; returns the channel recorded with the consent."""
    if principal is None:
        if body.email is None:
            raise InvalidInput("email", "self_application_needs_account")
        if body.password is None:
            raise InvalidInput("password", "self_application_needs_account")
        return "self"
    if scope.is_participant(principal):
        return "self"
    if not scope.may_act_for_country(principal, body.country):
        raise Forbidden("country_out_of_scope")
    return principal.role.value


def _save_person(
    session: Session,
    principal: Principal | None,
    body: ApplicationIn,
    participant: Participant | None,
    email: str | None,
    password_hash: str | None,
) -> tuple[User, Participant]:
    fields = {
        "first_name": body.first_name, "last_name": body.last_name, "birth_date": body.birth_date,
        "gender": body.gender, "country_code": body.country, "region": body.region, "locality": body.locality,
        "is_rural": body.is_rural, "has_internet": body.has_internet, "phone": body.phone,
        "document_type": body.document.type if body.document else None,
        "document_number": body.document.number if body.document else None,
        "ethnicity": body.ethnicity if body.consent.sensitive_data else None,
        "languages": body.languages if body.consent.sensitive_data else None,
    }
    if participant is None:
        user = User(role=Role.PARTICIPANT, country_code=body.country, email=email, password_hash=password_hash,
                    full_name=f"{body.first_name} {body.last_name}")
        session.add(user)
        session.flush()
        participant = Participant(user_id=user.id, **fields)
        session.add(participant)
        session.flush()
        audit.record(session, principal, "participant.created", "participant", participant.id,
                     country=body.country)
        return user, participant
    # a woman who withdrew applies again (herself, or through staff in her scope): her record is brought up to
    # date; her account, email and password are kept
    user = session.get_one(User, participant.user_id)
    for name, value in fields.items():
        if value is not None or not name.startswith("document_"):  # an omitted document keeps the known one
            setattr(participant, name, value)
    user.country_code = body.country
    user.full_name = f"{body.first_name} {body.last_name}"
    session.flush()
    audit.record(session, principal, "participant.reapplied", "participant", participant.id, country=body.country)
    return user, participant


def _take_seat_or_queue(
    session: Session, participant: Participant, user: User, channel: str, principal: Principal | None
) -> Enrolment:
    # The lock is taken last, so that the country is held only for these few statements.
    country = repository.lock_country(session, participant.country_code)
    if user.participant_code is None:
        country.last_participant_number += 1
        user.participant_code = f"{country.code}-{country.last_participant_number:04d}"
    now = utcnow()
    enrolment = Enrolment(participant_id=participant.id, country_code=country.code, channel=channel,
                          created_by_id=principal.user_id if principal else None, applied_at=now)
    if country.enrolled < country.capacity:
        country.enrolled += 1
        enrolment.status, enrolment.enrolled_at = EnrolmentStatus.ENROLLED, now
    else:
        country.waitlisted += 1
        enrolment.status, enrolment.waitlist_position = EnrolmentStatus.WAITLISTED, country.waitlisted
    session.add(enrolment)
    session.flush()
    audit.record(session, principal, f"enrolment.{enrolment.status.value}", "enrolment", enrolment.id,
                 country=country.code, participant_id=participant.id, position=enrolment.waitlist_position)
    return enrolment


def withdraw(session: Session, principal: Principal, enrolment_id: int, reason: str) -> WithdrawOut:
    enrolment, _participant, _user = repository.get_readable_enrolment(session, principal, enrolment_id)
    country = repository.lock_country(session, enrolment.country_code)
    session.refresh(enrolment)  # its status as of the lock, not as of the first read
    if enrolment.status is EnrolmentStatus.WITHDRAWN:
        raise Conflict("already_withdrawn")
    if enrolment.status is EnrolmentStatus.COMPLETED:
        raise Conflict("invalid_transition")
    previous, position = enrolment.status, enrolment.waitlist_position
    if not repository.change_status(session, enrolment, previous, status=EnrolmentStatus.WITHDRAWN,
                                    withdrawn_at=utcnow(), withdraw_reason=reason, waitlist_position=None):
        raise Conflict("invalid_transition")  # completed meanwhile (a sync that does not take the country lock)
    promoted_id = None
    if previous is EnrolmentStatus.ENROLLED:
        country.enrolled -= 1
    else:
        assert position is not None
        country.waitlisted -= 1
        session.flush()
        repository.close_waitlist_gap(session, country.code, position)
    audit.record(session, principal, "enrolment.withdrawn", "enrolment", enrolment.id, country=country.code,
                 previous=previous.value, reason=reason)
    promoted = promote_from_waitlist(session, principal, country)
    if promoted:
        promoted_id = promoted[0]
    session.flush()
    return WithdrawOut(id=enrolment.id, status=enrolment.status, promoted_enrolment_id=promoted_id)


def promote_from_waitlist(session: Session, principal: Principal | None, country: Country) -> list[int]:
    """Fill free seats from the head of the waitlist; the caller holds the country's lock."""
    promoted: list[int] = []
    while country.enrolled < country.capacity and country.waitlisted > 0:
        session.flush()
        head = repository.first_waitlisted(session, country.code)
        if head is None:  # counters and rows disagree: trust the rows
            country.waitlisted = 0
            break
        now = utcnow()
        if not repository.change_status(session, head, EnrolmentStatus.WAITLISTED, status=EnrolmentStatus.ENROLLED,
                                        waitlist_position=None, enrolled_at=now, promoted_at=now):
            raise Conflict("invalid_transition")  # cannot happen under the country's lock; never doubles a seat
        country.enrolled += 1
        country.waitlisted -= 1
        session.flush()
        repository.close_waitlist_gap(session, country.code, 1)
        audit.record(session, principal, "enrolment.promoted", "enrolment", head.id, country=country.code)
        promoted.append(head.id)
    return promoted


def list_enrolments(
    session: Session,
    principal: Principal,
    page: PageParams,
    country: str | None,
    status: EnrolmentStatus | None,
    region: str | None,
    q: str | None,
    sort: EnrolmentSort | None = None,
) -> Page[EnrolmentOut]:
    stmt = repository.readable_enrolments(principal)
    if country:
        stmt = stmt.where(Enrolment.country_code == country.upper())
    if status:
        stmt = stmt.where(Enrolment.status == status)
    if region:
        # "apurimac" finds Apurímac; without a country, in whichever countries have a region of that name
        codes = [country.upper()] if country else list(COUNTRY_NAMES)
        names = {name for code in codes if (name := canonical_region(code, region))} or {region}
        stmt = stmt.where(Participant.region.in_(names))
    if q:
        stmt = repository.search_filter(stmt, q)
    total = count(session, stmt)
    required = content_service.required_lessons(session)
    rows = session.execute(
        stmt.order_by(*_order(session, sort, required)).limit(page.limit).offset(page.offset)
    ).all()
    # the page's progress in one query, whatever its length
    progress = Progress(session, required, [row[1].id for row in rows])
    if principal.is_staff and rows:  # staff seeing a list of women is a view of personal data
        audit.record(session, principal, "participants.listed", "enrolment", "-", country=principal.country,
                     participants=[row[1].id for row in rows])
    return Page(items=[to_out(row[0], row[1], row[2], progress.percent(row[1].id)) for row in rows], total=total)


def _order(session: Session, sort: EnrolmentSort | None,
           required: dict[str, tuple[str, ...]]) -> list[ColumnElement[Any] | SQLColumnExpression[Any]]:
    if sort is None:
        return [Enrolment.country_code, Enrolment.status, Enrolment.waitlist_position, Enrolment.id]
    name = repository.name_key(session)
    keys: dict[str, SQLColumnExpression[Any]] = {
        "name": name, "applied_at": Enrolment.applied_at, "progress": repository.progress_key(required)}
    key = keys[sort.removeprefix("-")]
    # ties: by name, then the enrolment's id, so that pages never overlap
    return [key.desc() if sort.startswith("-") else key.asc(), name, Enrolment.id]


class Progress:
    """Overall progress percents of some participants, read in one query."""

    def __init__(self, session: Session, required: dict[str, tuple[str, ...]], participant_ids: list[int]) -> None:
        self.total = sum(len(lessons) for lessons in required.values())
        self.counts = repository.progress_counts(session, required, participant_ids)

    def percent(self, participant_id: int) -> int:
        done, completed = self.counts.get(participant_id, (0, False))
        if completed:
            return 100  # a completed programme stays complete, whatever content was added since
        # the share of what completion needs, rounded as each module's percent is (app/progress/service.py)
        return round(100 * done / self.total) if self.total else 0


def get_enrolment(session: Session, principal: Principal, enrolment_id: int) -> EnrolmentOut:
    enrolment, participant, user = repository.get_readable_enrolment(session, principal, enrolment_id)
    record_view(session, principal, participant)
    progress = Progress(session, content_service.required_lessons(session), [participant.id])
    return to_out(enrolment, participant, user, progress.percent(participant.id))


def record_view(session: Session, principal: Principal, participant: Participant) -> None:
    """Staff opened her record: she can see who and when in ``GET /me/data``."""
    if principal.is_staff:
        audit.record(session, principal, "participant.viewed", "participant", participant.id,
                     country=participant.country_code, participant_id=participant.id)


def to_out(enrolment: Enrolment, participant: Participant, user: User, progress_percent: int) -> EnrolmentOut:
    return EnrolmentOut(
        id=enrolment.id, participant_id=participant.id, participant_code=user.participant_code,
        full_name=participant.full_name, country=enrolment.country_code, region=participant.region,
        locality=participant.locality, phone=participant.phone, activated=user.password_hash is not None,
        status=enrolment.status, waitlist_position=enrolment.waitlist_position, applied_at=enrolment.applied_at,
        enrolled_at=enrolment.enrolled_at, withdrawn_at=enrolment.withdrawn_at, completed_at=enrolment.completed_at,
        progress_percent=progress_percent,
    )


def get_participant(session: Session, principal: Principal, participant_id: int) -> ParticipantOut:
    """One woman's record, for herself, her country's coordinator and admins (anyone else: not found). Her
    ethnicity and languages are shown to her alone."""
    participant = repository.get_readable_participant(session, principal, participant_id)
    record_view(session, principal, participant)
    user = session.get_one(User, participant.user_id)
    enrolments = repository.enrolments_of(session, participant.id)
    progress = Progress(session, content_service.required_lessons(session), [participant.id])
    herself = principal.participant_id == participant.id
    return ParticipantOut(
        id=participant.id, first_name=participant.first_name, last_name=participant.last_name,
        full_name=participant.full_name, birth_date=participant.birth_date, country=participant.country_code,
        region=participant.region, locality=participant.locality, phone=participant.phone,
        document=DocumentOut(type=participant.document_type, number=participant.document_number)
        if participant.document_type and participant.document_number else None,
        participant_code=user.participant_code, email=user.email, username=user.username,
        activated=user.password_hash is not None,
        enrolments=[ParticipantEnrolment(
            id=e.id, status=e.status, waitlist_position=e.waitlist_position, applied_at=e.applied_at,
            enrolled_at=e.enrolled_at, withdrawn_at=e.withdrawn_at, completed_at=e.completed_at,
        ) for e in enrolments],
        progress_percent=progress.percent(participant.id),
        sensitive=SensitiveOut(ethnicity=participant.ethnicity, languages=participant.languages) if herself else None,
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def mark_notified(session: Session, principal: Principal, enrolment_id: int) -> NotifiedOut:
    """Her coordinator told her she has a seat now: reports stop listing her. Marking twice keeps the first time."""
    enrolment, participant, _user = repository.get_readable_enrolment(session, principal, enrolment_id)
    if not scope.may_act_for_country(principal, participant.country_code):
        raise NotFound()  # a participant cannot mark herself; to her, staff's marks do not exist
    if enrolment.promoted_at is None or enrolment.status is not EnrolmentStatus.ENROLLED:
        raise Conflict("not_promoted")
    if enrolment.notified_at is None and repository.mark_notified(session, enrolment, utcnow()):
        audit.record(session, principal, "enrolment.notified", "enrolment", enrolment.id,
                     country=enrolment.country_code)
        session.flush()
    assert enrolment.notified_at is not None
    return NotifiedOut(id=enrolment.id, promoted_at=enrolment.promoted_at, notified_at=enrolment.notified_at)


def country_out(country: Country) -> CountryOut:
    return CountryOut(
        code=country.code, name=country.name, capacity=country.capacity, enrolled=country.enrolled,
        waitlisted=country.waitlisted, available=max(0, country.capacity - country.enrolled),
        eligible_regions=list(country.eligible_regions), regions=list(REGIONS[country.code]),
        cohort_start=country.cohort_start,
    )


def list_countries(session: Session) -> list[CountryOut]:
    return [country_out(c) for c in repository.countries(session)]


def update_country(session: Session, principal: Principal, code: str, body: CountryUpdate) -> CountryOut:
    code = code.upper()
    if code not in COUNTRY_NAMES:
        raise NotFound()
    regions = None
    if body.eligible_regions is not None:
        regions = []
        for name in body.eligible_regions:
            canonical = canonical_region(code, name)
            if canonical is None:
                raise InvalidInput("eligible_regions", "eligible_regions")
            if canonical not in regions:
                regions.append(canonical)
    country = repository.lock_country(session, code)
    before = {"capacity": country.capacity, "eligible_regions": list(country.eligible_regions),
              "cohort_start": _iso(country.cohort_start)}
    if body.capacity is not None:
        if body.capacity < country.enrolled:
            raise Conflict("capacity_below_enrolled", enrolled=country.enrolled)
        country.capacity = body.capacity
    if regions is not None:
        country.eligible_regions = regions
    if "cohort_start" in body.model_fields_set:  # an explicit null clears it
        country.cohort_start = body.cohort_start
    audit.record(session, principal, "country.updated", "country", code, country=code, before=before,
                 after={"capacity": country.capacity, "eligible_regions": list(country.eligible_regions),
                        "cohort_start": _iso(country.cohort_start)})
    promote_from_waitlist(session, principal, country)
    session.flush()
    return country_out(country)



def mark_programme_completed(session: Session, participant_id: int, at: datetime) -> None:
    """The programme is complete: her enrolment says so (she keeps her seat), dated by her last completion."""
    enrolment = repository.active_enrolment(session, participant_id)
    if enrolment is None or enrolment.status is EnrolmentStatus.WAITLISTED:
        return
    if enrolment.status is EnrolmentStatus.ENROLLED:
        # conditional: a withdrawal committed since she was read keeps her withdrawn and her seat given away
        if repository.change_status(session, enrolment, EnrolmentStatus.ENROLLED, status=EnrolmentStatus.COMPLETED,
                                    completed_at=at):
            audit.record(session, None, "enrolment.completed", "enrolment", enrolment.id,
                         country=enrolment.country_code, participant_id=participant_id)
    elif enrolment.completed_at is None or at < enrolment.completed_at:
        enrolment.completed_at = at


def programme_completed_at(session: Session, participant_id: int) -> datetime | None:
    return repository.programme_completed_at(session, participant_id)


def programme_completed_at_of(session: Session, participant_ids: Sequence[int]) -> dict[int, datetime]:
    """programme_completed_at of many women in one query: those absent have not completed it."""
    return repository.completions_of(session, participant_ids)


def new_activation_code(
    session: Session, settings: Settings, principal: Principal, participant_id: int
) -> ActivationCodeOut:
    """A new code for a woman of the caller's scope (a forgotten password, an expired code): her earlier codes
    and her sessions end."""
    participant = repository.get_manageable_participant(session, principal, participant_id)
    auth_repository.retire_activation_codes(session, participant.user_id)
    auth_repository.revoke_tokens(session, participant.user_id)
    out = auth_service.create_activation_code(session, settings, participant.user_id, principal.user_id)
    audit.record(session, principal, "account.activation_code_issued", "participant", participant.id,
                 country=participant.country_code)
    return out
