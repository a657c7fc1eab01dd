"""The training content as validated, immutable values: what `caminos content load` reads from
``modules_content/`` and what a module version stores. A module's version is the hash of its content."""

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Literal

QuestionKind = Literal["single", "multiple", "true_false"]


@dataclass(frozen=True)
class OptionSpec:
    id: str
    text: str
    correct: bool


@dataclass(frozen=True)
class QuestionSpec:
    id: str
    kind: QuestionKind
    prompt: str
    options: tuple[OptionSpec, ...]

    @property
    def correct_ids(self) -> frozenset[str]:
        return frozenset(o.id for o in self.options if o.correct)


@dataclass(frozen=True)
class QuizSpec:
    pass_mark: float
    questions: tuple[QuestionSpec, ...]


@dataclass(frozen=True)
class MediaSpec:
    path: str  # relative to the module folder, e.g. "media/telar.svg"
    sha256: str
    media_type: str
    data: bytes = field(repr=False)


@dataclass(frozen=True)
class LessonSpec:
    slug: str
    title: str
    estimated_minutes: int
    required: bool
    position: int
    html: str  # sanitised; images point at /api/v1/blobs/<sha256>
    quiz: QuizSpec | None = None
    media: tuple[str, ...] = ()  # sha256 of the images the lesson shows


@dataclass(frozen=True)
class ModuleSpec:
    slug: str
    title: str
    summary: str
    position: int
    estimated_minutes: int
    required: bool
    objectives: tuple[str, ...]
    lessons: tuple[LessonSpec, ...]
    media: tuple[MediaSpec, ...] = ()

    def document(self) -> dict[str, Any]:
        """Everything a version must remember, as JSON (media by hash, not bytes)."""
        return {
            "slug": self.slug, "title": self.title, "summary": self.summary, "position": self.position,
            "estimated_minutes": self.estimated_minutes, "required": self.required,
            "objectives": list(self.objectives),
            "lessons": [lesson_document(lesson) for lesson in self.lessons],
            "media": {m.path: m.sha256 for m in self.media},
        }

    def content_hash(self) -> str:
        canonical = json.dumps(self.document(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return hashlib.sha256(canonical.encode()).hexdigest()


def lesson_document(lesson: LessonSpec) -> dict[str, Any]:
    return {
        "slug": lesson.slug, "title": lesson.title, "estimated_minutes": lesson.estimated_minutes,
        "required": lesson.required, "position": lesson.position, "html": lesson.html, "media": list(lesson.media),
        "quiz": None if lesson.quiz is None else {
            "pass_mark": lesson.quiz.pass_mark,
            "questions": [
                {"id": q.id, "kind": q.kind, "prompt": q.prompt,
                 "options": [{"id": o.id, "text": o.text, "correct": o.correct} for o in q.options]}
                for q in lesson.quiz.questions
            ],
        },
    }


def quiz_from_document(data: dict[str, Any] | None) -> QuizSpec | None:
    if data is None:
        return None
    return QuizSpec(
        pass_mark=float(data["pass_mark"]),
        questions=tuple(
            QuestionSpec(id=q["id"], kind=q["kind"], prompt=q["prompt"],
                         options=tuple(OptionSpec(o["id"], o["text"], bool(o["correct"])) for o in q["options"]))
            for q in data["questions"]
        ),
    )


@dataclass(frozen=True)
class ContentProblem:
    file: str  # relative to the content root
    line: int
    message: str  # Spanish, for the content author

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


class ContentInvalid(Exception):
    def __init__(self, problems: list[ContentProblem]) -> None:
        super().__init__("\n".join(str(p) for p in problems))
        self.problems = problems
