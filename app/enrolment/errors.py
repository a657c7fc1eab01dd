"""Errors of a bulk registration's file as a whole (a broken row is reported in the answer, not raised)."""

from typing import Any

from app.core.errors import AppError


class NotASpreadsheet(AppError):
    status_code, code = 400, "not_a_spreadsheet"


class NotASpreadsheetType(NotASpreadsheet):
    """The body was sent as something other than a form, CSV or XLSX."""

    status_code = 415


class FileTooLarge(AppError):
    status_code, code = 413, "file_too_large"


class SpreadsheetColumns(AppError):
    """422 in the shape of a validation error, one entry per unknown, missing or repeated column."""

    status_code, code = 422, "invalid_input"

    def __init__(self, fields: list[dict[str, Any]]) -> None:
        super().__init__("spreadsheet_columns", fields=fields)
