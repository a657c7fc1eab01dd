"""The OpenAPI document as client generators need it: short stable operation ids, every ``$ref`` resolvable,
optional logins declared as optional, and the throttling headers documented."""

import re
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, iter_route_contexts
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

REF_PREFIX = "#/components/schemas/"

# Operation ids are part of the contract of generated clients (a function name in each of them): rename one only
# on purpose. The fallback (tag_function) covers a route added before it is named here; the test freezes the list.
OPERATION_IDS: dict[str, str] = {
    "login": "auth_login",
    "logout": "auth_logout",
    "activate": "auth_activate",
    "read_me": "me_read",
    "new_activation_code": "participants_activation_code_create",
    "change_password": "me_password_change",
    "new_staff_activation_code": "users_activation_code_create",
    "create_user": "users_create",
    "update_user": "users_update",
    "list_countries": "countries_list",
    "update_country": "countries_update",
    "apply": "applications_create",
    "import_applications": "applications_import",
    "import_template_csv": "applications_import_template_csv",
    "import_template_xlsx": "applications_import_template_xlsx",
    "list_enrolments": "enrolments_list",
    "get_enrolment": "enrolments_get",
    "get_participant": "participants_get",
    "withdraw": "enrolments_withdraw",
    "mark_notified": "enrolments_notified",
    "list_modules": "modules_list",
    "module_detail": "modules_get",
    "lesson": "lessons_get",
    "blob": "blobs_get",
    "offline_packages": "offline_packages_get",
    "offline_zip": "offline_zip_get",
    "offline_manifest": "offline_manifest_get",
    "record_events": "progress_events_record",
    "import_progress": "progress_import",
    "import_progress_for": "progress_import_for_participant",
    "my_progress": "progress_mine",
    "participant_progress": "progress_of_participant",
    "consent_notice": "consent_notice_get",
    "read_audit": "audit_list",
    "issue_certificate": "certificates_issue",
    "list_certificates": "certificates_list",
    "my_certificates": "certificates_mine",
    "certificate_pdf": "certificates_pdf",
    "revoke_certificate": "certificates_revoke",
    "reissue_certificate": "certificates_reissue",
    "verify_certificate": "certificates_verify",
    "batch_certificates": "certificates_batch",
    "certificate_credential": "certificates_credential",
    "status_list": "credentials_status_list",
    "jwks": "credentials_jwks",
    "get_job": "jobs_get",
    "withdraw_consent": "me_consent_withdraw",
    "my_data": "me_data",
    "update_me": "me_update",
    "erase_participant": "participants_erase",
    "country_report": "reports_country",
    "participants_csv": "reports_participants_csv",
    "participants_xlsx": "reports_participants_xlsx",
    "healthz": "health_live",
    "readyz": "health_ready",
}

# Models documented as a request body by ``openapi_extra`` (the route reads the body itself), added to components.
_EXTRA_MODELS: dict[str, type[BaseModel]] = {}


def operation_id(route: APIRoute) -> str:
    """``generate_unique_id_function`` of the app."""
    if route.name in OPERATION_IDS:
        return OPERATION_IDS[route.name]
    tag = str(route.tags[0]) if route.tags else "api"
    return re.sub(r"[^a-z0-9]+", "_", f"{tag}_{route.name}".lower()).strip("_")


def json_request_body(model: type[BaseModel]) -> dict[str, Any]:
    """``openapi_extra`` declaring a JSON body of ``model`` for a route that parses its body itself (so one bad
    event never fails the others); the model and the models it uses become components, so the ``$ref`` resolves."""
    _EXTRA_MODELS[model.__name__] = model
    return {"requestBody": {"required": True, "content": {"application/json": {
        "schema": {"$ref": f"{REF_PREFIX}{model.__name__}"}}}}}


def _calls(dependant: Dependant) -> set[Any]:
    found = {dependant.call}
    for sub in dependant.dependencies:
        found |= _calls(sub)
    return found


