"""Demo record for `make run`: the closed thematic meetings of the demo year get the questions, votes
and speakers a real meeting leaves (written as they would have been, since a closed meeting takes no
more), and the next thematic meeting has questions waiting in its queue."""

from __future__ import annotations

import random
from datetime import timedelta

from sqlalchemy import select

from intranet.extensions import db
from intranet_scheduling.models import Meeting, SessionKind, SessionStatus

from . import services
from .models import Anonymity, Question, QuestionStatus, Speaker, SpeakerSource, SpeakerState, Vote

ASKED = [
    "Đề nghị nhóm làm rõ trách nhiệm của từng đảng viên khi triển khai chuyên đề.",
    "Việc áp dụng vào công tác kiểm sát hằng ngày cụ thể như thế nào?",
    "Đơn vị còn hạn chế gì so với yêu cầu, nguyên nhân do đâu?",
    "Có nên đưa nội dung này vào kế hoạch rèn luyện của đảng viên trẻ không?",
    "Đề nghị chi ủy cho ý kiến về lộ trình thực hiện trong quý tới.",
]
SPEAKERS = ["dangvien1", "dangvien3", "chiuy", "dangvien5", "dubi1", "phobithu", "dangvien2"]


def seed(office, people, actor) -> None:
    rng = random.Random(office.id)  # the same demo every time
    thematic = list(
        db.session.scalars(
            select(Meeting)
            .where(Meeting.office_id == office.id, Meeting.kind == SessionKind.THEMATIC)
            .order_by(Meeting.starts_at)
        )
    )
    voters = [
        people[u]
        for u in ("dangvien1", "dangvien2", "dangvien3", "dangvien4", "dangvien5", "dangvien6", "chiuy", "phobithu")
    ]
    for meeting in thematic:
        if meeting.status == SessionStatus.CLOSED:
            _past_record(meeting, people, voters, rng)
    upcoming = next((m for m in thematic if m.status != SessionStatus.CLOSED), None)
    if upcoming is not None:
        first = services.ask(upcoming, people["dangvien4"], ASKED[1])
        services.ask(upcoming, people["dubi1"], ASKED[3], through_chair=True)
        services.set_vote(first, people["dangvien2"], True)


def _past_record(meeting: Meeting, people, voters, rng: random.Random) -> None:
    start = meeting.starts_at + timedelta(minutes=40)  # after the group's presentation
    authors = rng.sample(voters, 4)
    for i, (author, text) in enumerate(zip(authors, rng.sample(ASKED, 4))):
        question = Question(
            office_id=meeting.office_id,
            session_id=meeting.id,
            author_id=author.id,
            anonymity=Anonymity.CHAIR_ONLY,
            text=text,
            status=QuestionStatus.ANSWERED,
            created_at=start + timedelta(minutes=3 * i),
            answered_at=start + timedelta(minutes=20 + 5 * i),
        )
        db.session.add(question)
        db.session.flush()
        for voter in rng.sample([v for v in voters if v.id != author.id], rng.randint(1, 5)):
            db.session.add(
                Vote(
                    question_id=question.id,
                    user_id=voter.id,
                    office_id=meeting.office_id,
                    session_id=meeting.id,
                    created_at=question.created_at + timedelta(minutes=1),
                )
            )
            question.votes += 1
    clock = start + timedelta(minutes=15)
    for username in rng.sample(SPEAKERS, rng.randint(3, 6)):
        seconds = rng.randint(60, 300)
        db.session.add(
            Speaker(
                office_id=meeting.office_id,
                session_id=meeting.id,
                user_id=people[username].id,
                source=SpeakerSource.HALL if rng.random() < 0.3 else SpeakerSource.QUEUE,
                state=SpeakerState.DONE,
                raised_at=clock - timedelta(minutes=2),
                started_at=clock,
                ended_at=clock + timedelta(seconds=seconds),
            )
        )
        clock += timedelta(seconds=seconds + 30)
