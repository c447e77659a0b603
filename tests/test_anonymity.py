"""Anonymity across stores: a member's rating cannot be linked to its receipt by any column, system
column (SQLite rowid, PostgreSQL xmin/ctid), row order or time; a question asked with the documents in a
fully anonymous meeting names its author nowhere (page, audit, logs). Threat model: docs/security/anonymity.md."""

from __future__ import annotations

import logging
import re

from sqlalchemy import DateTime, inspect, select, text
from test_evaluations import _held, _user

from intranet.extensions import db
from intranet_evaluations.models import PendingRating, Rating

RATERS = 18  # six batches of three: a join by row order guesses all six right with probability 6**-6


def _rate(client, login, sid, username, i):
    login(username)
    scores = {
        "preparation": str(1 + i % 5),
        "content": str(1 + (i // 5) % 5),
        "discussion": "3",
        "comment": f"nhận xét số {i}",
    }
    assert client.post(f"/evaluations/sessions/{sid}/rate", data=scores).status_code == 302


def _system_columns(table: str) -> str:
    return {"sqlite": "rowid, NULL", "postgresql": "ctid::text, xmin::text"}[db.engine.dialect.name]


def _rows(table: str, what: str) -> list:
    """(``what``, position, transaction id) per row, in the table's physical order."""
    order = "rowid" if db.engine.dialect.name == "sqlite" else "ctid"
    return db.session.execute(text(f"SELECT {what}, {_system_columns(table)} FROM {table} ORDER BY {order}")).all()


def test_fewer_than_three_ratings_show_nothing_not_even_the_count(app, client, qcell, login):
    sid = _held(app)
    _rate(client, login, sid, "member1", 1)
    _rate(client, login, sid, "chiuy", 2)
    section = client.get(f"/evaluations/sessions/{sid}").text.split('<article id="ratings">')[1].split("</article>")[0]
    assert "nhận xét số" not in section and not re.search(r"\b2\b", section)  # not even how many rated
    with app.app_context():
        assert db.session.scalar(select(db.func.count()).select_from(Rating)) == 0  # held, not published
        held = db.session.scalars(select(PendingRating.sealed)).all()
        assert len(held) == 2 and not any("nhận xét" in h or "preparation" in h for h in held)  # sealed
    _rate(client, login, sid, "bithu", 3)
    page = client.get(f"/evaluations/sessions/{sid}").text
    assert "3 người đã chấm điểm" in page and "nhận xét số 3" in page


def test_no_join_links_a_rating_to_its_receipt(app, client, data, qcell, login):
    raters = [data.user(f"rater{i:02d}", "DIST") and f"rater{i:02d}" for i in range(RATERS)]
    sid = _held(app)
    for i, username in enumerate(raters):
        _rate(client, login, sid, username, i)
    with app.app_context():
        truth = {_user(u).id: f"nhận xét số {i}" for i, u in enumerate(raters)}
        assert db.session.scalar(select(db.func.count()).select_from(Rating)) == RATERS

        # Columns: nothing in common but the meeting; no time; no sequential key.
        rating_columns = {c["name"]: c for c in inspect(db.engine).get_columns("evaluations_rating")}
        receipt_columns = set(c["name"] for c in inspect(db.engine).get_columns("evaluations_rating_receipt"))
        assert rating_columns.keys() & receipt_columns == {"office_id", "session_id"}
        assert not any(
            isinstance(c["type"], DateTime) or "date" in str(c["type"]).lower() or "time" in str(c["type"]).lower()
            for c in rating_columns.values()
        )
        ids = db.session.scalars(select(Rating.id)).all()
        assert len(set(ids)) == RATERS and not any(i.isdigit() for i in ids)

        # Row order (rowid on SQLite, ctid on PostgreSQL): the i-th receipt against the i-th rating.
        receipts = _rows("evaluations_rating_receipt", "user_id")
        ratings = _rows("evaluations_rating", "comment")
        by_order = [truth[r[0]] == g[0] for r, g in zip(receipts, ratings)]
        assert not all(by_order), "ratings are stored in the order their receipts were"

        # Transaction ids (PostgreSQL): no rating was written in a receipt's transaction, and each
        # transaction that wrote ratings wrote at least three.
        if db.engine.dialect.name == "postgresql":
            receipt_xids = {r[2] for r in receipts}
            rating_xids = [g[2] for g in ratings]
            assert not receipt_xids & set(rating_xids)
            assert min(rating_xids.count(x) for x in set(rating_xids)) >= 3

        assert db.session.scalar(select(db.func.count()).select_from(PendingRating)) == 0  # all published

        # The audit log says nothing of who rated what either.
        from intranet.models import AuditEvent

        assert not db.session.scalars(select(AuditEvent).where(AuditEvent.action.like("evaluations.rat%"))).all()


# --- questions sent with the documents ----------------------------------------------------------------


def _documents_sent_meeting(app, mode: str) -> int:
    from test_questions import _meeting

    from intranet_questions import services as queue
    from intranet_questions.models import Anonymity
    from intranet_scheduling import services as scheduling
    from intranet_scheduling.models import Meeting, SessionStatus

    sid = _meeting(app, status=SessionStatus.PLANNED)
    with app.test_request_context():
        meeting = db.session.get(Meeting, sid)
        meeting.group.clear()
        scheduling.set_group(meeting, [_user("member2"), _user("member3")], _user("member2"), None, None)
        settings = queue.queue_settings(meeting)
        queue.save_settings(
            meeting,
            _user("bithu"),
            anonymity=Anonymity(mode),
            premoderation=False,
            sort=settings.sort,
            quiet_first=True,
            open_limit=3,
            chair=None,
        )
        scheduling.advance(meeting, SessionStatus.DOCUMENTS_SENT, None)
        db.session.commit()
    return sid


def _asked_section(client, sid) -> str:
    page = client.get(f"/scheduling/sessions/{sid}").text
    return page.split('<article id="member-questions">')[1].split("</article>")[0]


def test_a_fully_anonymous_question_sent_with_the_documents_names_its_author_nowhere(app, client, qcell, login, caplog):
    from intranet.models import AuditEvent
    from intranet_questions.models import Question
    from intranet_scheduling.models import MemberQuestion

    sid = _documents_sent_meeting(app, "anonymous")
    login("member1")
    caplog.set_level(logging.DEBUG)
    caplog.clear()
    client.post(f"/scheduling/sessions/{sid}/ask", data={"ask-text": "Số liệu trang 4 lấy ở đâu?"})
    logged = " ".join(f"{r.getMessage()} {r.args}" for r in caplog.records)
    assert "member1" not in logged and "Member1" not in logged and f"user {qcell['member']}" not in logged
    for username in ("bithu", "member2"):  # the chair, the presenting group
        login(username)
        section = _asked_section(client, sid)
        assert "Số liệu trang 4" in section and "Member1" not in section and "Ẩn danh" in section
    with app.app_context():
        copy = db.session.scalar(select(MemberQuestion))
        assert copy.user_id is None and copy.anonymity == "anonymous"
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "scheduling.member_question.ask"))
        assert event is not None and event.actor_id is None and "member" not in str(event.details)
        queued = db.session.scalar(select(Question))
        assert queued.from_report and queued.anonymity.value == "anonymous"


