import json
import math
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session, sessionmaker

from app.audit import service as audit
from app.auth.dependencies import BearerToken, CurrentUser
from app.auth.principal import authenticate_in
from app.content.dependencies import check_learner
from app.core.bad_input import is_bad_text
from app.core.db import group_commit, in_one_thread, unit_of_work
from app.core.dependencies import SessionDep, SessionFactoryDep
from app.core.errors import BadRequest, PayloadTooLarge, error_responses, localised
from app.core.i18n import EVENT_REASONS, Locale, request_locale, translate
from app.core.openapi import json_request_body
from app.core.pagination import MAX_ID
from app.enrolment import repository as enrolment_repository
from app.enrolment import service as enrolment_service
from app.progress import service
from app.progress.schemas import EventResult, EventsIn, EventsOut, ProgressOut

router = APIRouter(tags=["progress"])
ParticipantId = Annotated[int, Path(ge=1, le=MAX_ID)]

_EVENTS_BODY = json_request_body(EventsIn)


@dataclass(frozen=True)
class Envelope:
    events: list[Any]
    device_id: str | None
    username: str | None  # whose progreso.json this is (the reader writes it)


async def read_envelope(request: Request) -> Envelope:
    """The envelope is checked as a whole (JSON, an object with a list, at most 500 events and 1 MB);
    each event is then checked on its own by the service."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > service.MAX_BODY_BYTES:
        raise PayloadTooLarge()
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > service.MAX_BODY_BYTES:
            raise PayloadTooLarge()
    try:
        # NaN, Infinity (and 1e400) parse as floats, an integer past Python's digit limit as infinity: the one
        # event holding them is rejected by the service, not the whole batch
        data = json.loads(body, parse_int=_parse_int)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise BadRequest("invalid_json") from exc
    if not isinstance(data, dict) or not isinstance(data.get("events"), list):
        raise BadRequest("events_list_required")
    if len(data["events"]) > service.MAX_EVENTS:
        raise PayloadTooLarge("too_many_events")
    device_id = data.get("device_id")
    if device_id is not None and (not isinstance(device_id, str) or len(device_id) > 100 or is_bad_text(device_id)):
        raise BadRequest("invalid_device_id")
    username = data.get("username")
    if username is not None and (not isinstance(username, str) or len(username) > 254 or is_bad_text(username)):
        raise BadRequest("invalid_username")
    return Envelope(events=data["events"], device_id=device_id, username=username)


def _parse_int(text: str) -> int | float:
    try:
        return int(text)
    except ValueError:
        return math.inf


# Declared FIRST in each route: the body is read (over 2G, for seconds) before authentication takes a connection
# and before SessionDep takes one of the few units of work, so slow uploads never hold what others need.
EnvelopeDep = Annotated[Envelope, Depends(read_envelope)]


def _json(model: BaseModel, headers: dict[str, str] | None = None) -> Response:
    # what FastAPI's response_model serialisation gives, serialised in the unit's own thread
    return Response(model.model_dump_json(), media_type="application/json", headers=headers)


async def _record_her_events(envelope: Envelope, token: str | None, factory: sessionmaker[Session],
                             request: Request, file_of: str | None = None) -> Response:
    """A participant's own sync. The hot path of the whole service: authentication, the checks, the writes and the
    commit in one hop to a worker thread (as dependencies they were five hops and two sessions)."""
    locale = request_locale(request)

    def check(session: Session) -> service.Batch:
        learner = check_learner(authenticate_in(session, token))
        assert learner.participant_id is not None
        if file_of is not None:
            service.check_file_is_hers(session, learner.user_id, file_of)
        return service.prepare_events(session, learner.participant_id, envelope.events, envelope.device_id,
                                      seat_since=learner.seat_since)

    def work() -> Response:
        grouped = group_commit(factory)
        if grouped is None:  # PostgreSQL: the checks and the writes are one transaction
            with unit_of_work(factory) as session:
                results = service.store_events(session, check(session))
        else:
            # SQLite: the checks only read (DEFERRED: they never wait for the writer), the writes are committed
            # with those of the syncs queued beside this one
            with unit_of_work(factory, read_only=True) as session:
                batch = check(session)
            results = grouped.run(lambda session: service.store_events(session, batch))
        return _json(_localised_results(results, locale), localised(locale))

    return await in_one_thread(factory, work, writes=True)


def _localised_results(results: list[EventResult], locale: Locale) -> EventsOut:
    return EventsOut(results=[
        r.model_copy(update={"detail": translate(r.reason, locale, EVENT_REASONS)}) if r.reason else r
        for r in results
    ])


@router.post("/progress/events", response_model=EventsOut, openapi_extra=_EVENTS_BODY,
             responses=error_responses(400, 401, 403, 413))
async def record_events(envelope: EnvelopeDep, token: BearerToken, factory: SessionFactoryDep,
                        request: Request) -> Response:
    """The one write path for progress, online and offline: one result per event, in order."""
    return await _record_her_events(envelope, token, factory, request)


@router.post("/progress/import", response_model=EventsOut, openapi_extra=_EVENTS_BODY,
             responses=error_responses(400, 401, 403, 409, 413))
async def import_progress(envelope: EnvelopeDep, token: BearerToken, factory: SessionFactoryDep,
                          request: Request) -> Response:
    """An exported ``progreso.json`` from the offline reader: the same events, the same rules and results. A file
    naming another woman (a shared phone, the wrong file picked) is refused as on her coordinator's route; a file
    without a username (events as ``/progress/events`` takes them) is hers, since it comes with her token."""
    return await _record_her_events(envelope, token, factory, request, file_of=envelope.username)


@router.post("/participants/{participant_id}/progress/import", response_model=EventsOut, openapi_extra=_EVENTS_BODY,
             responses=error_responses(400, 401, 403, 404, 409, 413, 422))
def import_progress_for(envelope: EnvelopeDep, principal: CurrentUser, session: SessionDep,
                        participant_id: ParticipantId, request: Request, response: Response) -> EventsOut:
    """Her coordinator uploads a woman's ``progreso.json`` (she could not connect for weeks): the same rules and
    results as her own sync; a file of another woman is refused; audited."""
    participant = service.import_for(session, principal, participant_id, envelope.username)
    results = service.record_events(session, participant.id, envelope.events, envelope.device_id)
    audit.record(session, principal, "progress.imported", "participant", participant.id,
                 country=participant.country_code, events=len(results),
                 accepted=sum(r.status == "accepted" for r in results))
    locale = request_locale(request)
    response.headers.update(localised(locale))
    return _localised_results(results, locale)


@router.get("/me/progress", response_model=ProgressOut, responses=error_responses(401, 403))
async def my_progress(token: BearerToken, factory: SessionFactoryDep) -> Response:
    # asked by every reader page: one read-only unit of work (deferred on SQLite: never waits for the writer
    # lock), authentication included, in one hop to a worker thread

    def work() -> Response:
        with unit_of_work(factory, read_only=True) as session:
            progress = service.progress_of_learner(session, check_learner(authenticate_in(session, token)))
        return _json(progress)

    return await in_one_thread(factory, work, writes=False)


@router.get("/participants/{participant_id}/progress", response_model=ProgressOut,
            responses=error_responses(401, 404, 422))
def participant_progress(session: SessionDep, principal: CurrentUser, participant_id: ParticipantId) -> ProgressOut:
    participant = enrolment_repository.get_readable_participant(session, principal, participant_id)
    enrolment_service.record_view(session, principal, participant)
    return service.progress_of(session, participant.id)
