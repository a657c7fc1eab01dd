"""The server's own scoring of a quiz: each question one point; single choice and true/false need exactly the
right option; multiple choice earns the share of right options chosen minus the share of wrong options chosen,
never below zero (ticking everything earns nothing, whatever the mix of options); an unanswered
question earns nothing; malformed answers are refused."""

from typing import Any

import pytest

from app.content.scoring import InvalidAnswers, score_quiz
from app.content.spec import OptionSpec, QuestionSpec, QuizSpec


def options(right: str, wrong: str) -> tuple[OptionSpec, ...]:
    """Options named by letters: those in ``right`` are correct."""
    return tuple(OptionSpec(o, f"opción {o}", o in right) for o in sorted(right + wrong))


SINGLE = QuestionSpec("s", "single", "¿Cuál?", options("a", "bc"))
MULTIPLE = QuestionSpec("m", "multiple", "¿Cuáles?", options("ab", "cd"))  # two right, two wrong
TRUE_FALSE = QuestionSpec("t", "true_false", "¿Es cierto?", (OptionSpec("v", "Verdadero", True),
                                                            OptionSpec("f", "Falso", False)))


def quiz(*questions: QuestionSpec, pass_mark: float = 0.5) -> QuizSpec:
    return QuizSpec(pass_mark=pass_mark, questions=questions or (SINGLE, MULTIPLE, TRUE_FALSE))


RIGHT = {"s": ["a"], "m": ["a", "b"], "t": ["v"]}
WRONG = {"s": ["b"], "m": ["c", "d"], "t": ["f"]}


def test_all_right_scores_one_and_passes() -> None:
    result = score_quiz(quiz(pass_mark=1.0), RIGHT)
    assert result.score == 1.0
    assert result.passed is True


def test_order_of_chosen_options_does_not_matter() -> None:
    assert score_quiz(quiz(), {"s": ["a"], "m": ["b", "a"], "t": ["v"]}).score == 1.0


def test_all_wrong_scores_zero_and_fails() -> None:
    result = score_quiz(quiz(), WRONG)
    assert result.score == 0
    assert result.passed is False


def test_a_pass_mark_of_zero_passes_even_all_wrong() -> None:
    assert score_quiz(quiz(pass_mark=0.0), WRONG).passed is True


@pytest.mark.parametrize(
    ("chosen", "points"),
    [
        (["a", "b"], 1.0),
        (["a"], 0.5),  # one of two right
        (["b"], 0.5),
        (["a", "c"], 0.0),  # one right − one wrong
        (["a", "b", "c"], 0.5),  # two right − one wrong
        (["c"], 0.0),  # floored at zero, not −0.5
        (["c", "d"], 0.0),
        (["a", "b", "c", "d"], 0.0),  # ticking every option earns nothing
        ([], 0.0),
    ],
)
def test_multiple_choice_earns_partial_credit(chosen: list[str], points: float) -> None:
    result = score_quiz(quiz(MULTIPLE, pass_mark=1.0), {"m": chosen})
    assert result.score == pytest.approx(points)
    assert result.score >= 0
    assert result.passed is (points == 1.0)


def test_partial_credit_is_a_fraction_of_the_whole_quiz() -> None:
    # single right (1) + multiple half right (0.5) + true/false wrong (0) = 1.5 of 3
    result = score_quiz(quiz(pass_mark=0.6), {"s": ["a"], "m": ["a"], "t": ["f"]})
    assert result.score == pytest.approx(0.5)
    assert result.passed is False


def test_partial_credit_with_three_right_options() -> None:
    question = QuestionSpec("m3", "multiple", "¿Cuáles?", options("abc", "de"))
    assert score_quiz(quiz(question), {"m3": ["a", "b"]}).score == pytest.approx(2 / 3, abs=1e-4)
    assert score_quiz(quiz(question), {"m3": ["a", "b", "d"]}).score == pytest.approx(2 / 3 - 1 / 2, abs=1e-4)
    assert score_quiz(quiz(question), {"m3": ["a", "d", "e"]}).score == 0
    # more right options than wrong ones: ticking all of them still earns nothing
    assert score_quiz(quiz(question), {"m3": list("abcde")}).score == 0


@pytest.mark.parametrize("chosen", [["a", "b"], ["b", "c"], ["a", "b", "c"], [], ["b"]])
def test_single_choice_needs_exactly_the_right_option(chosen: list[str]) -> None:
    assert score_quiz(quiz(SINGLE), {"s": chosen}).score == 0


def test_single_choice_repeated_right_option_still_counts() -> None:
    assert score_quiz(quiz(SINGLE), {"s": ["a", "a"]}).score == 1.0


@pytest.mark.parametrize(("chosen", "points"), [(["v"], 1.0), (["f"], 0.0), (["v", "f"], 0.0), ([], 0.0)])
def test_true_false(chosen: list[str], points: float) -> None:
    assert score_quiz(quiz(TRUE_FALSE), {"t": chosen}).score == points


