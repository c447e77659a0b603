"""The benchmarks' seeds: one office with a secretary and ``members`` members, then the meeting(s) a bench needs.

Run from the repository's root in the environment of the database to fill, after `flask db upgrade`:
``python -m bench.seed KIND MEMBERS PASSWORD [COUNT]``; it prints the id of the (first) meeting made.
KIND is one of ``SEEDS`` below; COUNT is how many questions (``voted_queue``) or meetings (``live_meetings``).
The password hashes are cheap (``bench/cheap_app.py``), so hundreds of members sign in quickly."""

from __future__ import annotations

import io
import sys
from datetime import UTC, datetime, timedelta

from intranet.admin.services import create_office, create_user
from intranet.extensions import db
from intranet.models import PartyStatus, Role, User
from intranet_scheduling import services as scheduling
from intranet_scheduling.models import Meeting, SessionKind, SessionMode, SessionStatus


def cell(members: int, password: str):
    """The office BENCH: its secretary ``bithu`` and members ``dv0000``…, all with ``password``."""
    office = create_office(code="BENCH", name="Chi bộ benchmark", parent=None)
    accounts = [("bithu", "Bí thư", (Role.SECRETARY, Role.MEMBER))]
    accounts += [(f"dv{i:04d}", f"Đảng viên {i:04d}", (Role.MEMBER,)) for i in range(members)]
    for username, full_name, roles in accounts:
        create_user(
            username=username,
            full_name=full_name,
            office=office,
            roles=roles,
            party_status=PartyStatus.OFFICIAL,
            password=password,
        )
    return office


def _online_meeting(office, title: str, kind: SessionKind = SessionKind.THEMATIC, place: str = "") -> Meeting:
    return scheduling.create_session(
        office,
        kind=kind,
        title=title,
        starts_at=datetime.now(UTC) + timedelta(minutes=5),
        duration_minutes=120,
        place=place,
        mode=SessionMode.ONLINE,
    )


def live_meeting(office, title: str) -> Meeting:
    """A meeting in progress whose question queue is open (20 open questions a member)."""
    from intranet_questions.models import QueueSettings

    meeting = _online_meeting(office, title)
    scheduling.advance(meeting, SessionStatus.IN_PROGRESS, None)
    db.session.add(QueueSettings(session_id=meeting.id, office_id=office.id, open_limit=20))
    db.session.flush()
    return meeting


def live_one(office, _count: int) -> int:
    return live_meeting(office, "Benchmark").id


def live_meetings(office, count: int) -> int:
    ids = [live_meeting(office, f"Chi bộ {n}").id for n in range(count)]
    assert ids == list(range(ids[0], ids[0] + len(ids))), ids  # the bench counts from the first
    return ids[0]


def voted_queue(office, count: int) -> int:
    """A live meeting with ``count`` questions, each with a few votes."""
    from intranet_questions import services as queue

    meeting = live_meeting(office, "Benchmark")
    people = db.session.scalars(db.select(User).where(User.username.like("dv%")).order_by(User.username)).all()
    asked = [queue.ask(meeting, people[i % len(people)], f"Câu hỏi số {i} về chuyên đề?") for i in range(count)]
    for n, question in enumerate(asked):
        for voter in people[n + 1 : n + 1 + n % 7]:
            queue.set_vote(question, voter, True)
    return meeting.id


def everyone_present(office, _count: int) -> int:
    """A live meeting at which every member of the cell is marked present: each may vote (votes_bench)."""
    meeting = live_meeting(office, "Benchmark")
    present = set(db.session.scalars(db.select(User.id).where(User.office_id == office.id)))
    scheduling.take_attendance(meeting, present, None)
    return meeting.id


def jitsi_room(office, _count: int) -> int:
    """A regular online meeting in progress, in an office whose Jitsi is set."""
    from intranet_meetings import services as rooms

    config = rooms.config_for(office.id)
    config.jitsi_domain = "meet.bench"
    db.session.add(config)
    meeting = _online_meeting(office, "Benchmark", kind=SessionKind.REGULAR)
    scheduling.advance(meeting, SessionStatus.IN_PROGRESS, None)
    return meeting.id


def documents_and_questions(office, _count: int) -> int:
    """A thematic meeting in progress with a 40-paragraph report and three discussion questions."""
    import docx

    from intranet_scheduling import documents
    from intranet_scheduling.models import DocumentKind

    secretary = db.session.scalar(db.select(User).where(User.username == "bithu"))
    meeting = _online_meeting(office, "Chuyên đề: chuyển đổi số", place="Phòng họp")
    report = docx.Document()
    for i in range(40):
        report.add_paragraph(f"{i + 1}. Báo cáo chuyên đề về chuyển đổi số trong công tác kiểm sát của chi bộ.")
    data = io.BytesIO()
    report.save(data)
    documents.upload(meeting, DocumentKind.REPORT, "bao-cao.docx", data.getvalue(), secretary)
    for text in ("Những khó khăn khi số hoá hồ sơ?", "Cần bồi dưỡng kỹ năng gì?", "Lộ trình năm tới?"):
        scheduling.add_question(meeting, text, secretary)
    scheduling.advance(meeting, SessionStatus.IN_PROGRESS, None)
    return meeting.id


SEEDS = {
    "live_one": live_one,
    "live_meetings": live_meetings,
    "voted_queue": voted_queue,
    "everyone_present": everyone_present,
    "jitsi_room": jitsi_room,
    "documents_and_questions": documents_and_questions,
}


def main(argv: list[str]) -> None:
    kind, members, password = argv[0], int(argv[1]), argv[2]
    count = int(argv[3]) if len(argv) > 3 else 0
    from bench.cheap_app import app

    with app.test_request_context():
        office = cell(members, password)
        first = SEEDS[kind](office, count)
        db.session.commit()
    print(first)


if __name__ == "__main__":
    main(sys.argv[1:])
