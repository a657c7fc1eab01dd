"""Logging in and out, activation codes, staff accounts, and the caller's own profile.

Password hashing and verification (~0.1 s each) happen outside the request's write transaction: the reads they
need go through a short session of their own, and the request session is only touched afterwards.
"""

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from app.audit import service as audit
from app.auth import repository
from app.auth.errors import InvalidActivationCode
from app.auth.principal import Principal
from app.auth.schemas import ActivationCodeOut, MeEnrolment, MeOut, TokenOut, UserCreate, UserUpdate
from app.core.base import utcnow
from app.core.config import Settings
from app.core.db import short_session
from app.core.errors import BadRequest, Conflict, InvalidCredentials, InvalidInput, NotFound
from app.core.security import (
    digest,
    hash_password,
    new_activation_code,
    new_token,
    normalise_code,
    verify_password,
)
from app.guards import throttle
from app.models import AccessToken, ActivationCode, Participant, Role, User


def _window(settings: Settings) -> timedelta:
    return timedelta(minutes=settings.throttle_window_minutes)


def _password_limits(settings: Settings, account: str, address: str) -> tuple[throttle.Limit, list[throttle.Limit]]:
    """The limits on guessing an account's password, by logging in or by changing it; first the one of the
    account from this address, which a success clears."""
    window = _window(settings)
    # Per account *and* address: anyone can type a participant code, so a per-account lock alone would let
    # one person lock out all 200 women; the owner logging in from her own phone is not held back by guesses
    # from elsewhere. The higher cap per account bounds guesses spread over many addresses.
    own_address = throttle.Limit(f"login:account:{account}:{address}", settings.login_failures_per_account, window,
                                 "account")
    return own_address, [
        throttle.Limit(f"login:address:{address}", settings.login_failures_per_address, window, "address"),
        own_address,
        throttle.Limit(f"login:account:{account}", settings.login_failures_per_account_total, window,
                       "account_total"),
    ]


def login(
    session: Session, factory: sessionmaker[Session], settings: Settings, username: str, password: str,
    address: str,
) -> TokenOut:
    with short_session(factory) as reader:
        user = repository.find_by_username(reader, username.strip())
        user_id, stored_hash, active = (user.id, user.password_hash, user.active) if user else (None, None, False)
    # one count per account, whether she types her email or her participant code; an unknown name is hashed,
    # so that any length fits the key column
    account = str(user_id) if user_id is not None else f"unknown:{digest(username.strip().lower())}"
    own_address, limits = _password_limits(settings, account, address)
    hits = throttle.take(factory, limits)
    # an unknown username is checked against a dummy hash: it costs the same time as a wrong password
    if not verify_password(settings, password, stored_hash) or not active or user_id is None:
        raise InvalidCredentials("invalid_credentials")
    throttle.forgive(session, hits)
    throttle.clear(session, own_address.key)
    return issue_token(session, settings, user_id)


def issue_token(session: Session, settings: Settings, user_id: int) -> TokenOut:
    token = new_token()
    lifetime = timedelta(minutes=settings.token_lifetime_minutes)
    session.add(AccessToken(user_id=user_id, token_hash=digest(token), expires_at=utcnow() + lifetime))
    session.flush()
    return TokenOut(access_token=token, expires_in=int(lifetime.total_seconds()))


def logout(session: Session, principal: Principal) -> None:
    token = session.get(AccessToken, principal.token_id)
    if token is not None and token.revoked_at is None:
        token.revoked_at = utcnow()


def activate(
    session: Session, factory: sessionmaker[Session], settings: Settings, code: str, password: str, address: str
) -> str:
    hits = throttle.take(factory, [throttle.Limit(
        f"activate:address:{address}", settings.activation_failures_per_address, _window(settings))])
    code_hash = digest(normalise_code(code))
    with short_session(factory) as reader:
        found = repository.find_usable_code(reader, code_hash, utcnow())
        code_id, user_id = (found.id, found.user_id) if found else (None, None)
    if code_id is None or user_id is None:
        raise InvalidActivationCode()
    password_hash = hash_password(settings, password)
    if not repository.claim_code(session, code_id, utcnow()):
        raise InvalidActivationCode()
    throttle.forgive(session, hits)
    set_password(session, user_id, password_hash)
    audit.record(session, user_id, "account.activated", "user", user_id,
                 country=session.get_one(User, user_id).country_code)
    return session.get_one(User, user_id).username


def change_password(
    session: Session, factory: sessionmaker[Session], settings: Settings, principal: Principal,
    current_password: str, new_password: str, address: str,
) -> TokenOut:
    """She chooses a new password, knowing the current one. A wrong one counts as a failed login of her
    account: a stolen token must not be a way around the login throttle. Every other session of hers ends;
    the calling device gets a new token, so she stays logged in there."""
    own_address, limits = _password_limits(settings, str(principal.user_id), address)
    hits = throttle.take(factory, limits)
    with short_session(factory) as reader:
        stored_hash = reader.scalar(select(User.password_hash).where(User.id == principal.user_id))
    if not verify_password(settings, current_password, stored_hash):
        raise BadRequest("wrong_password")
    password_hash = hash_password(settings, new_password)
    # only now does the request's transaction begin: the two slow hashes never held the write lock
    throttle.forgive(session, hits)
    throttle.clear(session, own_address.key)
    set_password(session, principal.user_id, password_hash)
    user = session.get_one(User, principal.user_id)
    audit.record(session, principal, "account.password_changed", "user", user.id, country=user.country_code)
    return issue_token(session, settings, user.id)


