"""/docs (Swagger UI) and /redoc served with their files from this service, not a CDN: the docs open on a
connection that reaches only this server (a coordinator's office network, a laptop offline)."""

from importlib.resources import files
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse
from starlette.exceptions import HTTPException
from starlette.requests import Request

# fastapi-offline (MIT) ships Swagger UI 5 (OpenAPI 3.1) and ReDoc 2 builds with their licence headers
ASSETS = Path(str(files("fastapi_offline") / "static"))
ASSET_URL = "/docs/assets"
_MEDIA_TYPES = {".js": "text/javascript", ".css": "text/css", ".png": "image/png"}


def install_docs(app: FastAPI) -> None:
    """Call with ``FastAPI(docs_url=None, redoc_url=None)``."""
    openapi_url = app.openapi_url or "/openapi.json"
    title = app.title

    async def swagger_ui(request: Request) -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url, title=f"{title} — API", oauth2_redirect_url="/docs/oauth2-redirect",
            swagger_js_url=f"{ASSET_URL}/swagger-ui-bundle.js", swagger_css_url=f"{ASSET_URL}/swagger-ui.css",
            swagger_favicon_url=f"{ASSET_URL}/favicon.png",
        )

    async def oauth2_redirect(request: Request) -> HTMLResponse:
        return get_swagger_ui_oauth2_redirect_html()

    async def redoc(request: Request) -> HTMLResponse:
        return get_redoc_html(openapi_url=openapi_url, title=f"{title} — API",
                              redoc_js_url=f"{ASSET_URL}/redoc.standalone.js",
                              redoc_favicon_url=f"{ASSET_URL}/favicon.png", with_google_fonts=False)

    async def asset(request: Request) -> FileResponse:
        name = request.path_params["name"]
        path = ASSETS / name
        # only the files shipped, by their plain name: never a path out of the folder
        if "/" in name or path.suffix not in _MEDIA_TYPES or not path.is_file():
            raise HTTPException(404)
        return FileResponse(path, media_type=_MEDIA_TYPES[path.suffix],
                            headers={"Cache-Control": "public, max-age=86400"})

    app.add_route("/docs", swagger_ui, include_in_schema=False)
    app.add_route("/docs/oauth2-redirect", oauth2_redirect, include_in_schema=False)
    app.add_route("/redoc", redoc, include_in_schema=False)
    app.add_route(f"{ASSET_URL}/{{name}}", asset, include_in_schema=False)