def test_unanswered_questions_count_zero() -> None:
    result = score_quiz(quiz(pass_mark=0.5), {"s": ["a"]})
    assert result.score == pytest.approx(1 / 3, abs=1e-4)
    assert result.passed is False
    assert score_quiz(quiz(), {}).score == 0


@pytest.mark.parametrize(
    ("pass_mark", "answers", "passed"),
    [
        (0.5, {"s": ["a"], "m": ["a"]}, True),  # 1.5 / 3 == 0.5: exactly the pass mark passes
        (0.5, {"m": ["a", "b"], "t": ["v"], "s": ["b"]}, True),  # 2 / 3
        (0.5, {"s": ["a"], "m": ["c"]}, False),  # 1 / 3
        (2 / 3, {"s": ["a"], "t": ["v"]}, True),  # 2 / 3, although the score is rounded
        (2 / 3, {"s": ["a"], "m": ["a"], "t": ["f"]}, False),  # 1.5 / 3
        (1.0, RIGHT, True),
        (1.0, {"s": ["a"], "m": ["a"], "t": ["v"]}, False),
    ],
)
def test_pass_mark_boundary(pass_mark: float, answers: dict[str, list[str]], passed: bool) -> None:
    assert score_quiz(quiz(pass_mark=pass_mark), answers).passed is passed


def test_pass_mark_boundary_with_ten_questions() -> None:
    questions = tuple(QuestionSpec(f"q{i}", "single", "¿?", options("a", "b")) for i in range(10))
    answers = {f"q{i}": ["a" if i < 7 else "b"] for i in range(10)}
    result = score_quiz(QuizSpec(pass_mark=0.7, questions=questions), answers)
    assert result.score == pytest.approx(0.7)
    assert result.passed is True
    answers["q6"] = ["b"]
    assert score_quiz(QuizSpec(pass_mark=0.7, questions=questions), answers).passed is False


@pytest.mark.parametrize(
    "answers",
    [
        {"nope": ["a"]},
        {"s": ["a"], "m": ["a", "b"], "t": ["v"], "x": []},  # every known question right, plus an unknown one
        {"S": ["a"]},  # ids are case-sensitive
    ],
)
def test_unknown_question_ids_are_refused(answers: dict[str, Any]) -> None:
    with pytest.raises(InvalidAnswers):
        score_quiz(quiz(), answers)


@pytest.mark.parametrize("answers", [None, [], [["a"]], "a", 1, 0.5, True])
def test_answers_that_are_not_an_object_are_refused(answers: Any) -> None:
    with pytest.raises(InvalidAnswers):
        score_quiz(quiz(), answers)


@pytest.mark.parametrize("answer", ["a", None, 1, {"a": True}, ("a",)])
def test_an_answer_that_is_not_a_list_is_refused(answer: Any) -> None:
    with pytest.raises(InvalidAnswers):
        score_quiz(quiz(), {"s": answer})


@pytest.mark.parametrize("answer", [[1], [None], ["a", 2], [["a"]], [True], [{"id": "a"}]])
def test_a_list_of_non_strings_is_refused(answer: Any) -> None:
    with pytest.raises(InvalidAnswers):
        score_quiz(quiz(), {"s": answer})


def test_a_malformed_answer_is_refused_even_after_valid_ones() -> None:
    with pytest.raises(InvalidAnswers):
        score_quiz(quiz(), {"s": ["a"], "m": ["a", "b"], "t": "v"})


def test_invalid_answers_is_a_value_error() -> None:
    assert issubclass(InvalidAnswers, ValueError)


@pytest.mark.parametrize(
    ("question", "chosen", "points"),
    [
        (SINGLE, ["zzz"], 0.0),
        (SINGLE, ["a", "zzz"], 0.0),
        (TRUE_FALSE, ["true"], 0.0),
        (MULTIPLE, ["zzz"], 0.0),
        (MULTIPLE, ["a", "zzz"], 0.0),  # one right − one wrong (the unknown)
        (MULTIPLE, ["a", "b", "zzz"], 0.5),
        (MULTIPLE, ["a", "b", "y", "z"], 0.0),
    ],
)
def test_unknown_option_ids_count_as_wrong(question: QuestionSpec, chosen: list[str], points: float) -> None:
    assert score_quiz(quiz(question), {question.id: chosen}).score == pytest.approx(points)


def test_score_is_between_zero_and_one() -> None:
    every = {"s": ["a", "b", "c"], "m": ["a", "b", "c", "d"], "t": ["v", "f"]}
    for answers in (RIGHT, WRONG, every, {}, {"m": ["a", "b", "c"]}):
        assert 0.0 <= score_quiz(quiz(), answers).score <= 1.0
