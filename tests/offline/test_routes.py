"""The offline routes as a phone uses them: which tier, then the zip with ETag, 304 and resumable ranges."""

import hashlib
import io
import json
import re
import zipfile

import brotli
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.content.service import load_modules
from app.models import Enrolment, EnrolmentStatus
from app.storage import Storage
from tests.factories import Actor, Factory

API = "/api/v1"


def hints_varied(response: object) -> str:
    """The connection hints in Vary (CORS adds Origin, compression Accept-Encoding)."""
    values = [v.strip() for v in response.headers.get("Vary", "").split(",")]  # type: ignore[attr-defined]
    return ", ".join(v for v in values if v in {"Save-Data", "ECT", "Downlink"})


def test_tiers_with_sizes_hashes_and_a_recommendation_from_the_hints(client: TestClient, learner: Actor) -> None:
    response = client.get(f"{API}/modules/saberes/offline", headers=learner.headers)
    assert response.status_code == 200, response.text
    body = response.json()
    assert [t["tier"] for t in body["tiers"]] == ["text", "light", "full"]
    assert [t["tier"] for t in body["tiers"] if t["recommended"]] == ["light"]  # no hints
    assert all(t["bytes"] > 0 and len(t["sha256"]) == 64 and t["estimated_seconds"] >= 1 for t in body["tiers"])
    assert response.headers["Accept-CH"] == "Save-Data, ECT, Downlink"
    assert hints_varied(response) == "Save-Data, ECT, Downlink"
    modules = client.get(f"{API}/modules").json()
    assert body["version"] == next(m["version"] for m in modules if m["slug"] == "saberes")


@pytest.mark.parametrize(("hints", "tier", "vary"), [
    ({"Save-Data": "on"}, "text", "Save-Data"),
    ({"Save-Data": "on", "ECT": "4g"}, "text", "Save-Data"),
    ({"ECT": "slow-2g"}, "text", "Save-Data, ECT, Downlink"),
    ({"ECT": "2g"}, "text", "Save-Data, ECT, Downlink"),
    ({"ECT": "3g"}, "light", "Save-Data, ECT, Downlink"),
    ({"ECT": "4g"}, "full", "Save-Data, ECT, Downlink"),
    ({"Downlink": "0.05"}, "text", "Save-Data, ECT, Downlink"),
    ({"Downlink": "0.5"}, "light", "Save-Data, ECT, Downlink"),
    ({"Downlink": "10"}, "full", "Save-Data, ECT, Downlink"),
    ({"Downlink": "nan"}, "light", "Save-Data, ECT, Downlink"),
])
def test_the_recommended_tier_follows_save_data_then_ect_then_downlink(client: TestClient, learner: Actor,
                                                                       hints: dict[str, str], tier: str,
                                                                       vary: str) -> None:
    response = client.get(f"{API}/modules/saberes/offline", headers={**learner.headers, **hints})
    assert response.status_code == 200, response.text
    assert [t["tier"] for t in response.json()["tiers"] if t["recommended"]] == [tier]
    assert hints_varied(response) == vary


