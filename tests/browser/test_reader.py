"""The reader /aprender/ in headless Chromium, as a woman uses it: log in, download a module, lose the connection
(server stopped and browser offline), study a lesson with its picture, pass a quiz, and sync when back."""

from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import func, select

from app.content.loader import load_content
from app.content.service import load_modules
from app.core.db import make_engine, make_sessionmaker
from app.models import ProgressEvent
from app.offline.service import build_packages
from app.storage import storage_for
from tests.conftest import make_test_settings, migrated_database
from tests.factories import Factory
from tests.live import live_server
from tests.offline.conftest import CONTENT

# kept to look at, as tests/artifacts/certificado-*.png are (the folder's .gitignore keeps them out of git)
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts"


def test_study_offline_then_sync_once(browser: Any, tmp_path: Path) -> None:
    settings = make_test_settings(migrated_database("sqlite", tmp_path), data_dir=tmp_path / "data")
    engine = make_engine(settings.database_url)
    sessions = make_sessionmaker(engine)
    specs = load_content(CONTENT)
    with sessions() as session, session.begin():
        load_modules(session, storage_for(settings), specs)
        build_packages(session, storage_for(settings), None)  # narration is tested in tests/offline
    woman = Factory(sessions, settings).participant("PE")
    module = specs[0]
    quizzed = next(lesson for lesson in module.lessons if lesson.quiz is not None)
    assert quizzed.quiz is not None
    right = {q.id: sorted(q.correct_ids) for q in quizzed.quiz.questions}

    context = browser.new_context(viewport={"width": 360, "height": 800}, service_workers="allow")
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    try:
        with live_server(settings) as api:
            port = int(api.rsplit(":", 1)[1])
            page.goto(f"{api}/aprender/")
            page.fill("input[name=username]", woman.username)
            page.fill("#form-ingreso input[name=password]", "clave-segura-123")
            page.click("#form-ingreso button")
            card = page.locator(f"li[data-modulo='{module.slug}']")
            card.get_by_role("button", name="Descargar para estudiar sin conexión").click()
            card.get_by_text("Guardado en el teléfono").wait_for(timeout=30_000)
            page.evaluate("navigator.serviceWorker.ready")
        # the server is gone and the phone has no signal
        context.set_offline(True)
        page.reload()
        card = page.locator(f"li[data-modulo='{module.slug}']")
        card.get_by_role("button", name="Estudiar").click()
        page.locator("#lecciones li").first.get_by_role("button", name="Leer").click()
        image = page.locator("#leccion-texto img").first
        image.wait_for()
        page.wait_for_function("() => document.querySelector('#leccion-texto img').naturalWidth > 0")
        page.screenshot(path=str(ARTIFACTS / "lector-leccion-360x800.png"), full_page=True)  # with its picture
        page.click("#terminar")
        page.locator("#lecciones li").nth(quizzed.position - 1).get_by_role("button", name="Leer").click()
        for question, options in right.items():
            for option in options:
                page.check(f"#cuestionario input[name='{question}'][value='{option}']")
        page.click("#cuestionario button[type=submit]")
        page.get_by_text("se calificará al conectarte").wait_for()
        page.click(".volver-modulo")
        page.click(".volver")
        page.get_by_text("3 avance(s) por enviar").wait_for()
        page.screenshot(path=str(ARTIFACTS / "lector-modulos-360x800.png"))
        for name in ("lector-leccion-360x800.png", "lector-modulos-360x800.png"):
            assert (ARTIFACTS / name).stat().st_size > 5_000, name  # a picture, not an empty page

        with live_server(settings, port=port) as api:
            context.set_offline(False)
            page.evaluate("window.dispatchEvent(new Event('online'))")
            page.get_by_text("¡aprobado!").wait_for(timeout=20_000)
            summary = httpx.get(f"{api}/api/v1/me/progress", headers=woman.headers).json()
            ours = next(m for m in summary["modules"] if m["slug"] == module.slug)
            first = next(lesson for lesson in ours["lessons"] if lesson["slug"] == module.lessons[0].slug)
            assert first["completed_at"] is not None
            quiz = next(lesson for lesson in ours["lessons"] if lesson["slug"] == quizzed.slug)
            assert quiz["quiz_passed"] is True
            # opened again: syncs again, and nothing is sent twice or counted twice
            page.reload()
            page.locator(f"li[data-modulo='{module.slug}']").wait_for()
            page.wait_for_timeout(500)
            assert page.get_by_text("por enviar").count() == 0
            with sessions() as session:
                assert session.scalar(select(func.count()).select_from(ProgressEvent)) == 3
            assert httpx.get(f"{api}/api/v1/me/progress", headers=woman.headers).json() == summary
        assert errors == []
    finally:
        context.close()
        engine.dispose()
