"""The reader's features one by one in headless Chromium at 360×800, as women use them: a module carried by hand,
progreso.json, activation, a shared phone, "sólo con wifi", a cut download, an expired session, refused events,
narration from the cache, and a page killed mid-sync. "Offline" is the server stopped AND the context offline."""

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx

from tests.browser.conftest import assert_accessible
from tests.browser.reader_kit import (
    NO_BACKGROUND_SYNC,
    PASSWORD,
    Shelf,
    back_online,
    card,
    cut_once,
    download,
    holding_it_offline,
    live_server,
    log_in,
    offline,
    open_reader,
    pending,
    phone,
    picture_shown,
    port_of,
    queued,
    sha256,
    shelf,
    slow_answer,
    study_first_lesson,
    zip_bytes,
)

__all__ = ["phone", "shelf"]  # fixtures


def test_a_shared_zip_opens_with_no_network_and_a_tampered_one_is_refused(shelf: Shelf, phone: Any,
                                                                           tmp_path: Path) -> None:
    woman, friend = shelf.factory.participant("PE"), shelf.factory.participant("PE")
    with live_server(shelf.settings) as api:
        received = zip_bytes(shelf, api, friend, "light")  # her friend's phone downloaded it, sent by WhatsApp
        page = open_reader(phone, api)
        log_in(page, woman)
        page.evaluate("navigator.serviceWorker.ready")
    offline(phone, page)
    good = tmp_path / f"{shelf.module.slug}-light.zip"
    good.write_bytes(received)
    # one lesson changed inside, the manifest left as it was: the check of every file must see it
    tampered = tmp_path / "modulo-de-un-amigo.zip"
    with zipfile.ZipFile(io.BytesIO(received)) as source, zipfile.ZipFile(tampered, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.startswith("lessons/"):
                data = data.replace(b"</p>", b" Compre en esta tienda.</p>", 1)
            target.writestr(item, data)
    page.set_input_files("#abrir-zip", str(tampered))
    page.get_by_text("está dañado o incompleto").wait_for()
    assert card(page, shelf.module.slug).get_by_role("button", name="Estudiar").count() == 0
    page.set_input_files("#abrir-zip", str(good))
    page.get_by_text("abierto y revisado").wait_for()
    card(page, shelf.module.slug).get_by_role("button", name="Estudiar").click()
    page.locator("#lecciones li").first.get_by_role("button", name="Leer").click()
    picture_shown(page)
    assert "Compre en esta tienda" not in page.inner_text("#leccion-texto")
    not_a_zip = tmp_path / "foto.zip"
    not_a_zip.write_bytes(b"\x89PNG no es un zip" * 10)
    page.set_input_files("#abrir-zip", str(not_a_zip))
    page.get_by_text("no es un módulo").wait_for()
    assert page.errors == []


def _summary(api: str, headers: dict[str, str], slug: str) -> dict[str, Any]:
    modules = httpx.get(f"{api}/api/v1/me/progress", headers=headers).json()["modules"]
    found: dict[str, Any] = next(m for m in modules if m["slug"] == slug)
    return found


def test_progreso_json_exported_offline_and_imported_gives_what_a_sync_gives(shelf: Shelf, phone: Any) -> None:
    woman, page, port = holding_it_offline(shelf, phone)
    slug = shelf.module.slug
    study_first_lesson(page, slug)
    pending(page, 2)
    with page.expect_download() as saved:
        page.click("#exportar")
    assert saved.value.suggested_filename == "progreso.json"
    exported = json.loads(Path(saved.value.path()).read_text(encoding="utf-8"))
    assert exported["format_version"] == 1
    assert exported["username"] == woman.username
    assert exported["device_id"] == page.evaluate("(name) => get('accounts', name)", woman.username)["device_id"]
    assert exported["exported_at"].endswith("Z")
    assert sorted(e["type"] for e in exported["events"]) == ["lesson_completed", "lesson_viewed"]
    with live_server(shelf.settings, port=port) as api:
        # weeks without signal: her coordinator uploads the file for her
        coordinator = shelf.factory.coordinator("PE")
        imported = httpx.post(f"{api}/api/v1/participants/{woman.participant_id}/progress/import",
                              json=exported, headers=coordinator.headers)
        assert imported.status_code == 200, imported.text
        assert [r["status"] for r in imported.json()["results"]] == ["accepted", "accepted"]
        after_import = _summary(api, woman.headers, slug)
        assert after_import["lessons"][0]["completed_at"] is not None
        # then the phone finds a signal: the same events, answered duplicate, leave her queue and change nothing
        back_online(phone, page)
        page.get_by_text("Avance enviado").wait_for(timeout=15_000)
        assert [row["status"] for row in queued(page, woman.username)] == ["synced", "synced"]
        assert page.get_by_text("por enviar").count() == 0
        assert _summary(api, woman.headers, slug) == after_import
        assert shelf.events_of(woman) == 2
        # and her own upload of the same file is the same answer as the server's for a sync: duplicates
        again = httpx.post(f"{api}/api/v1/progress/import", json=exported, headers=woman.headers)
        assert [r["status"] for r in again.json()["results"]] == ["duplicate", "duplicate"]
    assert page.errors == []


def test_activation_with_a_code_from_the_reader(shelf: Shelf, phone: Any) -> None:
    woman, coordinator = shelf.factory.participant("PE"), shelf.factory.coordinator("PE")
    with live_server(shelf.settings) as api:
        code = httpx.post(f"{api}/api/v1/participants/{woman.participant_id}/activation-code",
                          headers=coordinator.headers)
        assert code.status_code == 201, code.text
        page = open_reader(phone, api)
        page.click("summary")
        page.fill("#form-activar input[name=code]", "NO-ES-EL-CODIGO")
        page.fill("#form-activar input[name=password]", "mi-clave-nueva-2026")
        page.click("#form-activar button")
        page.locator("#estado:not(:empty)").wait_for()
        refused = page.inner_text("#estado")
        assert page.locator("#ingreso").is_visible()
        assert "código" in refused.lower(), refused  # in Spanish, and she stays on the form
        page.fill("#form-activar input[name=code]", code.json()["activation_code"])
        page.fill("#form-activar input[name=password]", "mi-clave-nueva-2026")
        page.click("#form-activar button")
        page.locator("#modulos").wait_for()
        page.get_by_text("Cuenta activada").wait_for()
        # the shelf is drawn once the module list arrives, a moment after the greeting
        card(page, shelf.module.slug).wait_for()
        assert card(page, shelf.module.slug).count() == 1
        new_password = httpx.post(f"{api}/api/v1/auth/token",
                                  data={"username": woman.username, "password": "mi-clave-nueva-2026"})
        assert new_password.status_code == 200
    assert page.errors == []


def test_two_women_on_one_phone_each_with_her_own_queue(shelf: Shelf, phone: Any) -> None:
    phone.add_init_script(NO_BACKGROUND_SYNC)  # the page's own sending (the worker's is in test_reader_background_sync)
    ana, rosa = shelf.factory.participant("PE"), shelf.factory.participant("PE")
    slug = shelf.module.slug
    with live_server(shelf.settings) as api:
        page = open_reader(phone, api)
        log_in(page, ana)
        download(page, slug)
        page.click("#cambiar")
        log_in(page, rosa)
        # the module is on the phone once, for both
        card(page, slug).get_by_text("Guardado en el teléfono").wait_for()
    offline(phone, page)
    study_first_lesson(page, slug)
    pending(page, 2)
    page.click("#cambiar")
    page.get_by_role("button", name=ana.username).click()  # no password needed to switch, and no network
    page.locator("#modulos").wait_for()
    assert page.get_by_text("por enviar").count() == 0
    study_first_lesson(page, slug)
    card(page, slug).get_by_role("button", name="Estudiar").click()
    page.locator("#lecciones li").nth(1).get_by_role("button", name="Leer").click()
    page.click("#terminar")
    page.click(".volver")
    pending(page, 4)
    page.click("#cambiar")
    page.get_by_role("button", name=rosa.username).click()
    pending(page, 2)
    with live_server(shelf.settings, port=port_of(api)):
        back_online(phone, page)
        page.get_by_text("Avance enviado").wait_for(timeout=15_000)
        assert (shelf.events_of(rosa), shelf.events_of(ana)) == (2, 0)  # only hers went, with her token
        page.click("#cambiar")
        page.get_by_role("button", name=ana.username).click()
        page.get_by_text("Avance enviado").wait_for(timeout=15_000)
        assert page.get_by_text("por enviar").count() == 0
        assert (shelf.events_of(rosa), shelf.events_of(ana)) == (2, 4)
    assert all(row["status"] == "synced" for row in queued(page, ana.username) + queued(page, rosa.username))
    assert page.errors == []


WIFI_OR_NOT = """
  const connection = new EventTarget();
  connection.type = sessionStorage.getItem("tipo-de-red") || "cellular";
  connection.effectiveType = "3g";
  Object.defineProperty(Navigator.prototype, "connection", {get: () => connection});
  window.onWifi = () => { connection.type = "wifi"; connection.dispatchEvent(new Event("change")); };
"""


def test_only_on_wifi_holds_downloads_and_syncs_until_she_is_on_wifi(shelf: Shelf, phone: Any) -> None:
    woman = shelf.factory.participant("PE")
    slug = shelf.module.slug
    phone.add_init_script(WIFI_OR_NOT)  # Android Chrome's navigator.connection, on mobile data
    requests: list[str] = []
    phone.on("request", lambda request: requests.append(request.url))
    with live_server(shelf.settings) as api:
        page = open_reader(phone, api)
        log_in(page, woman)
        page.check("#solo-wifi")
        found = card(page, slug)
        found.get_by_role("button", name="Descargar para estudiar sin conexión").click()
        page.get_by_text("conéctese a un wifi para descargar").wait_for()
        assert not [url for url in requests if url.endswith(".zip")]
        page.evaluate("onWifi()")
        download(page, slug)
        page.evaluate("sessionStorage.setItem('tipo-de-red', 'cellular')")
        page.reload()  # on mobile data again
        page.locator("#modulos").wait_for()
        study_first_lesson(page, slug)
        page.get_by_text("su avance se enviará cuando esté en un wifi").wait_for()
        pending(page, 2)
        assert shelf.events_of(woman) == 0
        page.evaluate("onWifi()")  # the 'change' Android sends: what was held goes now
        page.get_by_text("Avance enviado").wait_for(timeout=15_000)
        assert shelf.events_of(woman) == 2
    assert page.errors == []


def test_a_download_cut_halfway_resumes_in_the_browser_from_where_it_stopped(shelf: Shelf, phone: Any) -> None:
    woman = shelf.factory.participant("PE")
    slug = shelf.module.slug
    ranges: list[str | None] = []
    with live_server(shelf.settings) as api:
        whole = zip_bytes(shelf, api, woman, "full")
    half = len(whole) // 2
    received: list[int] = []
    phone.on("requestfinished", lambda request: request.url.endswith(".zip") and received.append(
        request.sizes()["responseBodySize"]))
    with live_server(shelf.settings, port=port_of(api), wrap=cut_once("/full.zip", half, ranges)) as api:
        page = open_reader(phone, api)
        log_in(page, woman)
        found = card(page, slug)
        found.locator("select").select_option("full")
        button = found.get_by_role("button", name="Descargar para estudiar sin conexión")
        button.click()
        page.get_by_text("Se cortó la descarga; toque Descargar para continuar donde quedó").wait_for()
        kept = page.evaluate(f"() => get('partials', '{slug}/full').then((row) => row.blob.size)")
        assert kept == half  # what arrived before the cut is kept on the phone
        button.click()
        found.get_by_text("Guardado en el teléfono").wait_for(timeout=30_000)
        assert ranges == [None, f"bytes={half}-"]  # the second request asked only for the rest
        assert sum(received) <= len(whole) + 1024  # the rest, not the whole again
        saved = page.evaluate(f"() => get('modules', '{slug}')")
        assert saved["tier"] == "full"
        assert page.evaluate(f"() => get('partials', '{slug}/full')") is None
        # every file on the phone is the server's, byte for byte: hashed again as the service worker serves it
        on_phone = page.evaluate("""async (slug) => {
            const saved = await get('modules', slug);
            const out = {};
            for (const file of saved.manifest.files) {
                const response = await fetch(`/aprender/paquete/${slug}/${file.path}`);
                out[file.path] = await sha256(await response.arrayBuffer());
            }
            return out;
        }""", slug)
    with zipfile.ZipFile(io.BytesIO(whole)) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        assert on_phone == {f["path"]: sha256(archive.read(f["path"])) for f in manifest["files"]}
    assert any(path.startswith("audio/") for path in on_phone)
    assert page.errors == []


def _read(page: Any, position: int) -> None:
    page.locator("#lecciones li").nth(position).get_by_role("button", name="Leer").click()
    page.click("#terminar")


def test_an_expired_session_keeps_the_queue_and_refused_events_are_kept_and_shown(shelf: Shelf, phone: Any) -> None:
    woman, page, port = holding_it_offline(shelf, phone)
    slug = shelf.module.slug
    card(page, slug).get_by_role("button", name="Estudiar").click()
    _read(page, 0)
    _read(page, 1)
    page.click(".volver")
    pending(page, 4)
    rows = {(row["event"]["lesson"], row["event"]["type"]): row for row in queued(page, woman.username)}
    first, second = shelf.module.lessons[0].slug, shelf.module.lessons[1].slug
    with live_server(shelf.settings, port=port) as api:
        # weeks offline: the token the reader holds was revoked meanwhile
        token = page.evaluate("(name) => get('accounts', name)", woman.username)["token"]
        assert httpx.post(f"{api}/api/v1/auth/logout", headers={"Authorization": f"Bearer {token}"}).is_success
        back_online(phone, page)
        page.get_by_text("Su sesión terminó: ingrese de nuevo").wait_for(timeout=15_000)
        page.locator("#ingreso").wait_for()  # shown once the phone's accounts are read, a moment after the notice
        assert page.input_value("#form-ingreso input[name=username]") == woman.username
        assert [row["status"] for row in queued(page, woman.username)] == ["pending"] * 4
        assert shelf.events_of(woman) == 0
        # meanwhile another phone sent the same event id with other content (conflict), and the content changed so
        # that the second lesson's completion names a lesson this version has not (rejected)
        viewed = rows[(first, "lesson_viewed")]["event"]
        other = httpx.post(f"{api}/api/v1/progress/events", headers=woman.headers, json={
            "events": [{**viewed, "payload": {"seconds": viewed["payload"]["seconds"] + 600}}]})
        assert other.json()["results"][0]["status"] == "accepted"
        renamed = rows[(second, "lesson_completed")]
        page.evaluate("(row) => put('events', row)",
                      {**renamed, "event": {**renamed["event"], "lesson": "leccion-que-ya-no-esta"}})
        page.fill("#form-ingreso input[name=password]", PASSWORD)
        page.click("#form-ingreso button")
        page.locator("#modulos").wait_for()
        page.get_by_text("Avance enviado").wait_for(timeout=15_000)
        refused = page.locator(".rechazado")
        assert refused.count() == 2
        statuses = {row["event"]["event_id"]: row["status"] for row in queued(page, woman.username)}
        assert statuses[viewed["event_id"]] == "conflict"
        assert statuses[renamed["event_id"]] == "rejected"
        assert sorted(statuses.values()) == ["conflict", "rejected", "synced", "synced"]
        assert shelf.events_of(woman) == 3  # the other phone's, and the two accepted
        texts = refused.all_inner_texts()
        page.reload()  # kept: shown again, never dropped
        page.locator(".rechazado").nth(1).wait_for()
        assert page.locator(".rechazado").all_inner_texts() == texts
        assert any("leccion-que-ya-no-esta" in text for text in texts)
        assert all("consulte a su coordinadora" in text for text in texts)
    assert page.errors == []


def test_narration_plays_from_the_cache_with_range_and_no_network(shelf: Shelf, phone: Any) -> None:
    if not shelf.narrated:
        import pytest

        pytest.skip("no synthesiser (espeak-ng es-419 and opusenc): the full tier has no narration to play")
    woman, page, port = holding_it_offline(shelf, phone, "full")
    slug = shelf.module.slug
    card(page, slug).get_by_role("button", name="Estudiar").click()
    page.locator("#lecciones li").first.get_by_role("button", name="Leer").click()
    audio = page.locator("#narracion")
    audio.wait_for()
    source = audio.get_attribute("src")
    assert source.startswith(f"/aprender/paquete/{slug}/audio/")
    # what <audio> asks for: a byte range, answered 206 by the service worker from the cache
    part = page.evaluate("""async (url) => {
        const response = await fetch(url, {headers: {Range: 'bytes=0-99'}});
        const whole = await (await fetch(url)).arrayBuffer();
        return {status: response.status, range: response.headers.get('Content-Range'),
                bytes: (await response.arrayBuffer()).byteLength, size: whole.byteLength,
                type: response.headers.get('Content-Type'),
                past: (await fetch(url, {headers: {Range: `bytes=${whole.byteLength}-`}})).status};
    }""", source)
    assert part == {"status": 206, "range": f"bytes 0-99/{part['size']}", "bytes": 100, "size": part["size"],
                    "type": "audio/ogg", "past": 416}
    # muted, a page may play without a tap (the autoplay rule); it must load and move on
    page.evaluate("() => { const a = document.getElementById('narracion'); a.muted = true; return a.play(); }")
    page.wait_for_function("() => { const a = document.getElementById('narracion');"
                           " return a.readyState >= 2 && a.currentTime > 0.2; }", timeout=15_000)
    assert page.evaluate("() => document.getElementById('narracion').error") is None
    assert page.errors == []


def test_a_page_killed_mid_sync_loses_nothing_and_doubles_nothing(shelf: Shelf, phone: Any) -> None:
    phone.add_init_script(NO_BACKGROUND_SYNC)  # the page's own sending: only it may resend on opening
    woman, page, port = holding_it_offline(shelf, phone)
    slug = shelf.module.slug
    study_first_lesson(page, slug)
    pending(page, 2)
    posts: list[str] = []
    with live_server(shelf.settings, port=port, wrap=slow_answer("/api/v1/progress/events", 3, posts)) as api:
        phone.set_offline(False)
        page.evaluate("window.dispatchEvent(new Event('online'))")
        deadline = 50
        while not posts and deadline:  # the POST is in flight: the server has it, the page has no answer yet
            page.wait_for_timeout(100)
            deadline -= 1
        assert posts == ["POST"]
        page.close()  # she closes the app (or Android kills it) before the answer arrives
        page = open_reader(phone, api)
        page.locator("#modulos").wait_for()
        page.get_by_text("Avance enviado").wait_for(timeout=15_000)  # sent again on opening: duplicates
        assert page.get_by_text("por enviar").count() == 0
        assert len(posts) == 2
        assert [row["status"] for row in queued(page, woman.username)] == ["synced", "synced"]
        assert shelf.events_of(woman) == 2
        summary = _summary(api, woman.headers, slug)
        assert summary["completed_lessons"] == 1
        viewed = next(r["event"] for r in queued(page, woman.username) if r["event"]["type"] == "lesson_viewed")
        assert summary["lessons"][0]["seconds"] == viewed["payload"]["seconds"]  # counted once
    assert page.errors == []


def test_the_reader_is_accessible_on_a_320_px_screen(shelf: Shelf, browser: Any, axe_script: Path) -> None:
    """axe-core (WCAG 2.2 AA: contrast, labels, landmarks, names for a screen reader) on each of her screens, at
    the width of the smallest phones, with nothing wider than the screen."""
    woman, slug = shelf.factory.participant("PE"), shelf.module.slug
    # the CSP is lifted only so that axe can be injected; the other tests keep it
    context = browser.new_context(viewport={"width": 320, "height": 640}, bypass_csp=True, service_workers="allow")
    try:
        with live_server(shelf.settings) as api:
            page = open_reader(context, api)
            assert_accessible(page, axe_script, "login")
            log_in(page, woman)
            card(page, slug).wait_for()
            assert_accessible(page, axe_script, "module list")
            download(page, slug)
            card(page, slug).get_by_role("button", name="Estudiar").click()
            page.locator("#lecciones li").first.wait_for()
            assert_accessible(page, axe_script, "lessons of a module")
            page.locator("#lecciones li").first.get_by_role("button", name="Leer").click()
            page.locator("#leccion-texto p").first.wait_for()
            assert_accessible(page, axe_script, "a lesson")
            assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert page.errors == []
    finally:
        context.close()
