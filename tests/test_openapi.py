"""The OpenAPI document as client generators read it: every reference resolves, operation ids are short and
frozen, optional logins are optional, names are readable, codes are enums."""

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from app.core.errors import AppError, ErrorCode
from app.core.i18n import EVENT_REASONS
from app.main import app as module_app

APP_DIR = Path(__file__).resolve().parent.parent / "app"

# Renaming one breaks every generated client (it is a function name there): change this list on purpose.
FROZEN_OPERATION_IDS = {
    ("post", "/api/v1/auth/token"): "auth_login",
    ("post", "/api/v1/auth/logout"): "auth_logout",
    ("post", "/api/v1/auth/activate"): "auth_activate",
    ("get", "/api/v1/me"): "me_read",
    ("post", "/api/v1/participants/{participant_id}/activation-code"): "participants_activation_code_create",
    ("post", "/api/v1/me/password"): "me_password_change",
    ("post", "/api/v1/users/{user_id}/activation-code"): "users_activation_code_create",
    ("post", "/api/v1/users"): "users_create",
    ("patch", "/api/v1/users/{user_id}"): "users_update",
    ("get", "/api/v1/countries"): "countries_list",
    ("patch", "/api/v1/countries/{code}"): "countries_update",
    ("post", "/api/v1/applications"): "applications_create",
    ("post", "/api/v1/applications/import"): "applications_import",
    ("get", "/api/v1/applications/import/template.csv"): "applications_import_template_csv",
    ("get", "/api/v1/applications/import/template.xlsx"): "applications_import_template_xlsx",
    ("get", "/api/v1/enrolments"): "enrolments_list",
    ("get", "/api/v1/enrolments/{enrolment_id}"): "enrolments_get",
    ("get", "/api/v1/participants/{participant_id}"): "participants_get",
    ("post", "/api/v1/enrolments/{enrolment_id}/withdraw"): "enrolments_withdraw",
    ("post", "/api/v1/enrolments/{enrolment_id}/notified"): "enrolments_notified",
    ("get", "/api/v1/modules"): "modules_list",
    ("get", "/api/v1/modules/{slug}"): "modules_get",
    ("get", "/api/v1/modules/{slug}/lessons/{lesson}"): "lessons_get",
    ("get", "/api/v1/blobs/{sha256}"): "blobs_get",
    ("get", "/api/v1/modules/{slug}/offline"): "offline_packages_get",
    ("get", "/api/v1/modules/{slug}/offline/{tier}.zip"): "offline_zip_get",
    ("get", "/api/v1/modules/{slug}/offline/{tier}/manifest"): "offline_manifest_get",
    ("post", "/api/v1/progress/events"): "progress_events_record",
    ("post", "/api/v1/progress/import"): "progress_import",
    ("post", "/api/v1/participants/{participant_id}/progress/import"): "progress_import_for_participant",
    ("get", "/api/v1/me/progress"): "progress_mine",
    ("get", "/api/v1/participants/{participant_id}/progress"): "progress_of_participant",
    ("get", "/api/v1/consent/notice"): "consent_notice_get",
    ("get", "/api/v1/audit"): "audit_list",
    ("post", "/api/v1/certificates"): "certificates_issue",
    ("get", "/api/v1/certificates"): "certificates_list",
    ("get", "/api/v1/me/certificates"): "certificates_mine",
    ("get", "/api/v1/certificates/{certificate_id}/pdf"): "certificates_pdf",
    ("get", "/api/v1/certificates/{certificate_id}/credential"): "certificates_credential",
    ("get", "/api/v1/credentials/status/1"): "credentials_status_list",
    ("get", "/.well-known/jwks.json"): "credentials_jwks",
    ("post", "/api/v1/certificates/{certificate_id}/revoke"): "certificates_revoke",
    ("post", "/api/v1/certificates/{certificate_id}/reissue"): "certificates_reissue",
    ("get", "/api/v1/verify/{code}"): "certificates_verify",
    ("post", "/api/v1/certificates/batch"): "certificates_batch",
    ("get", "/api/v1/jobs/{job_id}"): "jobs_get",
    ("post", "/api/v1/me/consent/withdraw"): "me_consent_withdraw",
    ("get", "/api/v1/me/data"): "me_data",
    ("patch", "/api/v1/me"): "me_update",
    ("post", "/api/v1/participants/{participant_id}/erase"): "participants_erase",
    ("get", "/api/v1/reports/countries/{code}"): "reports_country",
    ("get", "/api/v1/reports/countries/{code}/participants.csv"): "reports_participants_csv",
    ("get", "/api/v1/reports/countries/{code}/participants.xlsx"): "reports_participants_xlsx",
    ("get", "/healthz"): "health_live",
    ("get", "/readyz"): "health_ready",
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return module_app.openapi()


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(method, path): op for path, item in document["paths"].items() for method, op in item.items()
            if isinstance(op, dict) and "responses" in op}


