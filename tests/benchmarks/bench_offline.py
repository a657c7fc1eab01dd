"""Offline packages on the real programme: tier sizes, build time, download time at 2G/3G speeds, what an update
of one lesson costs, and the reader's weight gzipped (goal < 60 KB)."""

import gzip
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import brotli

from app.content.loader import load_content
from app.content.service import load_modules
from app.core.db import make_engine, make_sessionmaker
from app.offline import repository
from app.offline.builder import changed_files
from app.offline.narration import find_synthesiser
from app.offline.service import build_packages
from app.reader.router import served_files
from app.storage import LocalStorage
from tests.conftest import migrated_database
from tests.offline.conftest import CONTENT

SPEEDS_KBPS = (50, 70, 700)


def _manifests(sessions: Any, storage: LocalStorage, slug: str) -> dict[str, Any]:
    import json

    with sessions() as session:
        (_module, version), = repository.current_versions(session, [slug])
        rows = repository.packages_of(session, version.id)
        out = {}
        for tier, row in rows.items():
            with storage.open(row.manifest_sha256) as file:
                out[tier] = json.load(file)
        return out


def _package(sessions: Any, slug: str, tier: str) -> Any:
    with sessions() as session:
        (_module, version), = repository.current_versions(session, [slug])
        return repository.packages_of(session, version.id)[tier]


def _manifest_bytes(sessions: Any, slug: str, tier: str) -> int:
    return int(_package(sessions, slug, tier).manifest_bytes)


def _zip_bytes(sessions: Any, slug: str, tier: str) -> int:
    return int(_package(sessions, slug, tier).zip_bytes)


def run() -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="caminos-bench-offline-"))
    try:
        engine = make_engine(migrated_database("sqlite", folder))
        sessions, storage = make_sessionmaker(engine), LocalStorage(folder / "blobs")
        synthesiser = find_synthesiser()
        started = time.perf_counter()
        with sessions() as session, session.begin():
            load_modules(session, storage, load_content(CONTENT))
            report = build_packages(session, storage, synthesiser)
        build_seconds = time.perf_counter() - started
        started = time.perf_counter()
        with sessions() as session, session.begin():
            build_packages(session, storage, synthesiser, force=True)
        rebuild_seconds = time.perf_counter() - started
        modules: dict[str, Any] = {}
        for built in report:
            modules.setdefault(built.slug, {})[built.tier.value] = {
                "bytes": built.bytes, "build_seconds": round(built.seconds, 2),
                "narrated": f"{built.narrated_lessons}/{built.lessons}" if built.tier.value == "full" else None,
                "download_seconds": {f"{kbps}kbps": round(built.bytes * 8 / (kbps * 1000), 1)
                                     for kbps in SPEEDS_KBPS},
            }
        # update: one lesson of the second module gets a sentence more
        content = folder / "content"
        shutil.copytree(CONTENT, content)
        module_dir = sorted(p for p in content.iterdir() if p.is_dir())[1]
        slug = module_dir.name.split("-", 1)[1]
        lesson_file = sorted(module_dir.glob("*.md"))[2]
        lesson = lesson_file.stem.split("-", 1)[1]
        old = _manifests(sessions, storage, slug)
        lesson_file.write_text(lesson_file.read_text(encoding="utf-8") + "\nUna frase nueva.\n", encoding="utf-8")
        with sessions() as session, session.begin():
            load_modules(session, storage, load_content(content))
            build_packages(session, storage, synthesiser)
        new = _manifests(sessions, storage, slug)
        update = {}
        for tier in new:
            # what the reader fetches: the new manifest, and each file whose sha256 it does not hold yet
            held = {f["sha256"] for f in old[tier]["files"]}
            fetched = sum(f["bytes"] for f in new[tier]["files"] if f["sha256"] not in held)
            manifest = _manifest_bytes(sessions, slug, tier)
            lesson_bytes = sum(f["bytes"] for f in changed_files(old[tier], new[tier])
                               if f["path"] in {f"lessons/{lesson}.html", f"audio/{lesson}.opus",
                                                f"quizzes/{lesson}.json"})
            update[tier] = {"fetched_bytes": fetched + manifest, "lesson_files_bytes": lesson_bytes,
                            "manifest_bytes": manifest, "whole_zip_bytes": _zip_bytes(sessions, slug, tier),
                            "ratio": round((fetched + manifest) / (lesson_bytes + manifest), 3)}
        engine.dispose()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    # as served (the shell and worker rendered), the code and styles a phone fetches once; icons are PNGs already
    reader_files = {path: data for path, data in served_files().items() if not path.endswith(".png")}
    reader_gzip = sum(len(gzip.compress(data, 9)) for data in reader_files.values())
    reader_brotli = sum(len(brotli.compress(data, quality=5)) for data in reader_files.values())
    return {
        "synthesiser": "espeak-ng es-419 + opus" if synthesiser else "none (full built without narration)",
        "build_seconds": round(build_seconds, 1), "rebuild_seconds": round(rebuild_seconds, 1),
        "modules": modules, "update_one_lesson": update,
        "reader_gzip_bytes": reader_gzip, "reader_brotli_bytes": reader_brotli,
        "reader_gzip_goal_bytes": 60 * 1024,
    }