def test_estimated_seconds_follow_the_connection(client: TestClient, learner: Actor) -> None:
    slow = client.get(f"{API}/modules/saberes/offline", headers={**learner.headers, "ECT": "slow-2g"}).json()
    fast = client.get(f"{API}/modules/saberes/offline", headers={**learner.headers, "ECT": "4g"}).json()
    text_slow = next(t for t in slow["tiers"] if t["tier"] == "text")
    assert text_slow["estimated_seconds"] == max(1, -(-text_slow["bytes"] * 8 // 50_000))
    assert all(s["estimated_seconds"] >= f["estimated_seconds"] for s, f in zip(slow["tiers"], fast["tiers"],
                                                                               strict=True))


def test_zip_200_with_etag_then_304(client: TestClient, learner: Actor) -> None:
    info = client.get(f"{API}/modules/saberes/offline", headers=learner.headers).json()
    text = next(t for t in info["tiers"] if t["tier"] == "text")
    response = client.get(f"{API}/modules/saberes/offline/text.zip", headers=learner.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/zip"
    assert response.headers["ETag"] == f'"{text["sha256"]}"'
    assert "content-encoding" not in response.headers  # already compressed, never gzipped again
    assert hashlib.sha256(response.content).hexdigest() == text["sha256"]
    assert len(response.content) == text["bytes"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as archive:
        assert "manifest.json" in archive.namelist()
    again = client.get(f"{API}/modules/saberes/offline/text.zip",
                       headers={**learner.headers, "If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304
    assert again.content == b""


def test_ranges_206_416_and_a_stale_if_range(client: TestClient, learner: Actor) -> None:
    url = f"{API}/modules/saberes/offline/full.zip"
    whole = client.get(url, headers=learner.headers)
    size, etag = len(whole.content), whole.headers["ETag"]
    part = client.get(url, headers={**learner.headers, "Range": "bytes=100-199", "Accept-Encoding": "gzip"})
    assert part.status_code == 206
    assert part.headers["Content-Range"] == f"bytes 100-199/{size}"
    assert part.content == whole.content[100:200]
    assert "content-encoding" not in part.headers
    past = client.get(url, headers={**learner.headers, "Range": f"bytes={size}-"})
    assert past.status_code == 416
    assert past.json()["error"] == "range_not_satisfiable"
    assert past.headers["Content-Range"] == f"bytes */{size}"
    stale = client.get(url, headers={**learner.headers, "Range": "bytes=100-199", "If-Range": '"' + "0" * 64 + '"'})
    assert stale.status_code == 200
    assert stale.content == whole.content
    fresh = client.get(url, headers={**learner.headers, "Range": "bytes=100-199", "If-Range": etag})
    assert fresh.status_code == 206


def test_an_interrupted_download_resumed_gives_the_exact_file(client: TestClient, learner: Actor) -> None:
    info = client.get(f"{API}/modules/saberes/offline", headers=learner.headers).json()
    light = next(t for t in info["tiers"] if t["tier"] == "light")
    url = f"{API}/modules/saberes/offline/light.zip"
    received = b""
    with client.stream("GET", url, headers=learner.headers) as response:
        etag = response.headers["ETag"]
        for chunk in response.iter_raw(chunk_size=512):
            received += chunk
            if len(received) >= 700:  # the signal is lost here
                break
    received = received[:700]
    rest = client.get(url, headers={**learner.headers, "Range": f"bytes={len(received)}-", "If-Range": etag})
    assert rest.status_code == 206
    assert hashlib.sha256(received + rest.content).hexdigest() == light["sha256"]


def test_manifest_lists_every_file_with_etag_and_ranges(client: TestClient, learner: Actor) -> None:
    url = f"{API}/modules/saberes/offline/text/manifest"
    response = client.get(url, headers=learner.headers)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    manifest = response.json()
    assert manifest["module"] == "saberes"
    assert manifest["tier"] == "text"
    assert {f["path"] for f in manifest["files"]} == {
        "module.json", "lessons/valor.html", "lessons/oficios.html", "lessons/extra.html", "quizzes/oficios.json"}
    assert response.headers["ETag"] == f'"{hashlib.sha256(response.content).hexdigest()}"'
    assert client.get(url, headers={**learner.headers, "If-None-Match": response.headers["ETag"]}).status_code == 304
    part = client.get(url, headers={**learner.headers, "Range": "bytes=0-9"})
    assert part.status_code == 206
    assert part.content == response.content[:10]
    # each file is also public by its hash, so an update fetches only what changed
    quiz = next(f for f in manifest["files"] if f["path"] == "quizzes/oficios.json")
    blob = client.get(f"{API}/blobs/{quiz['sha256']}")
    assert blob.status_code == 200
    assert "correct" not in json.loads(blob.content)["questions"][0]["options"][0]


def test_unknown_tier_module_or_unbuilt_packages(client: TestClient, learner: Actor,
                                                 sessions: sessionmaker[Session], storage: Storage) -> None:
    assert client.get(f"{API}/modules/saberes/offline/huge.zip", headers=learner.headers).status_code == 422
    assert client.get(f"{API}/modules/nada/offline", headers=learner.headers).status_code == 404
    from tests.progress.conftest import lesson, module

    with sessions() as session, session.begin():
        load_modules(session, storage, [module("nuevo", 9, (lesson("uno", 1),))])
    response = client.get(f"{API}/modules/nuevo/offline", headers=learner.headers)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"
    assert "sin conexión" in response.json()["detail"]


def test_waitlisted_may_not_download_completed_may(client: TestClient, learner: Actor, factory: Factory,
                                                    sessions: sessionmaker[Session]) -> None:
    with sessions() as session, session.begin():
        enrolment = session.get_one(Enrolment, learner.enrolment_id)
        enrolment.status = EnrolmentStatus.COMPLETED
    assert client.get(f"{API}/modules/saberes/offline/text.zip", headers=learner.headers).status_code == 200
    admin = factory.admin()
    peru = next(c for c in client.get(f"{API}/countries").json() if c["code"] == "PE")
    assert client.patch(f"{API}/countries/PE", json={"capacity": peru["enrolled"]},
                        headers=admin.headers).status_code == 200
    waiting = factory.participant("PE")
    for url in ("offline", "offline/text.zip", "offline/text/manifest"):
        response = client.get(f"{API}/modules/saberes/{url}", headers=waiting.headers)
        assert response.status_code == 403, url
    assert client.get(f"{API}/modules/saberes/offline").status_code == 401


def test_json_and_html_are_brotli_where_accepted_gzip_as_the_fallback(client: TestClient) -> None:
    chrome = {"Accept-Encoding": "gzip, deflate, br, zstd"}
    for url in ("/openapi.json", "/aprender/"):
        response = client.get(url, headers=chrome)
        assert response.headers["content-encoding"] == "br", url
        assert "accept-encoding" in response.headers["vary"].lower()
        plain = client.get(url, headers={"Accept-Encoding": "identity"}).content
        assert brotli.decompress(_raw(client, url, chrome)) == plain
    old_phone = client.get("/openapi.json", headers={"Accept-Encoding": "gzip, deflate"})
    assert old_phone.headers["content-encoding"] == "gzip"
    plain = client.get("/openapi.json", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers


def _raw(client: TestClient, url: str, headers: dict[str, str]) -> bytes:
    """The bytes on the wire (httpx decodes brotli itself when it can)."""
    with client.stream("GET", url, headers=headers) as response:
        return b"".join(response.iter_raw())


def test_zips_manifests_blobs_and_ranges_are_never_recompressed(client: TestClient, learner: Actor) -> None:
    chrome = {**learner.headers, "Accept-Encoding": "gzip, deflate, br, zstd"}
    manifest = client.get(f"{API}/modules/saberes/offline/light/manifest", headers=chrome)
    assert manifest.status_code == 200
    blob = manifest.json()["files"][0]["sha256"]
    for url, extra in ((f"{API}/modules/saberes/offline/light.zip", {}),
                       (f"{API}/modules/saberes/offline/light/manifest", {}),
                       (f"{API}/blobs/{blob}", {}),
                       ("/openapi.json", {"Range": "bytes=0-99"})):
        response = client.get(url, headers={**chrome, **extra})
        assert "content-encoding" not in response.headers, url


def test_the_reader_shell_is_rendered_and_its_service_worker_caches_exactly_what_it_loads(client: TestClient) -> None:
    shell = client.get("/aprender/")
    assert shell.status_code == 200
    assert "script-src 'self'" in shell.headers["Content-Security-Policy"]
    assert "{{" not in shell.text
    assert "{%" not in shell.text
    loaded = set(re.findall(r'(?:href|src)="(/aprender/[^"]+)"', shell.text))
    worker = client.get("/aprender/sw.js")
    assert "{{" not in worker.text
    cached = set(json.loads(re.search(r"const FILES = (\[.*\]);", worker.text).group(1)))  # type: ignore[union-attr]
    assert loaded <= cached
    assert "/aprender/" in cached
    for path in cached:
        assert client.get(path).status_code == 200, path
    version = re.search(r'data-version="([0-9a-f]{16})"', shell.text).group(1)  # type: ignore[union-attr]
    assert f'"caminos-shell-{version}"' in worker.text  # one version: a new shell is a new worker
