"""The dashboard's cookie session and its CSRF protection.

The cookie holds an ordinary access token (``auth.service.issue_token``): logging out, deactivating the account or
changing its role revokes it at once, as it does a bearer token. The CSRF token of a session is derived from it
(an HMAC under the service's secret), so it needs no storage and dies with the session. Before a session exists
(the login form), a random token in a cookie of its own must match the form's (double submit).
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlsplit

from fastapi import Depends, Request, Response

from app.auth.principal import Principal, principal_for_token
from app.core.config import Settings
from app.core.dependencies import SessionFactoryDep, SettingsDep
from app.core.errors import Forbidden

PREFIX = "/coordinacion"
LOGIN_PATH = f"{PREFIX}/entrar"
COOKIE = "caminos_panel"
LOGIN_COOKIE = "caminos_panel_ingreso"
CSRF_FIELD = "csrf"


class LoginRequired(Exception):
    """No valid session: the handler answers 303 to the login page, which comes back to ``next_path``."""

    def __init__(self, next_path: str) -> None:
        super().__init__(next_path)
        self.next_path = next_path


class CsrfRefused(Forbidden):
    """A state-changing request without this session's token, or sent from another site."""


@dataclass(frozen=True)
class PageUser:
    principal: Principal
    token: str

    def csrf(self, settings: Settings) -> str:
        return session_csrf(settings, self.token)


def session_csrf(settings: Settings, token: str) -> str:
    return hmac.new(settings.secret_key.encode(), b"dashboard-csrf:" + token.encode(), hashlib.sha256).hexdigest()


def new_login_csrf() -> str:
    return secrets.token_urlsafe(24)


def secure_cookies(settings: Settings) -> bool:
    # development runs on http://127.0.0.1, where a browser would not send a Secure cookie back
    return settings.environment != "development"


def set_cookie(response: Response, settings: Settings, name: str, value: str, max_age: int) -> None:
    response.set_cookie(name, value, max_age=max_age, path=PREFIX, httponly=True, secure=secure_cookies(settings),
                        samesite="lax")


def clear_cookie(response: Response, settings: Settings, name: str) -> None:
    response.delete_cookie(name, path=PREFIX, httponly=True, secure=secure_cookies(settings), samesite="lax")


def safe_next(value: str | None) -> str:
    """Where to go after logging in: a dashboard path of this site only (never ``//other.site`` or
    ``https://other.site``, never a backslash that a browser reads as a slash)."""
    if not value or "\\" in value or any(ord(c) < 0x20 for c in value):
        return PREFIX
    parts = urlsplit(value)
    if parts.scheme or parts.netloc or value.startswith("//"):
        return PREFIX
    if parts.path != PREFIX and not parts.path.startswith(PREFIX + "/"):
        return PREFIX
    return value


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


def check_same_origin(request: Request, settings: Settings) -> None:
    """A browser names the page a POST comes from in ``Origin`` (and ``Sec-Fetch-Site``): another site's is
    refused whatever the form holds. Our pages send ``Referrer-Policy: same-origin``, so our own forms never
    send ``Origin: null``."""
    if request.headers.get("sec-fetch-site", "same-origin") not in ("same-origin", "none"):
        raise CsrfRefused()
    origin = request.headers.get("origin")
    if origin is None:
        return  # not a browser, or an old one: the token decides
    own = {_origin(str(request.base_url)), _origin(settings.public_base_url)}
    if origin.lower() not in own:
        raise CsrfRefused()


def check_token(expected: str, given: str | None) -> None:
    if not given or not hmac.compare_digest(expected.encode(), given.encode()):
        raise CsrfRefused()


def _requested_path(request: Request) -> str:
    query = request.url.query
    return request.url.path + (f"?{query}" if query else "")


def session_user(request: Request, factory: SessionFactoryDep) -> PageUser | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    principal = principal_for_token(factory, token)
    return PageUser(principal, token) if principal is not None else None


def require_session(request: Request, user: Annotated[PageUser | None, Depends(session_user)]) -> PageUser:
    if user is None:
        raise LoginRequired(_requested_path(request) if request.method == "GET" else PREFIX)
    return user


def require_staff_page(user: Annotated[PageUser, Depends(require_session)]) -> PageUser:
    """Staff only: a participant is told this is not for her (403), anyone logged out goes to the login page."""
    if not user.principal.is_staff:
        raise Forbidden()
    return user


async def _form_token(request: Request) -> str | None:
    form = await request.form()
    value = form.get(CSRF_FIELD)
    return value if isinstance(value, str) else None


async def require_csrf(request: Request, settings: SettingsDep,
                       user: Annotated[PageUser, Depends(require_staff_page)]) -> PageUser:
    """Every state-changing request of a session: from our own pages, with the session's token."""
    check_same_origin(request, settings)
    check_token(user.csrf(settings), await _form_token(request))
    return user


OptionalPageUser = Annotated[PageUser | None, Depends(session_user)]
StaffPage = Annotated[PageUser, Depends(require_staff_page)]
CsrfChecked = Annotated[PageUser, Depends(require_csrf)]
