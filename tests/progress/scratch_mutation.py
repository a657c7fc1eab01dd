import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import app.enrolment.service as es
from app.models import EnrolmentStatus
from tests.progress import test_merge_properties as t
from tests.progress.test_merge_properties import learners  # noqa: F401

COUNT = {"done": 0, "all": 0}


def never_lower(session, participant_id, at):
    enrolment = es.repository.active_enrolment(session, participant_id)
    if enrolment.status is EnrolmentStatus.ENROLLED:
        enrolment.status, enrolment.completed_at = EnrolmentStatus.COMPLETED, at


@pytest.mark.parametrize("mutant", [False, True])
def test_mutant(monkeypatch, sessions, learners, mutant):  # noqa: F811
    if mutant:
        monkeypatch.setattr(es, "mark_programme_completed", never_lower)
    orig = t.summaries

    def counting(s, pid):
        out = orig(s, pid)
        COUNT["all"] += 1
        COUNT["done"] += out["programme_completed"]
        return out
    monkeypatch.setattr(t, "summaries", counting)
    inner = t.test_any_order_with_repeats_gives_the_same_summaries.hypothesis.inner_test
    try:
        settings(max_examples=35, deadline=None, suppress_health_check=list(HealthCheck))(
            given(stream=t.streams(), data=st.data())(lambda stream, data: inner(sessions, learners, stream, data)))()
    finally:
        print("STATS", mutant, COUNT)
