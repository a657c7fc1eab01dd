"""Lesson images as a browser and a phone on a bad connection fetch them: ``GET /api/v1/blobs/{sha256}`` needs no
login (an ``<img>`` cannot send a token), may be cached forever, answers 304, and resumes with Range."""

import hashlib
import random
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from app.content.service import load_modules
from app.content.spec import LessonSpec, MediaSpec, ModuleSpec
from app.core.config import Settings
from app.core.db import make_engine, make_sessionmaker
from app.storage import LocalStorage, Storage, storage_for
from tests.conftest import BACKENDS, drop_database, make_test_settings, migrated_database
from tests.factories import Factory
from tests.live import live_server

# a photograph-sized PNG (the loader's checks are not what this is about): several of FileResponse's 64 KiB chunks
PHOTO = b"\x89PNG\r\n\x1a\n" + random.Random(2026).randbytes(300_000)
PHOTO_SHA = hashlib.sha256(PHOTO).hexdigest()
URL = f"/api/v1/blobs/{PHOTO_SHA}"
ETAG = f'"{PHOTO_SHA}"'
SIZE = len(PHOTO)


def module_showing(data: bytes) -> ModuleSpec:
    sha = hashlib.sha256(data).hexdigest()
    return ModuleSpec(
        slug="fotos", title="Fotos", summary="Un módulo con una foto.", position=1, estimated_minutes=5,
        required=True, objectives=("Ver",), media=(MediaSpec("media/foto.png", sha, "image/png", data),),
        lessons=(LessonSpec(slug="foto", title="La foto", estimated_minutes=5, required=True, position=1,
                            html=f'<p><img src="/api/v1/blobs/{sha}" alt="Una foto"></p>', media=(sha,)),),
    )


@pytest.fixture
def photo(sessions: sessionmaker[Session], storage: Storage) -> None:
    with sessions() as session, session.begin():
        load_modules(session, storage, [module_showing(PHOTO)])


# An <img> sends no Authorization header and no cookie of this API, only what a browser adds by itself.
IMG = {"Accept": "image/avif,image/webp,image/png,*/*;q=0.8", "Accept-Encoding": "gzip, deflate, br",
       "Sec-Fetch-Dest": "image"}


@pytest.mark.usefixtures("photo")
def test_an_img_loads_the_image_without_a_login_and_may_cache_it_forever(client: TestClient) -> None:
    response = client.get(URL, headers=IMG)
    assert response.status_code == 200
    assert response.content == PHOTO
    assert response.headers["content-type"] == "image/png"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["etag"] == ETAG
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-length"] == str(SIZE)
    assert "sandbox" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"
    # never re-encoded on the way (a compressing middleware would break Range offsets)
    assert "content-encoding" not in response.headers


@pytest.mark.usefixtures("photo")
def test_the_lesson_names_the_blob_and_the_blob_loads_anonymously(client: TestClient, factory: Factory,
                                                                  settings: Settings) -> None:
    reader = factory.participant("PE")
    html = client.get("/api/v1/modules/fotos/lessons/foto", headers=reader.headers).json()["html"]
    assert f'src="{settings.public_base_url}{URL}"' in html
    assert client.get(URL).content == PHOTO


@pytest.mark.usefixtures("photo")
@pytest.mark.parametrize("if_none_match", [ETAG, f"W/{ETAG}", f'"otro", {ETAG}', "*"])
def test_a_cached_copy_is_confirmed_with_304(client: TestClient, if_none_match: str) -> None:
    response = client.get(URL, headers={"If-None-Match": if_none_match})
    assert response.status_code == 304
    assert response.content == b""
    assert response.headers["etag"] == ETAG
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.usefixtures("photo")
def test_another_etag_gets_the_file(client: TestClient) -> None:
    response = client.get(URL, headers={"If-None-Match": '"' + "0" * 64 + '"'})
    assert response.status_code == 200
    assert response.content == PHOTO


