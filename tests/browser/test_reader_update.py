"""A phone holding version N of a module sees N+1 after one lesson changed: the reader fetches the new manifest
and only the files whose hash it lacks (from /blobs), not the zip again, counted from the page's own requests; a
cut on the way leaves version N whole, and trying again finishes."""

from pathlib import Path
from typing import Any

from app.offline.builder import changed_files
from tests.browser.reader_kit import (
    card,
    copy_content,
    cut_once,
    download,
    live_server,
    log_in,
    manifest_of,
    offline,
    open_reader,
    phone,
    port_of,
    shelf_on,
)

__all__ = ["phone"]  # fixture


def test_an_update_fetches_only_the_changed_lesson_and_the_new_manifest(backend: str, phone: Any,
                                                                         tmp_path: Path) -> None:
    content = copy_content(tmp_path)
    with shelf_on(backend, tmp_path, content, narrate=False) as shelf:
        woman, slug = shelf.factory.participant("PE"), shelf.module.slug
        with live_server(shelf.settings) as api:
            page = open_reader(phone, api)
            log_in(page, woman)
            download(page, slug, "light")
            old = manifest_of(api, woman, slug, "light")
        module_dir = next(p for p in content.iterdir() if p.name.endswith(slug))
        lesson_file = sorted(module_dir.glob("*.md"))[2]
        lesson = lesson_file.stem.split("-", 1)[1]
        lesson_file.write_text(lesson_file.read_text(encoding="utf-8") + "\nUna frase nueva al final.\n",
                               encoding="utf-8")
        shelf.load_and_build(content)

        with live_server(shelf.settings, port=port_of(api)) as api:
            new = manifest_of(api, woman, slug, "light")
            manifest_size = len(manifest_bytes(api, woman, slug))
        assert new["version"] != old["version"]
        lacking = [f for f in changed_files(old, new) if f["sha256"] not in {g["sha256"] for g in old["files"]}]
        assert [f["path"] for f in lacking] == [f"lessons/{lesson}.html"]
        # the first try of the update loses the signal halfway through the changed lesson
        cut = cut_once(f"/blobs/{lacking[0]['sha256']}", lacking[0]["bytes"] // 2, [])
        with live_server(shelf.settings, port=port_of(api), wrap=cut) as api:
            page.reload()
            found = card(page, slug)
            found.get_by_text("Hay una versión nueva").wait_for()
            found.get_by_role("button", name="Actualizar el módulo").click()
            page.get_by_text("Se cortó la descarga").wait_for()
            # nothing half-installed: the version she had is whole and still the one she studies
            assert page.evaluate(f"() => get('modules', '{slug}')")["version"] == old["version"]
            page.evaluate("() => performance.clearResourceTimings()")
            found.get_by_role("button", name="Actualizar el módulo").click()
            page.get_by_text("Módulo actualizado").wait_for(timeout=30_000)
            # what the page itself fetched, as the browser counted it (Resource Timing: URL and body bytes)
            fetched = [(url.split("/api/v1", 1)[-1], size) for url, size in page.evaluate(
                "() => performance.getEntriesByType('resource').map((e) => [e.name, e.encodedBodySize])")]
            files = [(url, size) for url, size in fetched
                     if url.startswith("/blobs/") or url.endswith((".zip", "/manifest"))]
            assert not [url for url, _size in files if url.endswith(".zip")]  # never the whole module again
            assert sorted(url for url, _size in files) == sorted(
                [f"/modules/{slug}/offline/light/manifest", *(f"/blobs/{f['sha256']}" for f in lacking)])
            needed = sum(f["bytes"] for f in lacking) + manifest_size
            spent = sum(size for _url, size in files)
            assert spent <= 1.1 * needed, (spent, needed)
            saved = page.evaluate(f"() => get('modules', '{slug}')")
            assert saved["version"] == new["version"]
            assert saved["manifest"] == new
        offline(phone, page)  # the updated lesson is there with no connection, the others as they were
        card(page, slug).get_by_role("button", name="Estudiar").click()
        position = next(i for i, item in enumerate(shelf.module.lessons) if item.slug == lesson)
        page.locator("#lecciones li").nth(position).get_by_role("button", name="Leer").click()
        page.get_by_text("Una frase nueva al final.").wait_for()
        page.click(".volver-modulo")
        page.locator("#lecciones li").first.get_by_role("button", name="Leer").click()
        page.locator("#leccion-texto p").first.wait_for()
        assert page.errors == []


def manifest_bytes(api: str, woman: Any, slug: str) -> bytes:
    import httpx

    return httpx.get(f"{api}/api/v1/modules/{slug}/offline/light/manifest", headers=woman.headers).content
