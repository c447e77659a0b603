"""Days in the office's zone (Asia/Ho_Chi_Minh): a meeting early in the morning in Vietnam is the evening
before in UTC, and must still be on its own day for due dates, "today" and the review."""

from datetime import date, datetime, time

import pytest
from sqlalchemy import select

from intranet import days
from intranet.extensions import db
from intranet.models import Office, User
from intranet.refusals import ServiceError
from intranet_evaluations import review
from intranet_scheduling import services
from intranet_scheduling.models import SessionKind, SessionMode, SessionStatus

EARLY = [time(0, 30), time(6, 59)]  # 17:30 and 23:59 UTC the day before


def _utc(day: date, clock: time) -> datetime:
    return days.at(day, clock)


def _meeting(starts_at: datetime, **kw):
    office = db.session.scalar(select(Office).where(Office.code == "DIST"))
    return services.create_session(
        office,
        kind=SessionKind.THEMATIC,
        title="Chuyên đề sáng sớm",
        starts_at=starts_at,
        duration_minutes=90,
        place="Hội trường",
        mode=SessionMode.IN_PERSON,
        **kw,
    )


def _people(*names):
    return [db.session.scalar(select(User).where(User.username == n)) for n in names]


@pytest.mark.parametrize("clock", EARLY)
def test_a_moment_early_in_the_morning_is_on_the_local_day(app, clock):
    with app.app_context():
        moment = _utc(date(2030, 5, 10), clock)
        assert moment.date() == date(2030, 5, 9)  # the trap: the UTC date
        assert days.day_of(moment) == date(2030, 5, 10)
        assert days.local(moment).time() == clock


@pytest.mark.parametrize("clock", EARLY)
def test_a_report_due_on_the_meeting_day_is_accepted(app, cell, clock):
    with app.test_request_context():
        meeting = _meeting(_utc(date(2030, 5, 10), clock))
        member, secretary = _people("member1", "bithu")
        services.set_group(meeting, [member, secretary], member, date(2030, 5, 10), None)
        assert meeting.report_due == date(2030, 5, 10)
        with pytest.raises(ServiceError):
            services.set_group(meeting, [member, secretary], member, date(2030, 5, 11), None)


@pytest.mark.parametrize("clock", EARLY)
def test_today_is_the_local_day(app, cell, clock, monkeypatch):
    """At 00:30 or 06:59 in Vietnam, yesterday (local) is in the past even though UTC still says so."""
    monkeypatch.setattr(days, "utcnow", lambda: _utc(date(2030, 5, 10), clock))
    with app.test_request_context():
        assert days.today() == date(2030, 5, 10)
        meeting = _meeting(_utc(date(2030, 5, 20), time(8)))
        member, secretary = _people("member1", "bithu")
        with pytest.raises(ServiceError):
            services.set_group(meeting, [member, secretary], member, date(2030, 5, 9), None)


@pytest.mark.parametrize("clock", EARLY)
def test_the_review_lists_a_meeting_on_its_local_day(app, cell, clock):
    with app.test_request_context():
        meeting = _meeting(_utc(date(2025, 1, 1), clock), record_past=True)  # New Year's morning: a new year too
        services.advance(meeting, SessionStatus.CLOSED, None)
        db.session.commit()
        figures = review.review(meeting.office_id, 2025, 1, date(2025, 12, 31))
        assert [row.day for row in figures.sessions] == [date(2025, 1, 1)]
        assert review.review(meeting.office_id, 2024, None, date(2025, 12, 31)).sessions == []
