"""Rendering the dashboard's pages, their headers, and its errors as Spanish pages (the API's JSON errors are
for programs; a coordinator on her phone gets a page she can read and a way back)."""

from collections.abc import Awaitable, Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.core.errors import AppError, Throttled
from app.core.i18n import translate
from app.dashboard.session import LOGIN_PATH, PREFIX, CsrfRefused, LoginRequired, PageUser
from app.dashboard.views import spanish_datetime

HERE = Path(__file__).resolve().parent
CSP = ("default-src 'none'; style-src 'self'; img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; "
       "base-uri 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff",
    # same-origin, not no-referrer: with no-referrer a browser sends "Origin: null" on our own forms' POSTs
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
# every page but the stylesheet names women or belongs to a session: never kept by a browser or a proxy
PAGE_HEADERS = {**SECURITY_HEADERS, "Cache-Control": "no-store", "Content-Language": "es"}

ERRORS = {
    400: ("Solicitud no válida", "La página no pudo leer lo que se envió. Vuelva atrás e intente de nuevo."),
    403: ("Sin permiso", "Esta sección es para las coordinadoras del programa y para la administración."),
    404: ("Página no encontrada", "No existe o no está a su cargo. Revise la dirección o vuelva al inicio."),
    405: ("Acción no permitida", "Esa acción no se puede hacer desde aquí."),
    409: ("No se pudo hacer", "La acción ya no corresponde: actualice la página para ver el estado actual."),
    413: ("Demasiado grande", "Lo que se envió es demasiado grande."),
    415: ("Formato no válido", "Envíe el formulario desde la página del panel."),
    422: ("Datos no válidos", "Revise la dirección o los datos del formulario."),
    429: ("Demasiados intentos", "Espere un momento e intente de nuevo."),
    503: ("No disponible", "El servicio no está disponible en este momento. Intente más tarde."),
}
# what went wrong with a form's file is said as the API says it (in Spanish), with a way back to the form
SAID_AS_IS = frozenset({"file_too_large", "not_a_spreadsheet", "file_field_required", "spreadsheet_columns",
                        "too_many_rows", "idempotency_key_reused", "idempotency_in_progress"})
CSRF_TEXT = ("El formulario venció o no viene de esta página. Vuelva a la página, actualícela e intente de "
             "nuevo.")


@cache
def environment() -> Environment:
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(["html", "j2"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["fecha"] = spanish_datetime
    env.globals["PREFIX"] = PREFIX
    return env


def render(request: Request, template: str, context: dict[str, Any], *, user: PageUser | None = None,
           csrf: str | None = None, status_code: int = 200, headers: dict[str, str] | None = None) -> HTMLResponse:
    values = {"request": request, "user": user, "csrf": csrf, **context}
    html = environment().get_template(template).render(values)
    return HTMLResponse(html, status_code=status_code, headers={**PAGE_HEADERS, **(headers or {})})


def error_page(request: Request, status_code: int, text: str | None = None,
               headers: dict[str, str] | None = None, *, details: list[str] | None = None,
               back: str | None = None) -> HTMLResponse:
    title, explanation = ERRORS.get(status_code, ERRORS[400])
    return render(request, "error.html.j2", {"title": title, "explanation": text or explanation,
                                             "details": details or [], "back": back},
                  status_code=status_code, headers=headers)


def login_redirect(next_path: str) -> RedirectResponse:
    target = LOGIN_PATH if next_path in (PREFIX, PREFIX + "/") else f"{LOGIN_PATH}?next={quote(next_path, safe='/')}"
    return RedirectResponse(target, status_code=303, headers=PAGE_HEADERS)


Handler = Callable[[Request, Exception], Response | Awaitable[Response]]


def install_page_errors(app: FastAPI) -> None:
    """Errors under /coordinacion become pages; everywhere else they stay the API's JSON (the handlers the app
    already has are called)."""
    api_handlers: dict[Any, Handler] = dict(app.exception_handlers)

    def on_dashboard(request: Request) -> bool:
        path = request.url.path
        return path == PREFIX or path.startswith(PREFIX + "/")

    async def fallback(kind: type[Exception], request: Request, exc: Exception) -> Response:
        answer = api_handlers[kind](request, exc)
        return await answer if isinstance(answer, Awaitable) else answer

    async def app_error(request: Request, exc: Exception) -> Response:
        if not on_dashboard(request):
            return await fallback(AppError, request, exc)
        assert isinstance(exc, AppError)
        if isinstance(exc, Throttled):
            return error_page(request, 429, f"Demasiados intentos. Intente de nuevo en {exc.retry_after} segundos.",
                              headers=exc.headers)
        if exc.message_key in SAID_AS_IS:
            details = [f"Columna «{f['field']}»: {f['message']}" for f in exc.extra.get("fields", [])]
            return error_page(request, exc.status_code, translate(exc.message_key, "es"), details=details,
                              back=request.url.path if request.method == "POST" else None)
        return error_page(request, exc.status_code, CSRF_TEXT if isinstance(exc, CsrfRefused) else None)

    async def http_error(request: Request, exc: Exception) -> Response:
        if not on_dashboard(request):
            return await fallback(StarletteHTTPException, request, exc)
        assert isinstance(exc, StarletteHTTPException)
        return error_page(request, exc.status_code if exc.status_code in ERRORS else 400)

    async def validation_error(request: Request, exc: Exception) -> Response:
        if not on_dashboard(request):
            return await fallback(RequestValidationError, request, exc)
        # a path that is not an id is an address that does not exist
        assert isinstance(exc, RequestValidationError)
        in_path = any(e.get("loc", ("",))[0] == "path" for e in exc.errors())
        return error_page(request, 404 if in_path else 422)

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        return login_redirect(exc.next_path)

    app.add_exception_handler(AppError, app_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(LoginRequired, login_required)
