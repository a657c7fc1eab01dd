from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from app.core.validation import Email, non_blank
from app.models import EnrolmentStatus, Role


class TokenOut(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int


class ActivateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    code: str = Field(min_length=1, max_length=40)
    password: str = Field(min_length=8, max_length=128)


# the rule of every password a person chooses (also UserCreate's and ActivateIn's lengths)
NewPassword = Annotated[str, Field(min_length=8, max_length=128)]


class PasswordChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    # not held to today's rules: a password set under older ones must still be accepted as the current one
    current_password: Annotated[str, Field(min_length=1, max_length=128)]
    new_password: NewPassword

    @field_validator("new_password")
    @classmethod
    def _changed(cls, value: str, info: ValidationInfo) -> str:
        if value == info.data.get("current_password"):
            raise PydanticCustomError("password_unchanged", "the same password")
        return value


class ActivateOut(BaseModel):
    username: str


class ActivationCodeOut(BaseModel):
    activation_code: str
    expires_at: datetime


class MeEnrolment(BaseModel):
    id: int
    status: EnrolmentStatus
    waitlist_position: int | None


class MeOut(BaseModel):
    id: int
    username: str
    role: Role
    country: Literal["PE", "CL", "CO", "MX"] | None
    full_name: str
    locale: str
    participant_id: int | None
    enrolment: MeEnrolment | None


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Email
    password: str = Field(min_length=8, max_length=128)
    full_name: str = Field(min_length=1, max_length=200)
    role: Literal[Role.COORDINATOR, Role.ADMIN]
    country: Literal["PE", "CL", "CO", "MX"] | None = None

    @field_validator("full_name")
    @classmethod
    def _strip(cls, value: str) -> str:
        return non_blank(value)


class UserUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Literal[Role.COORDINATOR, Role.ADMIN] | None = None
    country: Literal["PE", "CL", "CO", "MX"] | None = None
    active: StrictBool | None = None
    full_name: str | None = Field(default=None, min_length=1, max_length=200)

    @field_validator("full_name")
    @classmethod
    def _strip(cls, value: str | None) -> str | None:
        return None if value is None else non_blank(value)


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    email: str | None
    role: Role
    country: Literal["PE", "CL", "CO", "MX"] | None = Field(validation_alias="country_code")
    full_name: str
    active: bool

