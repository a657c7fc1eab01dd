"""What one tier of one module version holds, file by file: pure functions of the version's document and of the
stored media, so that the same content always gives the same files (and so the same zip and ETag).

Layout (paths relative to the package)::

    module.json              title, summary, lessons in order with the paths of their files (no version: an edit
                             of one lesson changes only that lesson's files)
    lessons/<lesson>.html    the lesson; images as ../media/<name>, or their description in the text tier
    quizzes/<lesson>.json    the questions and options, never which are right (the server scores)
    media/<name>             images (light: WebP <= 640 px; full: <= 1280 px; SVG as it is)
    audio/<lesson>.opus      spoken narration (full)
    manifest.json            in the zip only: {"module", "version", "tier", "files": [{"path", "sha256", "bytes"}]}
"""

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any

from app.offline.images import webp
from app.offline.tiers import IMAGE_WIDTH, Tier

MANIFEST = "manifest.json"
_IMG = re.compile(r"<img\b[^>]*>")
_SRC = re.compile(r'\ssrc="/api/v1/blobs/([0-9a-f]{64})"')
_ALT = re.compile(r'\salt="([^"]*)"')
_RASTER = {"image/png", "image/jpeg", "image/webp"}
_WEBP_QUALITY = {Tier.LIGHT: 60, Tier.FULL: 72}

# (lesson slug, title, html) → Ogg Opus bytes, or None when there is no narration to give
Narrator = Callable[[str, str, str], bytes | None]
# sha256 → the stored bytes of a media file
MediaReader = Callable[[str], bytes]


@dataclass(frozen=True)
class Package:
    files: dict[str, bytes]  # path → bytes, without the manifest
    manifest: bytes
    narrated_lessons: int
    lessons: int

    def manifest_document(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.manifest)
        return document


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def media_type_of(path: str) -> str:
    suffix = PurePosixPath(path).suffix
    return {".html": "text/html; charset=utf-8", ".json": "application/json", ".svg": "image/svg+xml",
            ".webp": "image/webp", ".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg",
            ".opus": "audio/ogg", ".ogg": "audio/ogg"}.get(suffix, "application/octet-stream")


def recorded_narration(document: dict[str, Any], lesson_slug: str) -> str | None:
    """The sha256 of ``media/<lesson>.opus`` (or ``.ogg``) when the content team recorded the lesson."""
    media: dict[str, str] = document.get("media", {})
    return media.get(f"media/{lesson_slug}.opus") or media.get(f"media/{lesson_slug}.ogg")


def build(slug: str, version: str, document: dict[str, Any], tier: Tier, media_types: dict[str, str],
          read_media: MediaReader, narrate: Narrator) -> Package:
    """``media_types``: sha256 → media type of every image the version shows."""
    files: dict[str, bytes] = {}
    names = _media_names(document)
    converted: dict[str, str] = {}  # sha256 of the original → path in the package

    def image_path(sha256: str) -> str | None:
        if tier is Tier.TEXT or sha256 not in names:
            return None
        if sha256 not in converted:
            name, media_type = names[sha256], media_types.get(sha256, "")
            data = read_media(sha256)
            if media_type in _RASTER:
                data, name = webp(data, IMAGE_WIDTH[tier], _WEBP_QUALITY[tier]), f"{PurePosixPath(name).stem}.webp"
                if f"media/{name}" in files:  # telar.png next to telar.jpg
                    name = f"{PurePosixPath(names[sha256]).name}.webp"
            files[f"media/{name}"] = data
            converted[sha256] = f"media/{name}"
        return converted[sha256]

    def image(match: re.Match[str]) -> str:
        tag = match.group(0)
        src, alt = _SRC.search(tag), _ALT.search(tag)
        path = image_path(src.group(1)) if src else None
        if path is None:  # the text tier says what the picture shows
            description = alt.group(1) if alt else ""
            return f'<span class="imagen-omitida">[Imagen: {description}]</span>' if description else ""
        return _SRC.sub(lambda _m: f' src="../{path}"', tag)

    lessons, narrated = [], 0
    for lesson in document["lessons"]:
        lesson_slug = lesson["slug"]
        html = _IMG.sub(image, lesson["html"])
        files[f"lessons/{lesson_slug}.html"] = html.encode()
        entry: dict[str, Any] = {
            "slug": lesson_slug, "title": lesson["title"], "estimated_minutes": lesson["estimated_minutes"],
            "required": lesson["required"], "html": f"lessons/{lesson_slug}.html", "quiz": None, "audio": None,
        }
        if lesson["quiz"] is not None:
            files[f"quizzes/{lesson_slug}.json"] = canonical_json(_quiz_without_answers(lesson["quiz"]))
            entry["quiz"] = f"quizzes/{lesson_slug}.json"
        if tier is Tier.FULL:
            audio = narrate(lesson_slug, lesson["title"], lesson["html"])
            if audio is not None:
                files[f"audio/{lesson_slug}.opus"] = audio
                entry["audio"] = f"audio/{lesson_slug}.opus"
                narrated += 1
        lessons.append(entry)
    files["module.json"] = canonical_json({
        "format": 1, "module": slug, "tier": tier.value, "title": document["title"],
        "summary": document["summary"], "estimated_minutes": document["estimated_minutes"],
        "objectives": document["objectives"], "lessons": lessons,
    })
    manifest = canonical_json({
        "module": slug, "version": version, "tier": tier.value,
        "files": [{"path": path, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}
                  for path, data in sorted(files.items())],
    })
    return Package(files=files, manifest=manifest, narrated_lessons=narrated, lessons=len(lessons))


def _media_names(document: dict[str, Any]) -> dict[str, str]:
    """sha256 → file name, for the images (narration recordings are audio, not shown)."""
    names: dict[str, str] = {}
    for path, sha256 in sorted(document.get("media", {}).items()):
        if not path.endswith((".opus", ".ogg")):
            names.setdefault(sha256, PurePosixPath(path).name)
    return names


def _quiz_without_answers(quiz: dict[str, Any]) -> dict[str, Any]:
    return {
        "pass_mark": quiz["pass_mark"],
        "questions": [{"id": q["id"], "kind": q["kind"], "prompt": q["prompt"],
                       "options": [{"id": o["id"], "text": o["text"]} for o in q["options"]]}
                      for q in quiz["questions"]],
    }


def changed_files(old_manifest: dict[str, Any], new_manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """What a holder of the old version must fetch: files of the new one whose (path, sha256) she lacks."""
    held = {(f["path"], f["sha256"]) for f in old_manifest["files"]}
    return [f for f in new_manifest["files"] if (f["path"], f["sha256"]) not in held]