def test_in_chair_only_mode_the_chair_sees_the_author_and_the_group_does_not(app, client, qcell, login):
    from intranet.models import AuditEvent

    sid = _documents_sent_meeting(app, "chair")
    login("member1")
    client.post(f"/scheduling/sessions/{sid}/ask", data={"ask-text": "Vì sao chỉ tiêu giảm?"})
    assert "Member1" in _asked_section(client, sid)  # the author sees their own, with their name
    login("bithu")
    assert "Member1" in _asked_section(client, sid)
    for username in ("member2", "chiuy"):  # the group; a committee member, who plans but does not chair
        login(username)
        section = _asked_section(client, sid)
        assert "Vì sao chỉ tiêu giảm?" in section and "Member1" not in section
    with app.app_context():
        event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "scheduling.member_question.ask"))
        assert event.actor_id is None  # the audit log's readers are not the chair


def test_a_stricter_mode_later_hides_the_author_of_an_earlier_question(app, client, qcell, login):
    from intranet_questions import services as queue
    from intranet_questions.models import Anonymity
    from intranet_scheduling.models import Meeting

    sid = _documents_sent_meeting(app, "named")
    login("member1")
    client.post(f"/scheduling/sessions/{sid}/ask", data={"ask-text": "Câu hỏi công khai"})
    login("member2")
    assert "Member1" in _asked_section(client, sid)
    with app.test_request_context():
        meeting = db.session.get(Meeting, sid)
        queue.save_settings(
            meeting,
            _user("bithu"),
            anonymity=Anonymity.ANONYMOUS,
            premoderation=False,
            sort=queue.queue_settings(meeting).sort,
            quiet_first=True,
            open_limit=3,
            chair=None,
        )
        db.session.commit()
    assert "Member1" not in _asked_section(client, sid)
    login("bithu")
    assert "Member1" not in _asked_section(client, sid)


