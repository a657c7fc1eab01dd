"""Issuing, revoking, reissuing and verifying certificates.

Issuing runs in three steps so that the slow rendering (~0.3–1 s) never holds a write transaction (on SQLite, the
database's one write lock): decide what to print in a short read transaction, render and store the PDF with no
transaction open, then insert the row. The partial unique index on issued certificates decides between two
issuers of the same woman; the one that loses answers with the winner's certificate.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.audit import service as audit
from app.auth.principal import Principal
from app.certificates import codes, repository
from app.certificates.render import PROGRAMME, CertificateContent, ModuleLine, render_pdf, verify_url
from app.certificates.schemas import (
    CertificateOut,
    IssuedOut,
    ModuleOut,
    MyCertificateOut,
    VerificationOut,
)
from app.core.base import utcnow
from app.core.config import Settings
from app.core.db import short_session
from app.core.errors import AppError, Conflict, NotFound
from app.core.pagination import PageParams, count
from app.guards.throttle import Limit, take
from app.models import Certificate, CertificateStatus, Participant, RevokeReason
from app.progress import service as progress_service
from app.progress.schemas import ProgressOut
from app.storage import Storage

Renderer = Callable[[CertificateContent], bytes]
# two issuers drawing the same one of 131,072 positions at once is already rare; five times in a row, impossible
STATUS_INDEX_ATTEMPTS = 5


class NotComplete(AppError):
    status_code, code = 409, "not_complete"


@dataclass(frozen=True)
class Plan:
    """What will be printed and recorded, decided before rendering."""

    participant_id: int
    country: str
    content: CertificateContent
    override_reason: str | None = None


@dataclass(frozen=True)
class Eligibility:
    completed_at: datetime | None  # the programme's completion, None if not complete
    modules: tuple[ModuleLine, ...]  # the modules she completed, with their hours
    missing: list[str]  # "module:<slug>" and "lesson:<module>/<lesson>" still required
    latest: datetime | None  # her last module completion (what an override dates the certificate by)


@dataclass(frozen=True)
class Prefetched:
    """What planning many women in one transaction reads once for them all (a chunk of a batch), not per woman."""

    minutes: dict[str, tuple[str, int]]  # repository.module_minutes
    progress: dict[int, ProgressOut]
    starts: dict[int, datetime | None]  # repository.enrolment_start of each


def prefetch(session: Session, participant_ids: Sequence[int]) -> Prefetched:
    return Prefetched(minutes=repository.module_minutes(session),
                      progress=progress_service.progress_of_many(session, participant_ids),
                      starts=repository.enrolment_starts(session, participant_ids))


def eligibility(session: Session, participant_id: int, prefetched: Prefetched | None = None) -> Eligibility:
    if prefetched is None:
        progress = progress_service.progress_of(session, participant_id)
        minutes = repository.module_minutes(session)
    else:
        progress, minutes = prefetched.progress[participant_id], prefetched.minutes
    done, missing = [], []
    for module in progress.modules:
        if module.completed_at is not None:
            title, estimated = minutes.get(module.slug, (module.title, 0))
            done.append(ModuleLine(slug=module.slug, title=title, minutes=estimated))
        elif module.required:
            missing.append(f"module:{module.slug}")
            missing += [f"lesson:{module.slug}/{lesson.slug}" for lesson in module.lessons
                        if lesson.required and lesson.completed_at is None]
    completed_at = progress.programme_completed_at  # the enrolment's, as progress_of read it
    if completed_at is None and not missing:
        missing.append("enrolment")  # everything done, but her enrolment is not a completed one (withdrawn)
    latest = max((m.completed_at for m in progress.modules if m.completed_at), default=None)
    return Eligibility(completed_at=completed_at, modules=tuple(done), missing=missing, latest=latest)


def _completion_date(session: Session, participant_id: int, completed_at: datetime, now: datetime,
                     prefetched: Prefetched | None) -> datetime:
    """Never before her enrolment began, never after today (a completion is dated by the event, which a
    device's clock may have put anywhere; the server already caps it at its arrival)."""
    start = repository.enrolment_start(session, participant_id) if prefetched is None else \
        prefetched.starts.get(participant_id)
    if start is not None and completed_at < start:
        completed_at = start
    return min(completed_at, now)


def plan_issue(session: Session, settings: Settings, participant: Participant, override_reason: str | None,
               prefetched: Prefetched | None = None) -> Plan:
    """``prefetched``: her reads, made with those of the other women planned in the same transaction."""
    found = eligibility(session, participant.id, prefetched)
    now = utcnow()
    if found.completed_at is None:
        if override_reason is None:
            raise NotComplete(reasons=found.missing)
        completed_at = found.latest or now
    else:
        completed_at = found.completed_at
    code = codes.new_code()
    content = CertificateContent(
        code=code, holder_name=participant.full_name, country=participant.country_code, modules=found.modules,
        completed_at=_completion_date(session, participant.id, completed_at, now, prefetched), issued_at=now,
        verify_url=verify_url(settings.public_base_url, code),
    )
    return Plan(participant_id=participant.id, country=participant.country_code, content=content,
                override_reason=override_reason if found.completed_at is None else None)


def _certificate(plan: Plan, pdf_sha256: str, actor: Principal | None, job_id: int | None,
                 status_list_index: int) -> Certificate:
    content = plan.content
    return Certificate(
        code=content.code, participant_id=plan.participant_id, country=plan.country,
        status=CertificateStatus.ISSUED, holder_name=content.holder_name,
        modules=[{"slug": m.slug, "title": m.title, "minutes": m.minutes} for m in content.modules],
        total_minutes=content.total_minutes, completed_at=content.completed_at, issued_at=content.issued_at,
        pdf_sha256=pdf_sha256, issued_by_id=actor.user_id if actor else None,
        override_reason=plan.override_reason, job_id=job_id, status_list_index=status_list_index,
    )


def _audit_issued(session: Session, actor: Principal | None, plan: Plan, certificate: Certificate,
                  job_id: int | None) -> None:
    audit.record(session, actor, "certificate.issued", "certificate", certificate.id, country=plan.country,
                 participant_id=plan.participant_id, job_id=job_id,
                 **({"override_reason": plan.override_reason} if plan.override_reason else {}))


def record(session: Session, storage: Storage, plan: Plan, pdf_sha256: str, actor: Principal | None,
           job_id: int | None = None) -> tuple[Certificate, bool]:
    """Insert the certificate (its PDF already stored), or find the one that won the race: (certificate, new?)."""
    for attempt in range(STATUS_INDEX_ATTEMPTS):
        certificate = _certificate(plan, pdf_sha256, actor, job_id, repository.free_status_index(session))
        try:
            with session.begin_nested():
                session.add(certificate)
                session.flush()
            break
        except IntegrityError:
            existing = repository.issued_of(session, plan.participant_id)
            if existing is not None:
                return existing, False
            # another issuer drew the same status list position at the same moment: draw again
            if attempt + 1 == STATUS_INDEX_ATTEMPTS or not repository.status_index_taken(
                    session, certificate.status_list_index):
                raise
    _audit_issued(session, actor, plan, certificate, job_id)
    return certificate, True


def record_many(session: Session, storage: Storage, stored: list[tuple[Plan, str]], job_id: int | None) -> None:
    """A batch's certificates (their PDFs already stored) in one insert, under one savepoint: a few statements
    for the lot rather than six for each. If one of them loses a race (another issuer certified her first, or
    took the same status list position), the savepoint undoes them all and each is recorded on its own."""
    indexes = repository.free_status_indexes(session, len(stored))
    certificates = [_certificate(plan, sha, None, job_id, index) for (plan, sha), index in zip(stored, indexes,
                                                                                              strict=True)]
    try:
        with session.begin_nested():
            session.add_all(certificates)
            session.flush()
    except IntegrityError:
        for plan, sha in stored:
            record(session, storage, plan, sha, None, job_id=job_id)
        return
    for (plan, _), certificate in zip(stored, certificates, strict=True):
        _audit_issued(session, None, plan, certificate, job_id)


def issue(session: Session, factory: sessionmaker[Session], settings: Settings, storage: Storage,
          actor: Principal, participant_id: int, override_reason: str | None,
          render: Renderer = render_pdf) -> tuple[Certificate, bool]:
    with short_session(factory) as read:
        participant = read.get(Participant, participant_id)
        if participant is None:
            raise NotFound()
        existing = repository.issued_of(read, participant_id)
        if existing is not None:
            return existing, False
        plan = plan_issue(read, settings, participant, override_reason)
    sha = storage.put(render(plan.content))  # the file before the row that names it
    return record(session, storage, plan, sha, actor)


def revoke(session: Session, actor: Principal, certificate_id: int, reason: RevokeReason,
           note: str | None) -> Certificate:
    certificate = session.get(Certificate, certificate_id)
    if certificate is None:
        raise NotFound()
    if not repository.change_status(session, certificate_id, CertificateStatus.ISSUED,
                                    status=CertificateStatus.REVOKED, revoked_at=utcnow(), revoke_reason=reason,
                                    revoke_note=note):
        raise Conflict("certificate_not_issued")
    session.refresh(certificate)
    audit.record(session, actor, "certificate.revoked", "certificate", certificate.id, country=certificate.country,
                 reason=reason.value, **({"note": note} if note else {}))
    return certificate


def reissue(session: Session, factory: sessionmaker[Session], settings: Settings, storage: Storage,
            actor: Principal, certificate_id: int, reason: str, render: Renderer = render_pdf) -> Certificate:
    """A new certificate with her current name (a rectification) and a new code; the old one is superseded and
    says so when verified, without pointing to the new one."""
    with short_session(factory) as read:
        old = read.get(Certificate, certificate_id)
        if old is None:
            raise NotFound()
        if old.status is not CertificateStatus.ISSUED:
            raise Conflict("certificate_not_issued")
        participant = read.get_one(Participant, old.participant_id)
        code = codes.new_code()
        now = utcnow()
        content = CertificateContent(
            code=code, holder_name=participant.full_name, country=old.country,
            modules=tuple(ModuleLine(**m) for m in old.modules), completed_at=old.completed_at, issued_at=now,
            verify_url=verify_url(settings.public_base_url, code),
        )
        plan = Plan(participant_id=old.participant_id, country=old.country, content=content,
                    override_reason=old.override_reason)
    sha = storage.put(render(plan.content))
    # the old one stops being the issued one first: the partial unique index admits the new one only then
    if not repository.change_status(session, certificate_id, CertificateStatus.ISSUED,
                                    status=CertificateStatus.SUPERSEDED, superseded_at=now):
        raise Conflict("certificate_not_issued")
    new, created = record(session, storage, plan, sha, actor)
    if not created:  # another reissue won between our read and our update; cannot happen past the update above
        raise Conflict("certificate_not_issued")
    superseded = session.get_one(Certificate, certificate_id)
    session.refresh(superseded)
    superseded.superseded_by_id = new.id
    audit.record(session, actor, "certificate.reissued", "certificate", new.id, country=new.country,
                 reason=reason, superseded_id=certificate_id)
    session.flush()
    return new


def issued_out(settings: Settings, certificate: Certificate) -> IssuedOut:
    return IssuedOut(id=certificate.id, code=codes.formatted(certificate.code), status=certificate.status,
                     verify_url=verify_url(settings.public_base_url, certificate.code))


def certificate_out(settings: Settings, c: Certificate) -> CertificateOut:
    return CertificateOut(
        id=c.id, code=codes.formatted(c.code), status=c.status, participant_id=c.participant_id,
        country=c.country,
        holder_name=c.holder_name, modules=[ModuleOut(**m) for m in c.modules], total_minutes=c.total_minutes,
        completed_at=c.completed_at, issued_at=c.issued_at, verify_url=verify_url(settings.public_base_url, c.code),
        revoked_at=c.revoked_at, revoke_reason=c.revoke_reason, superseded_at=c.superseded_at,
        superseded_by_id=c.superseded_by_id,
    )


def list_certificates(session: Session, principal: Principal, page: PageParams, country: str | None,
                      status: CertificateStatus | None) -> tuple[list[Certificate], int]:
    stmt = repository.readable_certificates(principal)
    if country:
        stmt = stmt.where(Certificate.country == country)
    if status:
        stmt = stmt.where(Certificate.status == status)
    total = count(session, stmt)
    items = session.scalars(stmt.order_by(Certificate.id.desc()).limit(page.limit).offset(page.offset)).all()
    return list(items), total


def mine(session: Session, settings: Settings, participant_id: int) -> list[MyCertificateOut]:
    rows = session.scalars(select(Certificate).where(Certificate.participant_id == participant_id)
                           .order_by(Certificate.id.desc())).all()
    return [MyCertificateOut(id=c.id, code=codes.formatted(c.code), status=c.status, issued_at=c.issued_at,
                             verify_url=verify_url(settings.public_base_url, c.code)) for c in rows]


def count_verification(factory: sessionmaker[Session], settings: Settings, address: str) -> None:
    """Guessing codes is hopeless (100 bits), but a scraper of the page should still be slowed down."""
    take(factory, [Limit(f"verify:{address}", settings.verification_rate_limit,
                         timedelta(minutes=settings.throttle_window_minutes))])


def verify(session: Session, code_text: str) -> VerificationOut:
    code = codes.normalise(code_text)
    certificate = repository.by_code(session, code) if code else None
    if certificate is None:
        raise NotFound()
    status = {CertificateStatus.ISSUED: "valid", CertificateStatus.REVOKED: "revoked",
              CertificateStatus.SUPERSEDED: "superseded"}[certificate.status]
    return VerificationOut(
        status=status,
        code=codes.formatted(certificate.code), holder_name=certificate.holder_name, programme=PROGRAMME,
        country=certificate.country,
        modules=[ModuleOut(**m) for m in certificate.modules], total_minutes=certificate.total_minutes,
        completed_at=certificate.completed_at, issued_at=certificate.issued_at, revoked_at=certificate.revoked_at,
        revoke_reason=certificate.revoke_reason, superseded_at=certificate.superseded_at,
    )
