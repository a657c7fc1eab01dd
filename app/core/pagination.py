from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session


class PageParams(BaseModel):
    limit: int
    offset: int


T = TypeVar("T")


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int

    @classmethod
    def model_parametrized_name(cls, params: tuple[Any, ...]) -> str:
        """``EnrolmentPage``, not ``Page_EnrolmentOut_``: the name generated clients give the class."""
        return str(getattr(params[0], "__name__", "Item")).removesuffix("Out") + "Page"


def count(session: Session, stmt: Select[*tuple[Any, ...]]) -> int:
    return session.scalar(select(func.count()).select_from(stmt.order_by(None).subquery())) or 0


# Path ids are bounded so that no number reaches the database outside its integer range.
MAX_ID = 2_147_483_647
