"""Offline packages of the real programme: budgets, byte-identical rebuilds, narration, and small updates."""

import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

from PIL import Image

from app.models import Narration, OfflinePackage
from app.offline import repository
from app.offline.builder import changed_files
from app.offline.tiers import BUDGET_BYTES, TIERS, Tier
from tests.offline.conftest import CONTENT, Built

MODULES = sorted(path.name.split("-", 1)[1] for path in CONTENT.iterdir() if path.is_dir())


def package_rows(built: Built, slug: str) -> dict[str, OfflinePackage]:
    with built.sessions() as session:
        (_module, version), = repository.current_versions(session, [slug])
        return repository.packages_of(session, version.id)


def zip_files(built: Built, row: OfflinePackage) -> dict[str, bytes]:
    with built.storage.open(row.zip_sha256) as file, zipfile.ZipFile(io.BytesIO(file.read())) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def manifest(built: Built, row: OfflinePackage) -> dict[str, Any]:
    with built.storage.open(row.manifest_sha256) as file:
        document: dict[str, Any] = json.load(file)
    return document


def test_every_tier_of_every_module_is_within_its_budget(built: Built) -> None:
    assert {(b.slug, b.tier) for b in built.report} == {(m, t) for m in MODULES for t in TIERS}
    for tier in built.report:
        assert tier.bytes <= BUDGET_BYTES[tier.tier], tier
        assert tier.within_budget
    sizes = {(b.slug, b.tier): b.bytes for b in built.report}
    for slug in MODULES:
        assert sizes[slug, Tier.TEXT] < sizes[slug, Tier.LIGHT] < sizes[slug, Tier.FULL]


def test_the_zip_holds_exactly_what_its_manifest_lists(built: Built) -> None:
    import hashlib

    for slug in MODULES:
        for tier, row in package_rows(built, slug).items():
            files = zip_files(built, row)
            listed = manifest(built, row)
            assert listed["module"] == slug
            assert listed["tier"] == tier
            assert json.loads(files.pop("manifest.json")) == listed
            assert {f["path"]: (f["sha256"], f["bytes"]) for f in listed["files"]} == {
                path: (hashlib.sha256(data).hexdigest(), len(data)) for path, data in files.items()}
            paths = set(files)
            if tier == "text":
                assert not any(p.startswith(("media/", "audio/")) for p in paths), paths
            if tier == "light":
                assert any(p.startswith("media/") for p in paths)
                assert not any(p.startswith("audio/") for p in paths)
            if tier == "full":  # every lesson spoken
                module = json.loads(files["module.json"])
                assert all(lesson["audio"] in files for lesson in module["lessons"])
                assert all(files[lesson["audio"]].startswith(b"OggS") for lesson in module["lessons"])


def test_quizzes_in_packages_never_say_which_answer_is_right(built: Built) -> None:
    for slug in MODULES:
        files = zip_files(built, package_rows(built, slug)["text"])
        quizzes = [json.loads(data) for path, data in files.items() if path.startswith("quizzes/")]
        assert quizzes
        for quiz in quizzes:
            for question in quiz["questions"]:
                for option in question["options"]:
                    assert set(option) == {"id", "text"}


def test_zips_are_deterministic_entries_sorted_fixed_time_and_mode(built: Built) -> None:
    row = package_rows(built, MODULES[0])["full"]
    with built.storage.open(row.zip_sha256) as file, zipfile.ZipFile(io.BytesIO(file.read())) as archive:
        infos = archive.infolist()
    assert [i.filename for i in infos] == sorted(i.filename for i in infos)
    assert {i.date_time for i in infos} == {(1980, 1, 1, 0, 0, 0)}
    assert {i.external_attr >> 16 for i in infos} == {0o100644}


