"""Denormalised counters stay equal to their rows when many requests change them at once, on real
PostgreSQL (SQLite has one writer at a time, so the race cannot happen there). Set
INTRANET_TEST_DATABASE_URL to a PostgreSQL database to run these (CI's second pass does)."""

from __future__ import annotations

import os
import random
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from test_meetings import _batch, _configure, _enter, _now_ms, _online
from test_questions import _ask, _meeting

from intranet.extensions import db
from intranet.models import User
from intranet.refusals import ServiceError
from intranet_meetings import services as meetings
from intranet_meetings.models import Event, Participant
from intranet_questions import services
from intranet_questions.models import Question, Vote
from intranet_scheduling.models import Meeting

pytestmark = pytest.mark.skipif(
    not os.environ.get("INTRANET_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="needs PostgreSQL: set INTRANET_TEST_DATABASE_URL=postgresql://… (the race is PostgreSQL's)",
)

VOTERS, QUESTIONS, THREADS = 24, 6, 16


def _in_parallel(app, work: list, change) -> list[str]:
    """Run ``change(item)`` for every item of ``work`` from many threads at once, each in its own
    request and transaction; returns the errors (none expected)."""
    start, errors = threading.Barrier(THREADS), []

    def run(chunk):
        start.wait()
        for item in chunk:
            with app.test_request_context():
                try:
                    change(item)
                    db.session.commit()
                except Exception as exc:  # noqa: BLE001 — any failure is a finding, reported below
                    db.session.rollback()
                    errors.append(f"{type(exc).__name__}: {exc}")

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(run, [work[i::THREADS] for i in range(THREADS)]))
    return errors


def _as_vote(change):
    """``change(question, user)`` for a (question id, user id) item."""
    return lambda item: change(db.session.get(Question, item[0]), db.session.get(User, item[1]))


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

    assert _in_parallel(app, work, _as_vote(lambda q, u: services.set_vote(q, u, True))) == []
    assert _counts(app) == {q: (VOTERS, VOTERS) for q in questions}

    taken_back = work[::2]  # half of the votes taken back, all at once
    assert _in_parallel(app, taken_back, _as_vote(lambda q, u: services.set_vote(q, u, False))) == []
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
                services.set_vote(question, user, True)
            except ServiceError:  # "only open questions take votes": merged meanwhile
                pass

    assert _in_parallel(app, work, _as_vote(vote_or_merge)) == []
    counts = _counts(app)
    assert all(stored == rows for stored, rows in counts.values()), counts
    assert counts[duplicate] == (0, 0)


def test_one_participants_batches_in_parallel_lose_no_count(app, qcell):
    """A page's batches reach two workers at once: every reconnect is counted, none overwritten."""
    _configure(app)
    sid = _online(app)
    _enter(app, sid, "member1", ago=timedelta(minutes=10))
    start = _now_ms(-500)
    batches = [
        _batch(
            app,
            sid,
            "member1",
            f"b-par-{i:04d}",
            events=[
                {"t": start + i * 10_000, "kind": "dropped"},
                {"t": start + i * 10_000 + 1000, "kind": "reconnected"},
            ],
        )
        for i in range(THREADS * 2)
    ]

    def send(batch):
        meetings.ingest(db.session.get(Meeting, sid), db.session.get(User, qcell["member"]), batch, datetime.now(UTC))

    assert _in_parallel(app, batches, send) == []
    with app.app_context():
        person = db.session.get(Participant, (sid, qcell["member"]))
        kinds = list(db.session.scalars(select(Event.kind).where(Event.session_id == sid)))
        assert kinds.count("dropped") == kinds.count("reconnected") == THREADS * 2
        # Applied one after the other: each batch drops the link its predecessor restored (the first
        # found none) and restores it.
        assert (person.reconnects, person.drops) == (THREADS * 2, THREADS * 2 - 1)


def test_tasks_added_at_once_get_distinct_numbers(app, qcell):
    from datetime import date

    from test_evaluations import _held

    from intranet_evaluations import services as evaluations
    from intranet_evaluations.models import Task

    sid = _held(app)
    with app.app_context():
        secretary = db.session.scalar(select(User.id).where(User.username == "bithu"))

    def add(i):
        evaluations.add_task(
            db.session.get(Meeting, sid),
            db.session.get(User, secretary),
            what=f"Việc số {i}",
            owner=None,
            due=date.today() + timedelta(days=30),
        )

    assert _in_parallel(app, list(range(THREADS * 2)), add) == []
    with app.app_context():
        numbers = sorted(db.session.scalars(select(Task.number).where(Task.session_id == sid)))
        assert numbers == list(range(1, THREADS * 2 + 1))
