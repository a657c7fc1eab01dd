"""Receiving a spreadsheet: a multipart form's ``file`` field, or the file itself as the body (``text/csv`` or
the XLSX media type), never more than 10 MB read.

The route reads its body itself (it declares none to FastAPI), so that neither FastAPI nor the app-wide checks
parse a form of any size first: a declared Content-Length past the limit is refused before reading anything,
and the stream is cut off as soon as it passes the limit (a chunked body, or one that lies about its length).
"""

from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request
from starlette.datastructures import UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from app.enrolment.errors import FileTooLarge, NotASpreadsheet, NotASpreadsheetType
from app.enrolment.spreadsheet import MAX_BYTES, XLSX_MEDIA_TYPE

RAW_TYPES = ("text/csv", XLSX_MEDIA_TYPE)
_ENVELOPE = 64 * 1024  # a multipart form's boundaries and part headers around the file

_BINARY = {"type": "string", "format": "binary"}
# for openapi_extra: the body the route reads itself
REQUEST_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {
    "multipart/form-data": {"schema": {
        "type": "object", "required": ["file"],
        "properties": {"file": {**_BINARY, "description": "La planilla: CSV (UTF-8, `,` o `;`) o XLSX, 10 MB como "
                                                          "máximo"}},
    }},
    "text/csv": {"schema": _BINARY},
    XLSX_MEDIA_TYPE: {"schema": _BINARY},
}}}


@dataclass(frozen=True)
class Upload:
    data: bytes
    # a form's other text fields (a page's CSRF token, for the dashboard's form)
    fields: dict[str, str] = field(default_factory=dict)


async def _capped(stream: AsyncIterator[bytes], limit: int) -> AsyncGenerator[bytes, None]:
    received = 0
    async for chunk in stream:
        received += len(chunk)
        if received > limit:
            raise FileTooLarge()
        yield chunk


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def read_upload(request: Request) -> Upload:
    media_type = _media_type(request)
    if media_type != "multipart/form-data" and media_type not in RAW_TYPES:
        raise NotASpreadsheetType()
    limit = MAX_BYTES + (_ENVELOPE if media_type == "multipart/form-data" else 0)
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise FileTooLarge()
    stream = _capped(request.stream(), limit)
    if media_type != "multipart/form-data":
        return Upload(data=b"".join([chunk async for chunk in stream]))
    # the parser spools a file past 1 MB to a temporary file, not to memory
    parser = MultiPartParser(request.headers, stream, max_files=1, max_fields=10)
    try:
        form = await parser.parse()
    except MultiPartException:
        raise NotASpreadsheet("file_field_required") from None
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile):  # missing, or sent as a text field
            raise NotASpreadsheet("file_field_required")
        data = await file.read(MAX_BYTES + 1)
        if len(data) > MAX_BYTES:
            raise FileTooLarge()
        return Upload(data=data, fields={key: value for key, value in form.multi_items() if isinstance(value, str)})
    finally:
        await form.close()
