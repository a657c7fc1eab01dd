from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from app.core.base import utcnow
from app.core.validation import Email, IsoDate, Reason, non_blank
from app.enrolment.documents import NORMALISERS
from app.enrolment.geography import CALLING_CODES, DOCUMENT_TYPES, REGIONS, canonical_region
from app.models import EnrolmentStatus
from app.privacy.notice import CURRENT_NOTICE_VERSION

CountryCode = Literal["PE", "CL", "CO", "MX"]
Name = Annotated[str, Field(min_length=1, max_length=100)]


class Document(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["DNI", "RUN", "CC", "CURP"]
    number: str = Field(min_length=1, max_length=30)

    @field_validator("number")
    @classmethod
    def _number(cls, value: str, info: ValidationInfo) -> str:
        # checked here, not on ApplicationIn, so that an error names "document.number"
        kind = info.data.get("type")
        return NORMALISERS[kind](value) if kind in NORMALISERS else value


class Consent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    accepted: StrictBool
    version: str = Field(max_length=20)
    sensitive_data: StrictBool = False

    @field_validator("accepted")
    @classmethod
    def _must_accept(cls, value: bool) -> bool:
        if not value:
            raise PydanticCustomError("consent_required", "consent is required")
        return value

    @field_validator("version")
    @classmethod
    def _current_version(cls, value: str) -> str:
        if value != CURRENT_NOTICE_VERSION:
            raise PydanticCustomError("consent_version", "not the current notice")
        return value


class ApplicationIn(BaseModel):
    """An application. Fields are declared so that those others depend on (country, consent) come first:
    validators of later fields read them from ``info.data`` and report the error on the right field."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    # validated below for a clearer message than an enum's; the schema still lists the codes
    country: str = Field(min_length=2, max_length=2, json_schema_extra={"enum": ["PE", "CL", "CO", "MX"]})
    consent: Consent
    first_name: Name
    last_name: Name
    email: Email | None = Field(default=None, max_length=254)
    phone: str | None = Field(default=None, max_length=20)
    password: str | None = Field(default=None, min_length=8, max_length=128)
    birth_date: IsoDate
    gender: Literal["female", "male", "other"]
    region: str = Field(min_length=1, max_length=80)
    locality: str = Field(min_length=1, max_length=120)
    is_rural: StrictBool
    has_internet: StrictBool
    document: Document | None = None
    ethnicity: str | None = Field(default=None, min_length=1, max_length=100)
    languages: list[Annotated[str, Field(min_length=1, max_length=60)]] | None = Field(default=None, max_length=10)

    @field_validator("country")
    @classmethod
    def _upper(cls, value: str) -> str:
        if not value.isascii() or not value.isalpha():
            raise PydanticCustomError("country", "unknown country")
        return value.upper()

    @field_validator("first_name", "last_name", "locality")
    @classmethod
    def _names(cls, value: str) -> str:
        return non_blank(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        compact = "".join(ch for ch in value if ch not in " -().")
        if not (compact.startswith("+") and compact[1:].isdigit() and 8 <= len(compact) - 1 <= 15
                and compact[1] != "0"):
            raise PydanticCustomError("phone_format", "E.164")
        calling_code = CALLING_CODES.get(info.data.get("country", ""))
        if calling_code and not compact[1:].startswith(calling_code):
            raise PydanticCustomError("phone_country", "wrong calling code")
        return compact

    @field_validator("birth_date")
    @classmethod
    def _birth_date(cls, value: date) -> date:
        if value > utcnow().date():
            raise PydanticCustomError("birth_date_future", "in the future")
        if value.year < 1900:
            raise PydanticCustomError("birth_date_past", "implausible")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str, info: ValidationInfo) -> str:
        country = info.data.get("country")
        if country in REGIONS:
            canonical = canonical_region(country, value)
            if canonical is None:
                raise PydanticCustomError("region", "not a region of the country")
            return canonical
        return non_blank(value)

    @field_validator("document")
    @classmethod
    def _document(cls, value: Document | None, info: ValidationInfo) -> Document | None:
        if value is None:
            return None
        country = info.data.get("country")
        if country in DOCUMENT_TYPES and DOCUMENT_TYPES[country] != value.type:
            raise PydanticCustomError("document_type_country", "wrong document type")
        return value

    @field_validator("ethnicity", "languages")
    @classmethod
    def _sensitive(cls, value: object, info: ValidationInfo) -> object:
        consent = info.data.get("consent")
        if value is not None and not (consent is not None and consent.sensitive_data):
            raise PydanticCustomError("sensitive_without_consent", "needs sensitive-data consent")
        return value


class ApplicationOut(BaseModel):
    enrolment_id: int
    participant_id: int
    username: str
    status: EnrolmentStatus
    waitlist_position: int | None = None
    activation_code: str | None = None
    activation_code_expires_at: datetime | None = None


class EnrolmentOut(BaseModel):
    id: int
    participant_id: int
    participant_code: str | None
    full_name: str
    country: CountryCode
    region: str
    locality: str
    phone: str | None
    activated: bool = Field(description="Whether she has set her password (else she still needs her activation code)")
    status: EnrolmentStatus
    waitlist_position: int | None
    applied_at: datetime
    enrolled_at: datetime | None
    withdrawn_at: datetime | None
    completed_at: datetime | None
    progress_percent: int = Field(ge=0, le=100, description=(
        "Share of the programme's required lessons she has completed (a completed module counts whole); "
        "100 once the programme is complete"))


EnrolmentSort = Literal["name", "-name", "applied_at", "-applied_at", "progress", "-progress"]


class ParticipantEnrolment(BaseModel):
    id: int
    status: EnrolmentStatus
    waitlist_position: int | None
    applied_at: datetime
    enrolled_at: datetime | None
    withdrawn_at: datetime | None
    completed_at: datetime | None


class DocumentOut(BaseModel):
    type: str
    number: str


class SensitiveOut(BaseModel):
    ethnicity: str | None
    languages: list[str] | None


class ParticipantOut(BaseModel):
    id: int
    first_name: str
    last_name: str
    full_name: str
    birth_date: date
    country: CountryCode
    region: str
    locality: str
    phone: str | None
    document: DocumentOut | None
    participant_code: str | None
    email: str | None
    username: str
    activated: bool
    enrolments: list[ParticipantEnrolment] = Field(description="Hers, the newest first")
    progress_percent: int = Field(ge=0, le=100)
    sensitive: SensitiveOut | None = Field(description=(
        "Ethnicity and languages: only to the participant herself, never to staff (who see them only as "
        "aggregates); null for anyone else"))


class WithdrawIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: Reason


class WithdrawOut(BaseModel):
    id: int
    status: EnrolmentStatus
    promoted_enrolment_id: int | None


class CountryOut(BaseModel):
    code: CountryCode
    name: str
    capacity: int
    enrolled: int
    waitlisted: int
    available: int
    eligible_regions: list[str]
    regions: list[str]
    cohort_start: date | None = None


class CountryUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    capacity: int | None = Field(default=None, ge=0, le=10_000)
    eligible_regions: list[Annotated[str, Field(min_length=1, max_length=80)]] | None = Field(
        default=None, max_length=60)
    cohort_start: IsoDate | None = None


class NotifiedOut(BaseModel):
    id: int
    promoted_at: datetime
    notified_at: datetime


ImportStatus = Literal["enrolled", "waitlisted", "rejected", "possible_duplicate"]


class ImportRowError(BaseModel):
    column: str | None = Field(description="The template's column the reason is about (null: the row as a whole)")
    message: str


class ImportRow(BaseModel):
    row: int = Field(description="The row's number as the spreadsheet shows it (the header is row 1)")
    status: ImportStatus
    error: str | None = Field(default=None, description=(
        "Why a row was not stored: invalid_input, not_eligible, duplicate_application, country_out_of_scope, "
        "possible_duplicate"))
    errors: list[ImportRowError] | None = None
    enrolment_id: int | None = None
    participant_id: int | None = None
    username: str | None = None
    waitlist_position: int | None = None
    activation_code: str | None = Field(default=None, description=(
        "Only in this answer (and a new one if the same import is retried with its Idempotency-Key before she "
        "activates her account): it is never stored in clear"))
    activation_code_expires_at: datetime | None = None


class ImportSummary(BaseModel):
    total: int
    enrolled: int = 0
    waitlisted: int = 0
    rejected: int = 0
    possible_duplicate: int = 0


class ImportReport(BaseModel):
    dry_run: bool = Field(description="true: everything was checked and nothing stored (no ids, no codes)")
    format: Literal["csv", "xlsx"]
    rows: list[ImportRow]
    summary: ImportSummary