def _optional_login_operations(app: FastAPI, optional_login: Any, login: Any) -> set[tuple[str, str]]:
    """(method, path) of the operations that take a token when given one (they depend on ``optional_login``) and
    also serve anonymous callers (they do not depend on ``login``)."""
    optional = set()
    # FastAPI keeps included routers as nodes of app.routes; iter_route_contexts flattens them
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute) and context.path:
            calls = _calls(route.dependant)
            if optional_login in calls and login not in calls:
                optional |= {(method.lower(), context.path) for method in route.methods or ()}
    return optional


def _rename_generic_schemas(document: dict[str, Any]) -> None:
    """``Page[EnrolmentOut]`` is keyed ``Page_EnrolmentOut_``; its title (``Page.model_parametrized_name``) reads
    better and is what generated clients name the class."""
    schemas: dict[str, Any] = document["components"]["schemas"]
    renames = {key: schema["title"] for key, schema in schemas.items()
               if re.fullmatch(r"[A-Za-z0-9]+_[A-Za-z0-9_]+_", key) and isinstance(schema.get("title"), str)
               and schema["title"] not in schemas}
    for old, new in renames.items():
        schemas[new] = schemas.pop(old)

    def rewrite(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(REF_PREFIX) and ref[len(REF_PREFIX):] in renames:
                node["$ref"] = REF_PREFIX + renames[ref[len(REF_PREFIX):]]
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for value in node:
                rewrite(value)

    if renames:
        rewrite(document)


def _add_models(schemas: dict[str, Any], models: list[type[BaseModel]]) -> None:
    if not models:
        return
    _, top = models_json_schema([(m, "validation") for m in models], ref_template=REF_PREFIX + "{model}")
    for name, schema in top.get("$defs", {}).items():
        # the same name for a different schema would make one of the two references lie
        if name in schemas and schemas[name] != schema:
            raise RuntimeError(f"two different schemas are named {name!r} in the OpenAPI document")
        schemas[name] = schema


RATE_LIMIT_HEADERS: dict[str, Any] = {
    "RateLimit-Policy": {
        "description": "La cuota de esta ruta (IETF draft-ietf-httpapi-ratelimit-headers): "
                       "`\"<nombre>\";q=<intentos>;w=<segundos>`.",
        "schema": {"type": "string"},
    },
}
THROTTLED_HEADERS: dict[str, Any] = {
    "Retry-After": {"description": "Segundos que hay que esperar.", "schema": {"type": "integer", "minimum": 1}},
    "RateLimit": {
        "description": "Lo que queda de la cuota: `\"<nombre>\";r=0;t=<segundos hasta que se renueva>`.",
        "schema": {"type": "string"},
    },
    **RATE_LIMIT_HEADERS,
}


def build_openapi(app: FastAPI, optional_login: Any, login: Any) -> dict[str, Any]:
    if app.openapi_schema:
        return app.openapi_schema
    document = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    _add_models(schemas, list(_EXTRA_MODELS.values()))
    _rename_generic_schemas(document)
    optional = _optional_login_operations(app, optional_login, login)
    for path, path_item in document.get("paths", {}).items():
        for method, operation in path_item.items():
            if not isinstance(operation, dict) or "operationId" not in operation:
                continue
            if (method, path) in optional:
                # `{}` first: anonymous is a valid way to call it (a woman applying by herself)
                operation["security"] = [{}, {"OAuth2PasswordBearer": []}]
            responses = operation.get("responses", {})
            for response in responses.values():
                for media_type, content in response.get("content", {}).items():
                    if not media_type.endswith("json") and not content.get("schema"):
                        # a file: generators need a schema to type the answer as bytes
                        content["schema"] = {"type": "string", "format": "binary"}
            if "429" in responses:
                responses["429"].setdefault("headers", {}).update(THROTTLED_HEADERS)
                for status, response in responses.items():
                    if status.startswith("2"):
                        response.setdefault("headers", {}).update(RATE_LIMIT_HEADERS)
    app.openapi_schema = document
    return document


def install_openapi(app: FastAPI, *, optional_login: Any, login: Any) -> None:
    """``optional_login`` and ``login``: the dependencies that read a token if given and require one (passed in:
    core knows no feature)."""
    app.openapi = lambda: build_openapi(app, optional_login, login)  # type: ignore[method-assign]
