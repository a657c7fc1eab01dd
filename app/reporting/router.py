from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from app.auth.dependencies import RequireStaff
from app.core.dependencies import SessionDep
from app.core.errors import error_responses
from app.reporting import exports, service
from app.reporting.schemas import CountryReport

router = APIRouter(tags=["reports"])
CountryPath = Annotated[str, Path(min_length=2, max_length=2)]
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@router.get("/reports/countries/{code}", response_model=CountryReport, responses=error_responses(401, 403, 404, 422))
def country_report(session: SessionDep, principal: RequireStaff, code: CountryPath) -> CountryReport:
    return service.country_report(session, principal, code)


def _download(body: bytes, media_type: str, filename: str) -> Response:
    return Response(body, media_type=media_type, headers={
        "Content-Disposition": f'attachment; filename="{filename}"', "Cache-Control": "no-store"})


@router.get("/reports/countries/{code}/participants.csv", response_class=Response,
            responses={200: {"content": {"text/csv": {}}}, **error_responses(401, 403, 404, 422)})
def participants_csv(
    session: SessionDep, principal: RequireStaff, code: CountryPath,
    sep: Annotated[Literal[",", ";"], Query(description="Separador; `;` para Excel en español")] = ",",
) -> Response:
    export = exports.participants(session, principal, code, "csv")
    return _download(exports.to_csv(export, sep), "text/csv; charset=utf-8", export.filename)


@router.get("/reports/countries/{code}/participants.xlsx", response_class=Response,
            responses={200: {"content": {XLSX: {}}}, **error_responses(401, 403, 404, 422)})
def participants_xlsx(session: SessionDep, principal: RequireStaff, code: CountryPath) -> Response:
    export = exports.participants(session, principal, code, "xlsx")
    return _download(exports.to_xlsx(export), XLSX, export.filename)
