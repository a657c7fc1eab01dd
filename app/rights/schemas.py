from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from app.certificates.schemas import MyCertificateOut
from app.core.validation import Reason, non_blank
from app.models import EnrolmentStatus, Role


class ConsentWithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    sensitive_data: Literal[True]


class ConsentWithdrawOut(BaseModel):
    sensitive_data: bool
    erased: list[str]


class MeUpdate(BaseModel):
    """What she may correct herself; role, country and status are not hers to change (extra="forbid")."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    first_name: str | None = Field(default=None, min_length=1, max_length=100)
    last_name: str | None = Field(default=None, min_length=1, max_length=100)
    phone: str | None = Field(default=None, max_length=20)
    locale: Literal["es", "en"] | None = None

    @field_validator("first_name", "last_name")
    @classmethod
    def _names(cls, value: str | None) -> str | None:
        return non_blank(value) if value is not None else None


class EraseIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class EraseOut(BaseModel):
    participant_id: int
    withdrawn_enrolment_id: int | None
    promoted_enrolment_id: int | None
    audit_entries_scrubbed: int


class AccountData(BaseModel):
    id: int
    username: str
    role: Role
    email: str | None
    participant_code: str | None
    full_name: str
    locale: str
    country: str | None
    created_at: datetime


class RecordData(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    first_name: str
    last_name: str
    birth_date: date
    gender: str
    country_code: str
    region: str
    locality: str
    is_rural: bool
    has_internet: bool
    phone: str | None
    document_type: str | None
    document_number: str | None
    ethnicity: str | None  # hers: shown to her only
    languages: list[str] | None
    created_at: datetime


class EnrolmentData(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    country_code: str
    status: EnrolmentStatus
    waitlist_position: int | None
    applied_at: datetime
    enrolled_at: datetime | None
    promoted_at: datetime | None
    notified_at: datetime | None
    completed_at: datetime | None
    withdrawn_at: datetime | None
    withdraw_reason: str | None
    channel: str


class ConsentData(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    notice_version: str
    sensitive_data: bool
    channel: str
    accepted_at: datetime


class EventData(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    event_id: str
    type: str
    module: str
    module_version: str
    lesson: str
    occurred_at: datetime
    received_at: datetime
    seconds: int
    score: float | None
    passed: bool | None
    payload: dict[str, Any]
    device_id: str | None


class ViewData(BaseModel):
    at: datetime
    action: str
    viewer_id: int | None
    viewer_name: str | None
    viewer_role: Role | None


class MyData(BaseModel):
    account: AccountData
    record: RecordData | None
    enrolments: list[EnrolmentData]
    consents: list[ConsentData]
    progress_events: list[EventData]
    certificates: list[MyCertificateOut]
    viewed_by: list[ViewData]
