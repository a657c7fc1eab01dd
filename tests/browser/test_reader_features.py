"""The reader's features one by one in headless Chromium at 360×800, as women use them: a module carried by hand,
progreso.json, activation, a shared phone, "sólo con wifi", a cut download, an expired session, refused events,
narration from the cache, and a page killed mid-sync. "Offline" is the server stopped AND the context offline."""

import io
import json
import zipfile
from pathlib import Path
from typing import Any

import httpx

from tests.browser.reader_kit import (
    PASSWORD,
    Shelf,
    back_online,
    card,
    cut_once,
    download,
    live_server,
    log_in,
    offline,
    open_reader,
    pending,
    phone,
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
    page.wait_for_function("document.querySelector('#leccion-texto img') && "
                           "document.querySelector('#leccion-texto img').naturalWidth > 0")
    assert "Compre en esta tienda" not in page.inner_text("#leccion-texto")
    not_a_zip = tmp_path / "foto.zip"
    not_a_zip.write_bytes(b"\x89PNG no es un zip" * 10)
    page.set_input_files("#abrir-zip", str(not_a_zip))
    page.get_by_text("no es un módulo").wait_for()
    assert page.errors == []
