from typing import Literal

from pydantic import BaseModel


class ModuleSummary(BaseModel):
    slug: str
    title: str
    summary: str
    version: str
    version_number: int
    lessons: int
    estimated_minutes: int
    required: bool
    objectives: list[str]


class LessonSummary(BaseModel):
    slug: str
    title: str
    estimated_minutes: int
    required: bool
    has_quiz: bool


class ModuleDetail(BaseModel):
    slug: str
    title: str
    summary: str
    version: str
    version_number: int
    estimated_minutes: int
    required: bool
    objectives: list[str]
    lessons: list[LessonSummary]


class OptionOut(BaseModel):
    id: str
    text: str


class QuestionOut(BaseModel):
    id: str
    kind: Literal["single", "multiple", "true_false"]
    prompt: str
    options: list[OptionOut]


class QuizOut(BaseModel):
    """A quiz as shown to the learner: the correct answers stay on the server."""

    pass_mark: float
    questions: list[QuestionOut]


class LessonOut(BaseModel):
    slug: str
    title: str
    module: str
    version: str
    estimated_minutes: int
    required: bool
    html: str
    quiz: QuizOut | None = None