@pytest.mark.usefixtures("photo")
@pytest.mark.parametrize(("range_", "start", "end"), [
    ("bytes=0-9", 0, 9),
    ("bytes=-5", SIZE - 5, SIZE - 1),  # the last five bytes
    (f"bytes={SIZE - 100}-", SIZE - 100, SIZE - 1),  # from a byte to the end
    (f"bytes=1000-{SIZE + 50}", 1000, SIZE - 1),  # an end past the file is cut at the file's end
])
def test_a_range_gets_exactly_those_bytes(client: TestClient, range_: str, start: int, end: int) -> None:
    response = client.get(URL, headers={"Range": range_})
    assert response.status_code == 206
    assert response.content == PHOTO[start:end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{SIZE}"
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.headers["etag"] == ETAG
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"


@pytest.mark.usefixtures("photo")
@pytest.mark.parametrize("range_", [f"bytes={SIZE}-", f"bytes={SIZE + 10}-{SIZE + 20}", "bytes=-0"])
def test_a_range_past_the_end_is_416_with_the_size(client: TestClient, range_: str) -> None:
    response = client.get(URL, headers={"Range": range_})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{SIZE}"
    assert response.json()["error"] == "range_not_satisfiable"
    assert response.json()["detail"].startswith("El rango pedido")


@pytest.mark.usefixtures("photo")
def test_a_malformed_range_is_a_json_400(client: TestClient) -> None:
    response = client.get(URL, headers={"Range": "lines=1-2"})
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"


@pytest.mark.usefixtures("photo")
def test_if_range_resumes_only_the_same_file(client: TestClient) -> None:
    same = client.get(URL, headers={"Range": "bytes=10-19", "If-Range": ETAG})
    assert same.status_code == 206
    assert same.content == PHOTO[10:20]

    # a part kept from another file must not be completed with this one's bytes: the whole file instead
    stale = client.get(URL, headers={"Range": "bytes=10-19", "If-Range": '"' + "a" * 64 + '"'})
    assert stale.status_code == 200
    assert stale.content == PHOTO
    assert "content-range" not in stale.headers


def test_an_unknown_hash_is_a_json_404(client: TestClient) -> None:
    response = client.get("/api/v1/blobs/" + "e" * 64)
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_a_stored_file_that_no_content_names_is_not_served(client: TestClient, storage: Storage) -> None:
    # the storage also holds what is not published (later: packages, certificates); a hash alone is not enough
    sha = storage.put(b"\x89PNG\r\n\x1a\n un archivo que ninguna lecci\xc3\xb3n muestra")
    assert storage.exists(sha)
    response = client.get(f"/api/v1/blobs/{sha}")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_a_row_whose_file_is_missing_is_a_404_not_a_crash(client: TestClient, sessions: sessionmaker[Session],
                                                          tmp_path: Path) -> None:
    # an install upgraded past migration 0003 and not loaded again: rows, but no files in the app's storage
    unloaded = PHOTO + b"sin cargar"
    with sessions() as session, session.begin():
        load_modules(session, LocalStorage(tmp_path), [module_showing(unloaded)])
    response = client.get(f"/api/v1/blobs/{hashlib.sha256(unloaded).hexdigest()}")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


@pytest.mark.parametrize("bad", ["E" * 64, "e" * 63, "../" + "e" * 61])
def test_a_name_that_is_not_a_hash_is_refused(client: TestClient, bad: str) -> None:
    assert client.get(f"/api/v1/blobs/{bad}").status_code in {404, 422}


# --- a real connection, cut halfway --------------------------------------------------------------------------


@pytest.fixture(params=BACKENDS)
def live_photo(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A served app on a database of its own, the photo's module loaded and committed."""
    url = migrated_database(request.param, tmp_path)
    settings = make_test_settings(url, data_dir=tmp_path / "data")
    engine = make_engine(url)
    try:
        with make_sessionmaker(engine)() as session, session.begin():
            load_modules(session, storage_for(settings), [module_showing(PHOTO)])
        with live_server(settings) as base_url:
            yield base_url
    finally:
        engine.dispose()
        drop_database(url)


def test_a_download_cut_halfway_resumes_with_range_to_the_same_bytes(live_photo: str) -> None:
    received = b""
    with httpx.Client(base_url=live_photo, timeout=30) as http, http.stream("GET", URL) as first:
        assert first.status_code == 200
        etag = first.headers["etag"]
        for chunk in first.iter_raw(chunk_size=16 * 1024):
            received += chunk
            if len(received) >= SIZE // 2:
                break  # the connection drops: leaving the block closes it with the body unread
    assert SIZE // 2 <= len(received) < SIZE

    with httpx.Client(base_url=live_photo, timeout=30) as http:
        rest = http.get(URL, headers={"Range": f"bytes={len(received)}-", "If-Range": etag})
    assert rest.status_code == 206
    assert rest.headers["content-range"] == f"bytes {len(received)}-{SIZE - 1}/{SIZE}"
    assert hashlib.sha256(received + rest.content).hexdigest() == PHOTO_SHA