def new_staff_activation_code(
    session: Session, settings: Settings, principal: Principal, user_id: int
) -> ActivationCodeOut:
    """A one-time code with which a coordinator or an admin sets a new password (``POST /auth/activate``), as a
    coordinator gives one to a participant. Her sessions and earlier codes end. Participants are not staff:
    their codes come from ``/participants/{id}/activation-code``, within their coordinator's scope."""
    user = session.get(User, user_id)
    if user is None or user.role is Role.PARTICIPANT:
        raise NotFound()
    repository.retire_activation_codes(session, user.id)
    repository.revoke_tokens(session, user.id)
    out = create_activation_code(session, settings, user.id, principal.user_id)
    audit.record(session, principal, "account.activation_code_issued", "user", user.id, country=user.country_code)
    return out


def set_password(session: Session, user_id: int, password_hash: str) -> None:
    """A new password: the sessions opened with the old one end, and no activation code can reset it again."""
    session.get_one(User, user_id).password_hash = password_hash
    repository.revoke_tokens(session, user_id)
    repository.retire_activation_codes(session, user_id)


def create_activation_code(
    session: Session, settings: Settings, user_id: int, created_by_id: int | None
) -> ActivationCodeOut:
    code = new_activation_code()
    expires_at = utcnow() + timedelta(days=settings.activation_code_lifetime_days)
    session.add(ActivationCode(user_id=user_id, code_hash=digest(normalise_code(code)), expires_at=expires_at,
                               created_by_id=created_by_id))
    session.flush()
    return ActivationCodeOut(activation_code=code, expires_at=expires_at)


def me(session: Session, principal: Principal) -> MeOut:
    user = session.get_one(User, principal.user_id)
    enrolment = None
    full_name = user.full_name
    if principal.participant_id is not None:
        participant = session.get_one(Participant, principal.participant_id)
        full_name = participant.full_name
        latest = repository.latest_enrolment(session, principal.participant_id)
        if latest is not None:
            enrolment = MeEnrolment(id=latest.id, status=latest.status,
                                    waitlist_position=latest.waitlist_position)
    return MeOut(id=user.id, username=user.username, role=user.role, country=user.country_code,
                 full_name=full_name, locale=user.locale, participant_id=principal.participant_id,
                 enrolment=enrolment)


def _check_role_country(role: Role, country: str | None) -> None:
    if role is Role.COORDINATOR and country is None:
        raise InvalidInput("country", "coordinator_needs_country")
    if role is Role.ADMIN and country is not None:
        raise InvalidInput("country", "admin_has_no_country")


def create_user(session: Session, principal: Principal | None, body: UserCreate, password_hash: str) -> User:
    _check_role_country(body.role, body.country)
    email = body.email.lower()
    if session.scalar(select(User.id).where(User.email == email)) is not None:
        raise Conflict("email_taken")
    user = User(role=body.role, country_code=body.country, email=email, password_hash=password_hash,
                full_name=body.full_name)
    session.add(user)
    try:
        session.flush()
    except IntegrityError as exc:  # the same email created at the same moment by another request
        raise Conflict("email_taken") from exc
    audit.record(session, principal, "user.created", "user", user.id, country=user.country_code,
                 role=user.role.value)
    return user


def update_user(session: Session, principal: Principal, user_id: int, body: UserUpdate) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound()
    changes = body.model_dump(exclude_unset=True)
    if user.role is Role.PARTICIPANT and ({"role", "country"} & changes.keys()):
        raise InvalidInput("role" if "role" in changes else "country", "cannot_change_participant_role")
    new_role = body.role if "role" in changes and body.role is not None else user.role
    new_country = changes["country"] if "country" in changes else user.country_code
    if new_role is Role.ADMIN and "country" not in changes:
        new_country = None
    if user.role is not Role.PARTICIPANT:
        _check_role_country(new_role, new_country)
    security_changed = (new_role, new_country) != (user.role, user.country_code) or (
        body.active is not None and body.active != user.active
    )
    stays_admin = new_role is Role.ADMIN and (user.active if body.active is None else body.active)
    if user.role is Role.ADMIN and user.active and not stays_admin and not repository.other_active_admins(
            session, user.id):
        raise Conflict("last_admin")  # nobody could manage the programme any more
    user.role, user.country_code = new_role, new_country
    if body.active is not None:
        user.active = body.active
    if body.full_name is not None:
        user.full_name = body.full_name
    if security_changed:
        repository.revoke_tokens(session, user.id)
    audit.record(session, principal, "user.updated", "user", user.id, country=user.country_code,
                 changes={k: (v.value if isinstance(v, Role) else v) for k, v in changes.items()})
    session.flush()
    return user
