"""Log lines carrying the request id (JSON in production, readable in development), and the middleware that
assigns it."""

import json
import logging
import random
import re
import time
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # types only: the job worker logs through this module, and imports no Starlette
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

request_id_var: ContextVar[str | None] = ContextVar("request_id", default=None)
_ids = random.Random()
_VALID_INCOMING_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
access_logger = logging.getLogger("caminos.access")


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S%z"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": request_id_var.get(),
        }
        line.update(getattr(record, "fields", {}))
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class ReadableFormatter(logging.Formatter):
    """One line for a person at a terminal: ``21:14:16 INFO  GET /api/v1/me 200 3.1 ms [a1b2c3d4]``."""

    def format(self, record: logging.LogRecord) -> str:
        fields = dict(getattr(record, "fields", {}))
        if record.name == access_logger.name and "method" in fields:
            text = f"{fields.pop('method')} {fields.pop('path')} {fields.pop('status')} {fields.pop('ms')} ms"
        else:
            text = record.getMessage()
        extra = " ".join(f"{k}={v}" for k, v in fields.items())
        request_id = request_id_var.get()
        line = (f"{self.formatTime(record, '%H:%M:%S')} {record.levelname:<5} {text}"
                f"{' ' + extra if extra else ''}{f' [{request_id[:8]}]' if request_id else ''}")
        if record.exc_info:
            line += "\n" + self.formatException(record.exc_info)
        return line


def configure_logging(json_lines: bool) -> None:
    handler = logging.StreamHandler()
    handler.setFormatter(JsonFormatter() if json_lines else ReadableFormatter())
    root = logging.getLogger("caminos")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False


class RequestIdMiddleware:
    """Pure ASGI (no BaseHTTPMiddleware): sets ``X-Request-ID`` and logs one access line per request."""

    def __init__(self, app: "ASGIApp") -> None:
        self.app = app

    async def __call__(self, scope: "Scope", receive: "Receive", send: "Send") -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")
        # a label for the logs, not a secret: no call to the system's random source (uuid4 made one per request,
        # and each gives up the GIL to threads that then must hand it back)
        request_id = incoming if _VALID_INCOMING_ID.match(incoming) else f"{_ids.getrandbits(128):032x}"
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: "Message") -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            access_logger.info(
                "request",
                extra={"fields": {
                    "method": scope["method"], "path": scope["path"], "status": status,
                    "ms": round((time.perf_counter() - started) * 1000, 1),
                }},
            )
            request_id_var.reset(token)
