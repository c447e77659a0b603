"""Denormalised counters stay equal to their rows when many requests change them at once, on real
PostgreSQL (SQLite has one writer at a time, so the race cannot happen there). Set
INTRANET_TEST_DATABASE_URL to a PostgreSQL database to run these (CI's second pass does)."""
from __future__ import annotations

import os
import random
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import func, select

from intranet.extensions import db
from intranet.models import User
from intranet_questions import services
from intranet_questions.models import Question, Vote
from test_questions import _ask, _meeting

pytestmark = pytest.mark.skipif(
    not os.environ.get("INTRANET_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="needs PostgreSQL: set INTRANET_TEST_DATABASE_URL=postgresql://… (the race is PostgreSQL's)")

VOTERS, QUESTIONS, THREADS = 24, 6, 16


def _in_parallel(app, work: list[tuple[int, int]], change) -> list[str]:
    """Run ``change(question, user)`` for every (question id, user id) from many threads at once, each
    in its own request and transaction; returns the errors (none expected)."""
    start, errors = threading.Barrier(THREADS), []

    def run(chunk):
        start.wait()
        for qid, uid in chunk:
            with app.test_request_context():
                try:
                    change(db.session.get(Question, qid), db.session.get(User, uid))
                    db.session.commit()
                except Exception as exc:  # noqa: BLE001 — any failure is a finding, reported below
                    db.session.rollback()
                    errors.append(f"{type(exc).__name__}: {exc}")

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(run, [work[i::THREADS] for i in range(THREADS)]))
    return errors


def _counts(app) -> dict[int, tuple[int, int]]:
    with app.app_context():
        rows = dict(db.session.execute(select(Vote.question_id, func.count()).group_by(Vote.question_id)).all())
        return {q.id: (q.votes, rows.get(q.id, 0)) for q in db.session.scalars(select(Question))}


def test_concurrent_votes_and_unvotes_are_all_counted(app, data, qcell):
    sid = _meeting(app)
    voters = [data.user(f"dv{i:02d}", "DIST") for i in range(VOTERS)]
    authors = ["member1", "member2", "member3", "chiuy", "phobithu", "bithu"][:QUESTIONS]
    questions = [_ask(app, sid, author, f"Câu hỏi của {author}") for author in authors]
    work = [(q, u) for q in questions for u in voters]
    random.Random(11).shuffle(work)

    assert _in_parallel(app, work, services.toggle_vote) == []
    assert _counts(app) == {q: (VOTERS, VOTERS) for q in questions}

    taken_back = work[::2]  # half of the votes taken back, all at once
    assert _in_parallel(app, taken_back, services.toggle_vote) == []
    expected = {q: VOTERS - sum(1 for tq, _u in taken_back if tq == q) for q in questions}
    assert _counts(app) == {q: (n, n) for q, n in expected.items()}


def test_votes_racing_a_merge_end_on_the_surviving_question(app, data, qcell):
    sid = _meeting(app)
    voters = [data.user(f"dv{i:02d}", "DIST") for i in range(VOTERS)]
    duplicate, into = _ask(app, sid, "member1", "Hỏi hai lần"), _ask(app, sid, "member2", "Hỏi hai lần nữa")
    with app.app_context():
        chair = db.session.scalar(select(User).where(User.username == "bithu")).id
    work = [(duplicate, u) for u in voters] + [(into, u) for u in voters[::3]]
    random.Random(7).shuffle(work)
    work.insert(THREADS * 3, (duplicate, chair))  # the merge lands in the middle of the votes

    def vote_or_merge(question, user):
        if user.id == chair:
            services.merge(question, db.session.get(Question, into), user)
        else:
            try:
                services.toggle_vote(question, user)
            except services.QueueError:  # "only open questions take votes": merged meanwhile
                pass

    assert _in_parallel(app, work, vote_or_merge) == []
    counts = _counts(app)
    assert all(stored == rows for stored, rows in counts.values()), counts
    assert counts[duplicate] == (0, 0)
