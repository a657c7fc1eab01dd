"""A compressed answer is other bytes, so it has its own validator: a cache (the browser's, a proxy's, the service
worker's) keyed on the ETag must never hand brotli bytes to a client that asked for identity, and a phone that
revalidates what it holds still gets its 304 (nothing downloaded again over 2G)."""

import brotli
import pytest
from fastapi.testclient import TestClient

from tests.factories import Actor

API = "/api/v1"
CHROME = {"Accept-Encoding": "gzip, deflate, br, zstd"}
OLD_PHONE = {"Accept-Encoding": "gzip, deflate"}
IDENTITY = {"Accept-Encoding": "identity"}
# (the web manifest is under the size worth compressing)
READER = ["/aprender/", "/aprender/app.js", "/aprender/app.css", "/aprender/sw.js"]


def raw(client: TestClient, url: str, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and the bytes on the wire (httpx would decode brotli and gzip itself)."""
    with client.stream("GET", url, headers=headers) as response:
        return response.status_code, dict(response.headers), b"".join(response.iter_raw())


def varies_on_encoding(headers: dict[str, str]) -> bool:
    return "accept-encoding" in [v.strip().lower() for v in headers.get("vary", "").split(",")]


@pytest.mark.parametrize("url", READER)
def test_each_encoding_of_a_reader_file_has_its_own_etag(client: TestClient, url: str) -> None:
    _, plain_headers, plain = raw(client, url, IDENTITY)
    _, br_headers, br_bytes = raw(client, url, CHROME)
    _, gz_headers, _ = raw(client, url, OLD_PHONE)

    assert "content-encoding" not in plain_headers
    assert br_headers["content-encoding"] == "br"
    assert gz_headers["content-encoding"] == "gzip"
    assert brotli.decompress(br_bytes) == plain
    identity_tag = plain_headers["etag"]
    assert br_headers["etag"] == f'{identity_tag[:-1]}-br"'
    assert gz_headers["etag"] == f'{identity_tag[:-1]}-gzip"'
    assert len({identity_tag, br_headers["etag"], gz_headers["etag"]}) == 3
    assert varies_on_encoding(br_headers)
    assert varies_on_encoding(gz_headers)


@pytest.mark.parametrize("url", READER)
def test_the_compressed_variant_revalidates_with_304_under_its_own_tag(client: TestClient, url: str) -> None:
    _, first, _ = raw(client, url, CHROME)
    status, again, body = raw(client, url, {**CHROME, "If-None-Match": first["etag"]})
    assert status == 304
    assert body == b""
    assert again["etag"] == first["etag"]  # the tag of what she holds, so her cache keeps the brotli copy
    assert varies_on_encoding(again)
    # a weak comparison, as If-None-Match asks, and among others in a list
    status, _, _ = raw(client, url, {**CHROME, "If-None-Match": f'"otra", W/{first["etag"]}'})
    assert status == 304
    # the identity tag still revalidates identity
    _, plain, _ = raw(client, url, IDENTITY)
    status, again, _ = raw(client, url, {**IDENTITY, "If-None-Match": plain["etag"]})
    assert status == 304
    assert again["etag"] == plain["etag"]


@pytest.mark.parametrize("url", READER)
def test_brotli_held_is_never_confirmed_to_a_client_that_cannot_read_it(client: TestClient, url: str) -> None:
    _, br_headers, _ = raw(client, url, CHROME)
    _, plain_headers, plain = raw(client, url, IDENTITY)

    for headers in (IDENTITY, OLD_PHONE):
        status, answer, body = raw(client, url, {**headers, "If-None-Match": br_headers["etag"]})
        assert status == 200, headers
        assert answer.get("content-encoding") != "br"
        assert answer["etag"] != br_headers["etag"]
    status, answer, body = raw(client, url, {**IDENTITY, "If-None-Match": br_headers["etag"]})
    assert body == plain
    assert answer["etag"] == plain_headers["etag"]


def test_a_gzip_copy_revalidates_on_a_phone_that_now_also_accepts_brotli(client: TestClient) -> None:
    """It can read the gzip bytes it holds: confirming them saves the download."""
    _, gz, _ = raw(client, "/aprender/app.js", OLD_PHONE)
    status, again, _ = raw(client, "/aprender/app.js", {**CHROME, "If-None-Match": gz["etag"]})
    assert status == 304
    assert again["etag"] == gz["etag"]


@pytest.mark.parametrize("tag", [b'"-br"', b'"x-br"', b'W/"', b'"', b",,,", b"*-br", b'"abc-zstd"', b"\xc3\xa9\xff"])
def test_odd_if_none_match_values_are_never_a_500(client: TestClient, tag: bytes) -> None:
    response = client.get("/aprender/app.js", headers={**CHROME, "If-None-Match": tag})  # type: ignore[dict-item]
    assert response.status_code == 200


def test_zips_manifests_blobs_and_ranges_keep_their_strong_etag(client: TestClient, learner: Actor) -> None:
    chrome = {**learner.headers, **CHROME}
    manifest = client.get(f"{API}/modules/saberes/offline/light/manifest", headers=chrome)
    blob = manifest.json()["files"][0]["sha256"]
    urls = [f"{API}/modules/saberes/offline/light.zip", f"{API}/modules/saberes/offline/light/manifest",
            f"{API}/blobs/{blob}"]
    for url in urls:
        plain = client.get(url, headers={**learner.headers, **IDENTITY})
        compressed_client = client.get(url, headers=chrome)
        ranged = client.get(url, headers={**chrome, "Range": "bytes=0-9"})
        tag = plain.headers["etag"]
        assert not tag.startswith("W/")
        assert compressed_client.headers["etag"] == ranged.headers["etag"] == tag, url
        assert ranged.status_code == 206
        assert client.get(url, headers={**chrome, "If-None-Match": tag}).status_code == 304
        # a suffixed form of the file's tag names no representation of it
        assert client.get(url, headers={**chrome, "If-None-Match": f'{tag[:-1]}-br"'}).status_code == 200
    # a ranged request of a compressible answer is neither compressed nor re-tagged
    ranged_shell = client.get("/aprender/app.js", headers={**CHROME, "Range": "bytes=0-9"})
    assert "content-encoding" not in ranged_shell.headers
    assert ranged_shell.headers["etag"] == client.get("/aprender/app.js", headers=IDENTITY).headers["etag"]