def test_the_access_log_of_make_run_names_no_client():
    """With a client's address or browser, the time of a POST to …/ask would name an anonymous author."""
    from pathlib import Path

    from intranet import gunicorn_conf

    makefile = (Path(__file__).resolve().parent.parent / "Makefile").read_text()
    assert "-c intranet/gunicorn_conf.py" in makefile
    access_format = gunicorn_conf.access_log_format
    assert not re.search(r"%\((h|a|u|\{[^}]*\}[ie])\)s", access_format), access_format


def _asked_column(page: str, user_id: int) -> str:
    """The "questions asked" cell of a member's row on the participation page."""
    row = page.split(f'id="member-{user_id}"')[1].split("</tr>")[0]
    return re.findall(r"<td>([^<]*)</td>", row)[5]  # member, present, excused, absent, documents, questions


def test_a_drafter_who_does_not_chair_cannot_count_who_asked_through_the_chair(app, client, qcell, login):
    """Found by an adversarial review: an office lets deputies draft (evaluations.draft) but no longer
    moderate (questions.moderate). member3 asks the only question of a meeting whose authors only the
    chair knows; the deputy's participation page counted it in member3's row, so it named the author
    the queue hides from them. The figures are the viewer's: the chair and the author count it."""
    from test_evaluations import PAST, _meeting
    from test_questions import _office, _settings

    from intranet import access
    from intranet.models import Role
    from intranet_questions import services as queue
    from intranet_questions.models import Anonymity
    from intranet_scheduling import services as scheduling
    from intranet_scheduling.models import SessionStatus

    sid = _held(app, absent=(), close=False)
    _settings(app, sid, anonymity=Anonymity.CHAIR_ONLY)
    with app.test_request_context():
        meeting = _meeting(sid)
        queue.ask(meeting, _user("member3"), "Ai hỏi câu này, chỉ chủ trì biết")
        scheduling.advance(meeting, SessionStatus.CLOSED, None)
        access.change_grants(_office("DIST"), {("questions.moderate", Role.DEPUTY): False})
        db.session.commit()
    login("phobithu")
    page = client.get(f"/evaluations/participation?year={PAST.year}")
    assert page.status_code == 200  # still a drafter
    assert _asked_column(page.text, qcell["m3"]) == "0", "the deputy learns who asked through the chair"
    login("bithu")  # the chair knew who asked: their figures count it
    assert _asked_column(client.get(f"/evaluations/participation?year={PAST.year}").text, qcell["m3"]) == "1"
