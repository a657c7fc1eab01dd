"""Who is calling, as FastAPI dependencies: the bearer token, the principal holding it (``app.auth.principal``)
and the roles a route requires."""

from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import OAuth2PasswordBearer

from app.auth.principal import Principal, principal_for_token
from app.core.dependencies import SessionFactoryDep
from app.core.errors import Forbidden, NotAuthenticated
from app.models import Role

oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/v1/auth/token", auto_error=False)


def optional_principal(
    factory: SessionFactoryDep, token: Annotated[str | None, Depends(oauth2_scheme)]
) -> Principal | None:
    if not token:
        return None
    principal = principal_for_token(factory, token)
    if principal is None:
        raise NotAuthenticated()
    return principal


async def current_principal(principal: Annotated[Principal | None, Depends(optional_principal)]) -> Principal:
    if principal is None:
        raise NotAuthenticated()
    return principal


async def require_admin(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if principal.role is not Role.ADMIN:
        raise Forbidden()
    return principal


async def require_staff(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if not principal.is_staff:
        raise Forbidden()
    return principal


async def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


BearerToken = Annotated[str | None, Depends(oauth2_scheme)]
OptionalUser = Annotated[Principal | None, Depends(optional_principal)]
CurrentUser = Annotated[Principal, Depends(current_principal)]
RequireAdmin = Annotated[Principal, Depends(require_admin)]
RequireStaff = Annotated[Principal, Depends(require_staff)]
ClientAddress = Annotated[str, Depends(client_address)]
