"""A small programme built in code (not read from ``modules_content/``), loaded into the test's transaction.

- ``saberes`` (required): ``valor`` (required, no quiz), ``oficios`` (required, a quiz with a single choice, a
  multiple choice and a true/false question, pass mark 0.6), ``extra`` (optional, no quiz).
- ``precio`` (required): ``costos`` (required, a one-question quiz, pass mark 1.0), ``cuentas`` (required).
- ``ferias`` (optional): ``mercados`` (required, no quiz).
"""

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session, sessionmaker

from app.content.service import load_modules
from app.content.spec import LessonSpec, ModuleSpec, OptionSpec, QuestionSpec, QuizSpec
from app.models import Enrolment
from app.storage import Storage


def option(option_id: str, correct: bool = False) -> OptionSpec:
    return OptionSpec(option_id, f"Opción {option_id}", correct)


OFICIOS_QUIZ = QuizSpec(
    pass_mark=0.6,
    questions=(
        QuestionSpec("q1", "single", "¿Qué es un oficio?", (option("a", True), option("b"), option("c"))),
        QuestionSpec("q2", "multiple", "¿Cuáles son saberes?",
                     (option("a", True), option("b", True), option("c"), option("d"))),
        QuestionSpec("q3", "true_false", "El tejido es un saber.", (option("v", True), option("f"))),
    ),
)
COSTOS_QUIZ = QuizSpec(
    pass_mark=1.0,
    questions=(QuestionSpec("p1", "single", "¿Qué incluye el precio justo?",
                            (option("a"), option("b", True), option("c"))),),
)


def lesson(slug: str, position: int, *, required: bool = True, quiz: QuizSpec | None = None,
           html: str | None = None) -> LessonSpec:
    return LessonSpec(slug=slug, title=f"Lección {slug}", estimated_minutes=10, required=required,
                      position=position, html=html or f"<p>Texto de {slug}.</p>", quiz=quiz)


def module(slug: str, position: int, lessons: tuple[LessonSpec, ...], *, required: bool = True) -> ModuleSpec:
    return ModuleSpec(slug=slug, title=f"Módulo {slug}", summary=f"Resumen de {slug}", position=position,
                      estimated_minutes=10 * len(lessons), required=required, objectives=("Aprender",),
                      lessons=lessons)


def programme() -> list[ModuleSpec]:
    return [
        module("saberes", 1, (lesson("valor", 1), lesson("oficios", 2, quiz=OFICIOS_QUIZ),
                              lesson("extra", 3, required=False))),
        module("precio", 2, (lesson("costos", 1, quiz=COSTOS_QUIZ), lesson("cuentas", 2))),
        module("ferias", 3, (lesson("mercados", 1),), required=False),
    ]


@dataclass
class Catalogue:
    """The loaded programme, and what a test needs to talk about it."""

    sessions: sessionmaker[Session]
    storage: Storage
    specs: dict[str, ModuleSpec]
    versions: dict[str, str] = field(default_factory=dict)

    # answers to OFICIOS_QUIZ and COSTOS_QUIZ
    oficios_right: dict[str, list[str]] = field(
        default_factory=lambda: {"q1": ["a"], "q2": ["a", "b"], "q3": ["v"]})
    oficios_wrong: dict[str, list[str]] = field(
        default_factory=lambda: {"q1": ["b"], "q2": ["c", "d"], "q3": ["f"]})
    costos_right: dict[str, list[str]] = field(default_factory=lambda: {"p1": ["b"]})
    costos_wrong: dict[str, list[str]] = field(default_factory=lambda: {"p1": ["a"]})

    required_lessons: dict[str, tuple[str, ...]] = field(default_factory=lambda: {
        "saberes": ("valor", "oficios"), "precio": ("costos", "cuentas"), "ferias": ("mercados",)})

    def load(self, *specs: ModuleSpec) -> dict[str, str]:
        """Loads (new versions of) modules; returns slug → the version now current."""
        with self.sessions() as session, session.begin():
            loaded = load_modules(session, self.storage, list(specs))
        for item, spec in zip(loaded, specs, strict=True):
            self.specs[spec.slug] = spec
            self.versions[spec.slug] = item.version
        return {item.slug: item.version for item in loaded}

    def changed(self, slug: str, **changes: Any) -> ModuleSpec:
        return replace(self.specs[slug], **changes)


@pytest.fixture
def catalogue(sessions: sessionmaker[Session], storage: Storage) -> Catalogue:
    cat = Catalogue(sessions=sessions, storage=storage, specs={})
    cat.load(*programme())
    return cat


def enrolled_since(sessions: sessionmaker[Session], participant_id: int | None, moment: datetime) -> None:
    """Dates her seat back to ``moment``: the tests' events happen in the past, and a completion is never dated
    before she was enrolled."""
    with sessions() as session, session.begin():
        session.execute(update(Enrolment).where(Enrolment.participant_id == participant_id)
                        .values(applied_at=moment, enrolled_at=moment))
