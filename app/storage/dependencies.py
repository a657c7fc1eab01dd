"""The storage as a FastAPI dependency, for routers (the interface itself, ``app.storage``, needs no FastAPI)."""

from typing import Annotated

from fastapi import Depends, Request

from app.storage import Storage


async def app_storage(request: Request) -> Storage:
    """The storage the app was created with (``create_app``)."""
    storage: Storage = request.app.state.storage
    return storage


StorageDep = Annotated[Storage, Depends(app_storage)]
