import json
import math
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response

from app.audit import service as audit
from app.auth.dependencies import CurrentUser
from app.content.dependencies import Learner
from app.core.db import SessionDep
from app.core.edge import is_bad_text
from app.core.errors import BadRequest, PayloadTooLarge, error_responses, localised
from app.core.i18n import EVENT_REASONS, request_locale, translate
from app.core.openapi import json_request_body
from app.core.pagination import MAX_ID
from app.enrolment import repository as enrolment_repository
from app.enrolment import service as enrolment_service
from app.progress import service
from app.progress.schemas import EventsIn, EventsOut, ProgressOut

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


@router.post("/progress/events", response_model=EventsOut, openapi_extra=_EVENTS_BODY,
             responses=error_responses(400, 401, 403, 413))
def record_events(envelope: EnvelopeDep, learner: Learner, session: SessionDep, request: Request,
                  response: Response) -> EventsOut:
    """The one write path for progress, online and offline: one result per event, in order."""
    assert learner.participant_id is not None
    results = service.record_events(session, learner.participant_id, envelope.events, envelope.device_id)
    locale = request_locale(request)
    response.headers.update(localised(locale))
    return EventsOut(results=[
        r.model_copy(update={"detail": translate(r.reason, locale, EVENT_REASONS)}) if r.reason else r
        for r in results
    ])


@router.post("/progress/import", response_model=EventsOut, openapi_extra=_EVENTS_BODY,
             responses=error_responses(400, 401, 403, 409, 413))
def import_progress(envelope: EnvelopeDep, learner: Learner, session: SessionDep, request: Request,
                    response: Response) -> EventsOut:
    """An exported ``progreso.json`` from the offline reader: the same events, the same rules and results. A file
    naming another woman (a shared phone, the wrong file picked) is refused as on her coordinator's route; a file
    without a username (events as ``/progress/events`` takes them) is hers, since it comes with her token."""
    if envelope.username is not None:
        service.check_file_is_hers(session, learner.user_id, envelope.username)
    return record_events(envelope, learner, session, request, response)


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
    return EventsOut(results=[
        r.model_copy(update={"detail": translate(r.reason, locale, EVENT_REASONS)}) if r.reason else r
        for r in results
    ])


@router.get("/me/progress", response_model=ProgressOut, responses=error_responses(401, 403))
def my_progress(session: SessionDep, learner: Learner) -> ProgressOut:
    assert learner.participant_id is not None
    return service.progress_of(session, learner.participant_id)


@router.get("/participants/{participant_id}/progress", response_model=ProgressOut,
            responses=error_responses(401, 404, 422))
def participant_progress(session: SessionDep, principal: CurrentUser, participant_id: ParticipantId) -> ProgressOut:
    participant = enrolment_repository.get_readable_participant(session, principal, participant_id)
    enrolment_service.record_view(session, principal, participant)
    return service.progress_of(session, participant.id)