def resolve(document: dict[str, Any], ref: str) -> Any:
    assert ref.startswith("#/"), f"only local references are used: {ref}"
    node: Any = document
    for part in ref[2:].split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        assert isinstance(node, dict), f"dangling reference {ref}"
        assert part in node, f"dangling reference {ref}"
        node = node[part]
    return node


def refs(node: Any) -> list[str]:
    if isinstance(node, dict):
        found = [node["$ref"]] if isinstance(node.get("$ref"), str) else []
        return found + [r for value in node.values() for r in refs(value)]
    if isinstance(node, list):
        return [r for value in node for r in refs(value)]
    return []


def test_every_reference_resolves(document: dict[str, Any]) -> None:
    found = refs(document)
    assert "#/components/schemas/EventsIn" in found
    assert "#/components/schemas/EventIn" in found
    for ref in found:
        resolve(document, ref)  # openapi-spec-validator said OK with EventIn dangling: check it ourselves


def test_progress_routes_document_their_body(document: dict[str, Any]) -> None:
    for path in ("/api/v1/progress/events", "/api/v1/progress/import"):
        body = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
        events = resolve(document, body["$ref"])["properties"]["events"]
        assert resolve(document, events["items"]["$ref"])["properties"]["type"]["enum"] == [
            "lesson_viewed", "lesson_completed", "quiz_submitted"]


def test_operation_ids_are_short_unique_snake_case_and_frozen(document: dict[str, Any]) -> None:
    ids = {key: op["operationId"] for key, op in operations(document).items()}
    assert all(re.fullmatch(r"[a-z][a-z0-9]*(_[a-z0-9]+)*", i) and len(i) <= 40 for i in ids.values()), ids
    assert len(set(ids.values())) == len(ids)
    assert ids == FROZEN_OPERATION_IDS


def test_anonymous_routes_declare_optional_login(document: dict[str, Any]) -> None:
    ops = operations(document)
    assert ops[("post", "/api/v1/applications")]["security"] == [{}, {"OAuth2PasswordBearer": []}]
    assert ops[("get", "/api/v1/me")]["security"] == [{"OAuth2PasswordBearer": []}]
    for key in [("post", "/api/v1/auth/token"), ("get", "/api/v1/countries"), ("get", "/api/v1/modules")]:
        assert "security" not in ops[key], key  # anonymous only: no padlock


def test_generic_pages_have_readable_names(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert {"EnrolmentPage", "AuditEntryPage"} <= schemas.keys()
    assert not [name for name in schemas if "[" in name or name.endswith("_")], sorted(schemas)


def test_codes_are_enums(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    assert set(schemas["ErrorCode"]["enum"]) == {c.value for c in ErrorCode}
    assert schemas["ErrorBody"]["properties"]["error"] == {"$ref": "#/components/schemas/ErrorCode"}
    reason = schemas["EventResult"]["properties"]["reason"]["anyOf"][0]
    assert set(reason["enum"]) == EVENT_REASONS.keys()
    assert set(schemas["EnrolmentStatus"]["enum"]) >= {"enrolled", "waitlisted", "withdrawn", "completed"}
    countries = ["PE", "CL", "CO", "MX"]
    assert sorted(schemas["EnrolmentOut"]["properties"]["country"]["enum"]) == sorted(countries)
    assert sorted(schemas["CountryOut"]["properties"]["code"]["enum"]) == sorted(countries)
    assert sorted(schemas["ApplicationIn"]["properties"]["country"]["enum"]) == sorted(countries)


def _raised_codes() -> set[str]:
    """Every error code app/ can put in a body: the classes' codes and the first argument of BadRequest/Conflict."""
    codes: set[str] = set()
    for path in APP_DIR.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in ("BadRequest", "Conflict") and node.args
                    and isinstance(node.args[0], ast.Constant) and isinstance(node.args[0].value, str)):
                codes.add(node.args[0].value)

    def subclasses(cls: type[AppError]) -> list[type[AppError]]:
        return [cls, *[s for sub in cls.__subclasses__() for s in subclasses(sub)]]

    import app.auth.errors  # noqa: F401  (define every subclass)

    codes |= {cls.code for cls in subclasses(AppError)}
    return codes


def test_every_raised_error_code_is_in_the_enum() -> None:
    assert _raised_codes() - {c.value for c in ErrorCode} == set()


def test_throttled_routes_document_their_headers(document: dict[str, Any]) -> None:
    login = operations(document)[("post", "/api/v1/auth/token")]["responses"]
    assert {"Retry-After", "RateLimit", "RateLimit-Policy"} <= login["429"]["headers"].keys()
    assert "RateLimit-Policy" in login["200"]["headers"]