def test_building_twice_changes_nothing_and_a_forced_rebuild_gives_the_same_bytes(built: Built) -> None:
    before = {(b.slug, b.tier): b.sha256 for b in built.report}
    again = built.load_and_build(CONTENT)
    assert not any(b.rebuilt for b in again)
    forced = built.load_and_build(CONTENT, force=True)
    assert all(b.rebuilt for b in forced)
    # the narration is synthesised once per text and voice: a rebuild reuses it, so the zips are byte-identical
    assert {(b.slug, b.tier): b.sha256 for b in forced} == before
    with built.sessions() as session:
        lessons = sum(row.lessons for slug in MODULES for row in [package_rows(built, slug)["full"]])
        assert session.query(Narration).count() == lessons


def test_changing_one_lesson_makes_an_update_of_only_that_lessons_files(built: Built, tmp_path: Path) -> None:
    content = tmp_path / "modules_content"
    shutil.copytree(CONTENT, content)
    module_dir = sorted(p for p in content.iterdir() if p.is_dir())[1]
    slug = module_dir.name.split("-", 1)[1]
    lesson_file = sorted(module_dir.glob("*.md"))[2]
    lesson = lesson_file.stem.split("-", 1)[1]
    old = {tier: manifest(built, row) for tier, row in package_rows(built, slug).items()}
    lesson_file.write_text(lesson_file.read_text(encoding="utf-8") + "\nUna frase nueva al final.\n",
                           encoding="utf-8")
    try:
        report = built.load_and_build(content)
        assert {(b.slug, b.tier) for b in report if b.rebuilt} == {(slug, t) for t in TIERS}
        new = {tier: manifest(built, row) for tier, row in package_rows(built, slug).items()}
        for tier in ("text", "light", "full"):
            fetched = {f["path"] for f in changed_files(old[tier], new[tier])}
            expected = {f"lessons/{lesson}.html"} | ({f"audio/{lesson}.opus"} if tier == "full" else set())
            assert fetched == expected, (tier, fetched)
            assert new[tier]["version"] != old[tier]["version"]
    finally:
        built.load_and_build(CONTENT)  # the original version is current again for the other tests
    assert {tier: manifest(built, row) for tier, row in package_rows(built, slug).items()} == old


def test_raster_images_are_reencoded_per_tier_and_a_recording_replaces_the_voice(built: Built,
                                                                                  tmp_path: Path) -> None:
    content = tmp_path / "modules_content"
    shutil.copytree(CONTENT, content)
    module_dir = sorted(p for p in content.iterdir() if p.is_dir())[0]
    slug = module_dir.name.split("-", 1)[1]
    lesson_file = sorted(module_dir.glob("*.md"))[0]
    lesson = lesson_file.stem.split("-", 1)[1]
    photo = io.BytesIO()
    # a detailed picture, 2000 px wide, as a phone's camera gives it
    Image.effect_mandelbrot((2000, 1200), (-2.2, -1.2, 1.0, 1.2), 256).convert("RGB").save(photo, "JPEG",
                                                                                           quality=90)
    assert len(photo.getvalue()) < 1024 * 1024
    (module_dir / "media" / "foto.jpg").write_bytes(photo.getvalue())
    lesson_file.write_text(lesson_file.read_text(encoding="utf-8") + "\n![Una foto del taller](media/foto.jpg)\n",
                           encoding="utf-8")
    recording = zip_files(built, package_rows(built, MODULES[2])["full"])
    recorded = next(data for path, data in sorted(recording.items()) if path.startswith("audio/"))
    (module_dir / "media" / f"{lesson}.opus").write_bytes(recorded)
    try:
        report = built.load_and_build(content)
        assert all(b.within_budget for b in report)
        rows = package_rows(built, slug)
        light, full = zip_files(built, rows["light"]), zip_files(built, rows["full"])
        with Image.open(io.BytesIO(light["media/foto.webp"])) as image:
            assert image.format == "WEBP"
            assert image.width == 640
        with Image.open(io.BytesIO(full["media/foto.webp"])) as image:
            assert image.format == "WEBP"
            assert image.width == 1280
        assert b'src="../media/foto.webp"' in light[f"lessons/{lesson}.html"]
        assert "[Imagen: Una foto del taller]" in zip_files(built, rows["text"])[f"lessons/{lesson}.html"].decode()
        assert full[f"audio/{lesson}.opus"] == recorded
    finally:
        built.load_and_build(CONTENT)
