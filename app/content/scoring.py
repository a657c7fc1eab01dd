"""The server's own scoring of a submitted quiz."""

from dataclasses import dataclass
from typing import Any

from app.content.spec import QuizSpec


class InvalidAnswers(ValueError):
    """The answers are malformed or name questions the quiz does not have."""


@dataclass(frozen=True)
class QuizResult:
    score: float  # 0..1
    passed: bool


def score_quiz(quiz: QuizSpec, answers: Any) -> QuizResult:
    """Each question is worth one point. Single choice and true/false: the one right option. Multiple choice:
    partial credit, the share of right options chosen minus the share of wrong options chosen, never below
    zero, so that ticking everything earns nothing whatever the mix. An unanswered question scores zero."""
    if not isinstance(answers, dict):
        raise InvalidAnswers("answers must be an object")
    questions = {q.id: q for q in quiz.questions}
    unknown = set(answers) - set(questions)
    if unknown:
        raise InvalidAnswers(f"unknown questions: {sorted(unknown)}")
    points = 0.0
    for question_id, chosen in answers.items():
        if not isinstance(chosen, list) or not all(isinstance(o, str) for o in chosen):
            raise InvalidAnswers(f"answer to {question_id} must be a list of option ids")
        question = questions[question_id]
        selected, right = set(chosen), question.correct_ids
        if question.kind == "multiple":
            wrong = {o.id for o in question.options} - right
            penalty = len(selected - right) / len(wrong) if wrong else 0.0
            points += max(0.0, len(selected & right) / len(right) - penalty)
        else:
            points += 1.0 if selected == right else 0.0
    score = round(points / len(quiz.questions), 4)
    return QuizResult(score=score, passed=score >= quiz.pass_mark - 1e-9)
