"""Votes plugin: who votes, thresholds, forms, the secret ballot's counting, the hook to the minutes,
the chair's and the committee's rights, refusals, live regions and the pages per role."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from support import sql_statements
from test_questions import _meeting, _user

from intranet.extensions import db
from intranet.idempotency import IdempotencyKey
from intranet.plugins import hookimpl, manager
from intranet.refusals import ServiceError
from intranet_scheduling import services as scheduling
from intranet_scheduling.models import Meeting, SessionStatus
from intranet_votes import rules, services
from intranet_votes.models import Ballot, Base, Choice, CountedCode, Form, HeldBallot, Status, Subject, Vote, Voter

OFFICIALS = ("bithu", "member1", "phobithu", "chiuy", "member2", "member3")  # qcell's official members


@pytest.fixture
def vcell(data, qcell):
    """qcell plus a probationary member; everyone present but member3 (absent)."""
    qcell["probationary"] = data.user("dubi", "DIST", status="probationary", full_name="Dự Bị")
    return qcell


def _present(app, sid, *usernames):
    with app.app_context():
        meeting = db.session.get(Meeting, sid)
        scheduling.take_attendance(meeting, {_user(u).id for u in usernames}, None)
        db.session.commit()


@pytest.fixture
def sid(app, vcell):
    sid = _meeting(app)
    _present(app, sid, "bithu", "member1", "phobithu", "chiuy", "member2", "dubi", "khach")
    return sid


def _open(app, sid, actor="bithu", *, subject=Subject.RESOLUTION, secret=False, committee=(), minutes=5, **kw) -> int:
    with app.test_request_context():
        vote = services.open_vote(
            db.session.get(Meeting, sid),
            _user(actor),
            subject=subject,
            title="Nghị quyết chuyên đề",
            secret=secret,
            minutes=minutes,
            committee=[_user(u) for u in committee],
            **kw,
        )
        db.session.commit()
        return vote.id


def _do(app, call, *args, **kwargs):
    """Run a service on a vote (by id) and commit; returns its result or raises its refusal."""
    with app.test_request_context():
        vote = db.session.get(Vote, args[0])
        try:
            result = call(vote, *args[1:], **kwargs)
            db.session.commit()
            return result
        except ServiceError:
            db.session.rollback()
            raise


def _cast(app, vid, username, choice=Choice.FOR):
    with app.test_request_context():
        return _do(app, services.cast, vid, _user(username), choice)


class Heard:
    def __init__(self):
        self.results = []

    @hookimpl
    def intranet_session_vote_closed(self, session, result):
        self.results.append(result)


@pytest.fixture
def heard(app):
    listener = Heard()
    with app.app_context():
        manager().pm.register(listener, name="votes-test-listener")
    yield listener
    with app.app_context():
        manager().pm.unregister(name="votes-test-listener")


# --- rules as numbers --------------------------------------------------------------------------------


def test_thresholds_use_whole_numbers():
    half, two_thirds = rules.DEFAULTS[Subject.RESOLUTION], rules.DEFAULTS[Subject.ADMISSION]
    assert not half.passes(5, 10) and half.passes(6, 10) and half.needed(10) == 6 and half.needed(11) == 6
    assert two_thirds.passes(2, 3) and not two_thirds.passes(6, 10) and two_thirds.passes(7, 10)
    assert two_thirds.needed(10) == 7 and two_thirds.needed(9) == 6
    assert rules.DEFAULTS[Subject.DISCIPLINE].form == Form.SECRET
    assert rules.sentence(Subject.RESOLUTION, True, 9, Base.OFFICIAL, 11) == (
        "Nghị quyết được thông qua với 9/11 đảng viên chính thức tán thành, đạt 81,8 %"
    )
    assert "không được thông qua với 3/11" in rules.sentence(Subject.RESOLUTION, False, 3, Base.OFFICIAL, 11)


# --- who votes ---------------------------------------------------------------------------------------


def test_only_official_members_present_vote(app, sid):
    vid = _open(app, sid)
    for username, words in (
        ("dubi", "dự bị"),
        ("khach", "khách mời dự họp"),
        ("member3", "có mặt tại buổi sinh hoạt"),  # absent
        ("othermember", "chính thức của chi bộ này"),  # another office
    ):
        with pytest.raises(ServiceError, match=words):
            _cast(app, vid, username)
    _cast(app, vid, "member1")
    with pytest.raises(ServiceError, match="đã biểu quyết rồi"):
        _cast(app, vid, "member1", Choice.AGAINST)


def test_an_excused_member_does_not_vote(app, sid):
    with app.app_context():
        meeting = db.session.get(Meeting, sid)
        meeting.status = SessionStatus.DOCUMENTS_SENT
        scheduling.answer(meeting, _user("member3"), scheduling.Answer.EXCUSED, "Công tác")
        meeting.status = SessionStatus.IN_PROGRESS
        db.session.commit()
    vid = _open(app, sid)
    with pytest.raises(ServiceError, match="vắng mặt"):
        _cast(app, vid, "member3")


def test_the_chair_sees_whether_the_threshold_can_be_reached(app, sid):
    with app.app_context():
        meeting = db.session.get(Meeting, sid)
        present, official = services.eligible_present(meeting), len(services.official_members(meeting.office_id))
        resolution = services.preview(meeting, Subject.RESOLUTION, present=present, official=official)
        assert (resolution["present"], resolution["base"], resolution["needed"]) == (5, 6, 4)
        assert resolution["reachable"]
    _present(app, sid, "bithu", "member1", "phobithu")  # 3 of 6 official present: two-thirds needs 4
    with app.app_context():
        meeting = db.session.get(Meeting, sid)
        present = services.eligible_present(meeting)
        admission = services.preview(meeting, Subject.ADMISSION, present=present, official=6)
        assert admission["needed"] == 4 and not admission["reachable"]


# --- opening and closing -----------------------------------------------------------------------------


def test_only_the_chair_opens_and_closes(app, sid):
    with pytest.raises(ServiceError, match="Chỉ chủ trì"):
        _open(app, sid, "member1")
    vid = _open(app, sid, "phobithu")  # the deputy chairs by default
    with app.test_request_context():
        with pytest.raises(ServiceError, match="Chỉ chủ trì"):
            _do(app, services.close, vid, _user("member1"))
    with pytest.raises(ServiceError, match="cuộc biểu quyết khác"):
        _open(app, sid)


def test_the_form_a_kind_of_vote_requires(app, sid):
    with pytest.raises(ServiceError, match="bỏ phiếu kín"):
        _open(app, sid, subject=Subject.DISCIPLINE)
    with pytest.raises(ServiceError, match="biểu quyết công khai"):
        _open(app, sid, subject=Subject.RESOLUTION, secret=True, committee=("member1", "member2"))
    with pytest.raises(ServiceError, match="2 hoặc 3"):
        _open(app, sid, subject=Subject.DISCIPLINE, secret=True, committee=("member1",))
    with pytest.raises(ServiceError, match="không phải đảng viên chính thức có mặt"):
        _open(app, sid, subject=Subject.DISCIPLINE, secret=True, committee=("member1", "dubi"))
    for minutes in (0, 121, None):
        with pytest.raises(ServiceError, match="phút"):
            _open(app, sid, minutes=minutes)


def test_an_open_vote_counts_names_and_reaches_the_minutes(app, sid, heard):
    vid = _open(app, sid)
    for username in ("bithu", "member1", "phobithu"):
        _cast(app, vid, username)
    _cast(app, vid, "chiuy", Choice.AGAINST)
    with app.test_request_context():
        _do(app, services.record_hand, vid, _user("bithu"), _user("member2"), Choice.FOR)  # in the hall
        with pytest.raises(ServiceError, match="Chỉ chủ trì"):
            _do(app, services.record_hand, vid, _user("member1"), _user("member2"), Choice.FOR)
        _do(app, services.close, vid, _user("bithu"))
    (result,) = heard.results
    assert (result.in_favour, result.against, result.other, result.voted, result.base) == (4, 1, 0, 5, 6)
    assert result.passed and result.eligible_present == 5 and not result.secret
    assert result.sentence == "Nghị quyết được thông qua với 4/6 đảng viên chính thức tán thành, đạt 66,7 %"
    with pytest.raises(ServiceError, match="đã kết thúc"):
        _cast(app, vid, "member3")


def test_a_failed_vote_says_so(app, sid, heard):
    vid = _open(app, sid, subject=Subject.ADMISSION)
    for username in ("bithu", "member1", "phobithu"):
        _cast(app, vid, username)
    with app.test_request_context():
        _do(app, services.close, vid, _user("bithu"))
    assert not heard.results[0].passed and "không được thông qua với 3/6" in heard.results[0].sentence


def test_a_vote_past_its_time_refuses_ballots_and_closes_lazily(app, sid, heard):
    vid = _open(app, sid)
    _cast(app, vid, "member1")
    with app.app_context():
        vote = db.session.get(Vote, vid)
        vote.closes_at -= timedelta(minutes=6)
        db.session.commit()
    with pytest.raises(ServiceError, match="đã hết lúc"):
        _cast(app, vid, "member2")
    with app.test_request_context():
        assert services.close_if_due(db.session.get(Vote, vid))
        assert db.session.get(Vote, vid).status == Status.FINAL
    assert heard.results[0].in_favour == 1


# --- secret ballot -----------------------------------------------------------------------------------


def _secret(app, sid):
    return _open(app, sid, subject=Subject.DISCIPLINE, secret=True, committee=("chiuy", "member2"))


def test_a_secret_ballot_is_held_sealed_then_counted_with_the_paper_tally(app, sid, heard):
    vid = _secret(app, sid)
    codes = [_cast(app, vid, "bithu"), _cast(app, vid, "member1", Choice.AGAINST), _cast(app, vid, "phobithu")]
    assert len(set(codes)) == 3 and all(len(c) == 8 for c in codes)
    with app.test_request_context():
        held = db.session.scalars(select(HeldBallot.sealed)).all()
        assert len(held) == 3 and not any("for" in h or "against" in h for h in held)
        assert db.session.scalar(select(func.count()).select_from(Ballot)) == 0
        vote = db.session.get(Vote, vid)
        assert services.counts(vote) == {Choice.FOR: 0, Choice.AGAINST: 0, Choice.OTHER: 0}  # hidden until closed
        with pytest.raises(ServiceError, match="ban kiểm phiếu"):
            _do(app, services.hand_paper_ballot, vid, _user("bithu"), _user("member2"))
        _do(app, services.hand_paper_ballot, vid, _user("chiuy"), _user("member2"))
        with pytest.raises(ServiceError, match="dự bị"):
            _do(app, services.hand_paper_ballot, vid, _user("chiuy"), _user("dubi"))
        with pytest.raises(ServiceError, match="không ghi thay"):
            _do(app, services.record_hand, vid, _user("bithu"), _user("chiuy"), Choice.FOR)
    with pytest.raises(ServiceError, match="đã biểu quyết rồi"):
        _cast(app, vid, "member2")  # has a paper ballot
    with app.test_request_context():
        _do(app, services.close, vid, _user("bithu"))
        assert db.session.scalar(select(func.count()).select_from(HeldBallot)) == 0
        assert sorted(db.session.scalars(select(CountedCode.code))) == sorted(codes)
        with pytest.raises(ServiceError, match="Nhập kết quả phiếu giấy trước"):
            _do(app, services.confirm, vid, _user("chiuy"))
        with pytest.raises(ServiceError, match="chỉ có 1 đảng viên bỏ phiếu giấy"):
            _do(app, services.enter_tally, vid, _user("chiuy"), in_favour=1, against=1, other=0)
        for bad in (-1, None):
            with pytest.raises(ServiceError, match="số nguyên"):
                _do(app, services.enter_tally, vid, _user("chiuy"), in_favour=bad, against=0, other=0)
        with pytest.raises(ServiceError, match="Chỉ ban kiểm phiếu"):
            _do(app, services.enter_tally, vid, _user("bithu"), in_favour=1, against=0, other=0)
        _do(app, services.enter_tally, vid, _user("member2"), in_favour=1, against=0, other=0)
        assert not heard.results
        _do(app, services.confirm, vid, _user("chiuy"))
    (result,) = heard.results
    assert result.secret and (result.in_favour, result.against, result.voted, result.voted_on_paper) == (3, 1, 4, 1)
    assert result.counting_committee == ("Chi Ủy", "Đảng Viên Hai") and not result.passed  # 3 of 6: under 2/3
    assert result.sentence.startswith("Đề nghị thi hành kỷ luật không được thông qua với 3/6")


# --- pages and posted actions per role ---------------------------------------------------------------


def test_pages_per_role(app, client, login, sid):
    vid = _open(app, sid)
    for username, page_status, chair in (
        ("bithu", 200, True),
        ("member1", 200, False),
        ("dubi", 200, False),
        ("khach", 200, False),
        ("othermember", 404, False),
    ):
        login(username)
        page = client.get(f"/votes/sessions/{sid}")
        assert page.status_code == page_status, username
        if page_status == 200:
            assert ('id="conduct"' in page.text) == chair and "Nghị quyết chuyên đề" in page.text
            assert client.get(f"/votes/sessions/{sid}/poll/conduct").status_code == (200 if chair else 403)
    login("dubi")
    assert "không biểu quyết" in client.get(f"/votes/sessions/{sid}").text  # told why, in Vietnamese
    secret = _secret_after(app, sid, vid)
    login("chiuy")  # on the counting committee, not a chair
    page = client.get(f"/votes/sessions/{sid}").text
    assert 'id="count"' in page and 'id="conduct"' not in page and f"/votes/votes/{secret}/paper" in page
    assert client.get(f"/votes/sessions/{sid}/poll/count").status_code == 200
    assert client.get(f"/votes/sessions/{sid}/poll/conduct").status_code == 403
    login("member1")
    assert client.get(f"/votes/sessions/{sid}/poll/count").status_code == 403
    client.post("/logout")
    assert client.get(f"/votes/sessions/{sid}").status_code == 302  # signed out: the sign-in page
    assert client.post(f"/votes/votes/{vid}/cast", data={"choice": "for"}).status_code in (302, 400)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Voter)) == 0


def _post(client, url, key=None, **form):
    headers = {"X-Outbox": "1", **({"Idempotency-Key": key} if key else {})}
    return client.post(url, data=form, headers=headers)


def test_a_ballot_from_the_outbox_counts_once_and_refusals_are_clear(app, client, login, sid):
    vid = _open(app, sid)
    login("member1")
    member2 = str(vcell_id(app, "member2"))  # a ballot names no one: it is always the sender's own
    first = _post(
        client, f"/votes/votes/{vid}/cast", key="ballot-key-000001", choice="for", member_id=member2, user_id=member2
    )
    again = _post(  # the link dropped the answer: the outbox sends the same again
        client, f"/votes/votes/{vid}/cast", key="ballot-key-000001", choice="for", member_id=member2, user_id=member2
    )
    assert first.status_code == again.status_code == 204 and again.headers.get("Idempotent-Replayed") == "true"
    twice = _post(client, f"/votes/votes/{vid}/cast", key="ballot-key-000002", choice="against")
    assert twice.status_code == 422 and "đã biểu quyết" in twice.text
    assert _post(client, f"/votes/votes/{vid}/cast", choice="maybe").status_code == 422
    login("dubi")
    assert "dự bị" in _post(client, f"/votes/votes/{vid}/cast", choice="for").text
    login("member2")
    for url, form in ((f"/votes/votes/{vid}/close", {}), (f"/votes/sessions/{sid}/open", {"subject": "motion"})):
        assert _post(client, url, **form).status_code == 422  # only the chair
    login("othermember")
    assert _post(client, f"/votes/votes/{vid}/cast", choice="for").status_code == 404
    login("bithu")
    assert _post(client, f"/votes/votes/{vid}/close").status_code == 204
    login("member2")
    late = _post(client, f"/votes/votes/{vid}/cast", key="ballot-key-000003", choice="for")
    assert late.status_code == 422 and "đã kết thúc" in late.text
    with app.app_context():
        assert db.session.get(Vote, vid).in_favour == 1
        (only,) = db.session.scalars(select(Voter)).all()
        assert only.user_id == vcell_id(app, "member1") == only.recorded_by_id


def test_a_ballot_is_cheap(app, client, login, sid):
    """A secret ballot (the dearer kind): a handful of statements, nothing rendered."""
    vid = _secret(app, sid)
    login("member1")
    with sql_statements(app) as statements:
        assert _post(client, f"/votes/votes/{vid}/cast", key="ballot-key-cheap01", choice="for").status_code == 204
    assert len(statements) <= 13, statements


def test_the_vote_reaches_the_queue_page_and_the_projector_through_slots(app, client, login, sid, data):
    _open(app, sid)
    login("member1")
    pages = (f"/questions/sessions/{sid}", f"/questions/sessions/{sid}/screen", f"/meetings/sessions/{sid}/follow")
    for url in pages:
        assert "Nghị quyết chuyên đề" in client.get(url).text, url
    assert f"/votes/sessions/{sid}" in client.get(f"/scheduling/sessions/{sid}").text  # the meeting's page: a link
    data.enable("votes", "DIST", False)
    assert "Nghị quyết chuyên đề" not in client.get(f"/questions/sessions/{sid}").text
    assert client.get(f"/votes/sessions/{sid}").status_code == 404


def test_the_rules_page(app, client, login, sid):
    login("member1")
    assert client.get("/votes/rules").status_code == 403
    login("bithu")
    assert client.get("/votes/rules").status_code == 200
    form = {}
    for subject, rule in rules.DEFAULTS.items():
        form |= {
            f"{subject.value}-form": rule.form.value,
            f"{subject.value}-base": rule.base.value,
            f"{subject.value}-numerator": str(rule.numerator),
            f"{subject.value}-denominator": str(rule.denominator),
            f"{subject.value}-strict": "1" if rule.strict else "0",
        }
    form["commendation-numerator"], form["commendation-denominator"], form["commendation-strict"] = "3", "4", "0"
    assert client.post("/votes/rules", data=form).status_code == 302
    with app.app_context():
        office_id = db.session.get(Meeting, sid).office_id
        assert services.rule(office_id, Subject.COMMENDATION).numerator == 3
    form["motion-numerator"] = "5"  # 5/2
    page = client.post("/votes/rules", data=form, follow_redirects=True)
    assert "phân số" in page.text
    with app.app_context():
        assert services.rule(office_id, Subject.MOTION) == rules.DEFAULTS[Subject.MOTION]


# --- sealing, shared with the evaluations' ratings -------------------------------------------------------

# Sealed by plugins/evaluations/sealing.py before it moved to intranet/sealing.py, under this SECRET_KEY.
OLD_RATING = (
    "gAAAAAAAAAAAQ50f8NugraQ8NR5drMeaItMgqeNU8BkGJSGbfdW7XL8UB8ZE32CNnSJ-vc2R9DL0lNqplJh2SPgq8JVKR3LsKg3TBiiMMwAg"
    "DRTQXyifdEQwf84vqJ13kflAPQWECOzi8dn7tqpvhNogNADJNMQ-EueCWzAg4TJNI3oOBuJF-n8="
)


def test_ratings_sealed_before_the_move_still_open_and_ballots_have_their_own_key(app, monkeypatch):
    from intranet_evaluations import services as evaluations

    monkeypatch.setitem(app.config, "SECRET_KEY", "old-secret-for-the-sealing-test")
    with app.app_context():
        assert evaluations.unseal(OLD_RATING) == {"preparation": 4, "content": 5, "discussion": 3, "comment": "cũ"}
        assert services._BALLOTS.unseal(OLD_RATING) is None  # another purpose, another key
        token = services._BALLOTS.seal({"c": "for"})
        assert token.startswith("gAAAAAAAAAAA") and evaluations.unseal(token) is None  # time 0: no time in clear


# --- races (PostgreSQL: SQLite has one writer at a time) --------------------------------------------------

on_postgresql = pytest.mark.skipif(
    not os.environ.get("INTRANET_TEST_DATABASE_URL", "").startswith("postgresql"),
    reason="needs PostgreSQL: set INTRANET_TEST_DATABASE_URL=postgresql://…",
)


def _members(data, app, sid, n):
    names = [data.user(f"race{i:02d}", "DIST") and f"race{i:02d}" for i in range(n)]
    _present(app, sid, "bithu", "chiuy", "member2", *names)
    return names


def _as_ballot(vid):
    return lambda username: services.cast(db.session.get(Vote, vid), _user(username), Choice.FOR)


@on_postgresql
def test_a_member_voting_twice_at_once_is_counted_once(app, data, vcell):
    from test_counters_concurrency import _in_parallel

    sid = _meeting(app)
    names = _members(data, app, sid, 12)
    vid = _open(app, sid, subject=Subject.DISCIPLINE, secret=True, committee=("chiuy", "member2"))
    errors = _in_parallel(app, names * 3, _as_ballot(vid))  # each member's ballot sent three times at once
    assert len(errors) == 24 and all("đã biểu quyết rồi" in e for e in errors), errors
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Voter)) == 12
        assert db.session.scalar(select(func.count()).select_from(HeldBallot)) == 12


@on_postgresql
def test_no_ballot_lands_after_its_vote_closed(app, data, vcell):
    """Ballots racing the chair's close: whoever is marked as having voted has a ballot counted."""
    from test_counters_concurrency import _in_parallel

    sid = _meeting(app)
    names = _members(data, app, sid, 30)
    vid = _open(app, sid, subject=Subject.DISCIPLINE, secret=True, committee=("chiuy", "member2"))
    work = [*names[:15], "CLOSE", *names[15:]]
    close = lambda: services.close(db.session.get(Vote, vid), _user("bithu"))  # noqa: E731
    errors = _in_parallel(app, work, lambda item: close() if item == "CLOSE" else _as_ballot(vid)(item))
    assert all("đã kết thúc" in e for e in errors), errors
    with app.app_context():
        voted = db.session.scalar(select(func.count()).select_from(Voter))
        assert db.session.scalar(select(func.count()).select_from(HeldBallot)) == 0
        assert db.session.scalar(select(func.count()).select_from(Ballot)) == voted == 30 - len(errors)


def test_demo_meetings_adopted_their_resolution_by_vote(app):
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        votes = db.session.scalars(select(Vote)).all()
        assert votes and all(v.status == Status.FINAL and v.passed for v in votes)
        assert all(v.voted == db.session.scalar(select(func.count()).where(Voter.vote_id == v.id)) for v in votes)
        assert votes[0].sentence.startswith("Nghị quyết được thông qua với ")


# --- holes found by the adversarial pass (each test failed before its fix) ----------------------------------


def _past_time(app, vid):
    with app.app_context():
        db.session.get(Vote, vid).closes_at -= timedelta(minutes=10)
        db.session.commit()


def test_a_ballot_after_the_time_is_refused_every_time_it_is_sent(app, client, login, sid):
    """The lazy close must not commit the ballot's idempotency key: a retry is refused again, never
    answered "done" (the outbox would drop a ballot that was not counted)."""
    vid = _open(app, sid)
    _past_time(app, vid)
    login("member1")
    for _ in range(2):
        late = _post(client, f"/votes/votes/{vid}/cast", key="late-ballot-00001", choice="for")
        assert late.status_code == 422 and "Idempotent-Replayed" not in late.headers, late.text
    with app.app_context():
        assert db.session.get(Vote, vid).status == Status.FINAL  # closed by the late ballot's request
        assert db.session.scalar(select(func.count()).select_from(IdempotencyKey)) == 0
        from intranet.models import AuditEvent

        closing = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "votes.close"))
        assert closing.actor_id is None  # time ran out: not the member whose request noticed it


def test_closing_the_meeting_closes_its_votes_and_refuses_later_ballots(app, sid, heard):
    vid = _open(app, sid)
    _cast(app, vid, "member1")
    with app.test_request_context():
        scheduling.advance(db.session.get(Meeting, sid), SessionStatus.CLOSED, None)
        db.session.commit()
    assert heard.results and heard.results[0].in_favour == 1
    with pytest.raises(ServiceError, match="đã kết thúc"):
        _cast(app, vid, "member2")


def test_hostile_posts_are_refused_clearly(app, client, login, sid):
    vid = _open(app, sid)
    login("bithu")
    for form in ({"member_id": "abc", "choice": "for"}, {"member_id": "99999", "choice": "for"}, {"choice": "for"}):
        assert _post(client, f"/votes/votes/{vid}/hand", **form).status_code == 422
    dubi = str(vcell_id(app, "dubi"))
    refused = _post(client, f"/votes/votes/{vid}/hand", member_id=dubi, choice="for")
    assert refused.status_code == 422 and "Dự Bị" in refused.text and "dự bị" in refused.text
    for form in (
        {"subject": "nonsense", "title": "x", "minutes": "5"},
        {"subject": "motion", "title": "x", "minutes": "五"},
        {"subject": "motion", "title": "x" * 501, "minutes": "5"},
        {"subject": "motion", "title": "x", "minutes": "5", "committee": "abc"},
    ):
        assert _post(client, f"/votes/sessions/{sid}/open", **form).status_code == 422
    login("member1")
    assert _post(client, f"/votes/votes/{vid}/hand", member_id=dubi, choice="for").status_code == 422
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Voter)) == 0


def test_a_tally_that_is_not_a_number_is_refused(app, client, login, sid):
    vid = _secret(app, sid)
    with app.test_request_context():
        _do(app, services.hand_paper_ballot, vid, _user("chiuy"), _user("bithu"))
        _do(app, services.close, vid, _user("bithu"))
    login("chiuy")
    for numbers in (("x", "0", "0"), ("-1", "0", "0"), ("1", "", "0"), ("99999999999", "0", "0"), ("2", "0", "0")):
        answer = _post(client, f"/votes/votes/{vid}/tally", **dict(zip(("in_favour", "against", "other"), numbers)))
        assert answer.status_code == 422, numbers
    assert _post(client, f"/votes/votes/{vid}/tally", in_favour="1", against="0", other="0").status_code == 204


def vcell_id(app, username):
    with app.app_context():
        return _user(username).id


def test_a_late_ballots_refusal_has_a_place_that_outlives_the_live_region(app, client, login, sid):
    """The outbox writes a refusal into [data-outbox-message]: it must sit outside the region that a
    closed vote re-renders without its ballot buttons."""
    _open(app, sid)
    login("member1")
    for url in (f"/votes/sessions/{sid}", f"/questions/sessions/{sid}"):
        page = client.get(url).text
        region = page.split('data-live-region="panel">')[1].split('data-outbox-message="ballot"')[0]
        assert region.count("<div") < region.count("</div>"), url  # the message comes after the region closed


def _secret_after(app, sid, vid):
    """Close the open vote ``vid``, then open a secret ballot counted by chiuy and member2."""
    with app.test_request_context():
        _do(app, services.close, vid, _user("bithu"))
    return _secret(app, sid)


def test_counts_show_live_only_for_an_open_vote_whose_chair_wishes_it(app, client, login, sid):
    login("member1")
    for live_counts, shown in ((False, False), (True, True)):
        vid = _open(app, sid, live_counts=live_counts)
        _cast(app, vid, "member2", Choice.AGAINST)
        assert ('class="vote-counts"' in client.get(f"/votes/sessions/{sid}").text) == shown
        with app.test_request_context():
            _do(app, services.close, vid, _user("bithu"))
    vid = _open(app, sid, subject=Subject.DISCIPLINE, secret=True, committee=("chiuy", "member2"), live_counts=True)
    _cast(app, vid, "member2", Choice.AGAINST)
    panel = client.get(f"/votes/sessions/{sid}").text.split(f'id="vote-{vid}"')[1].split("</article>")[0]
    assert "vote-counts" not in panel and "Không tán thành: <strong>1" not in panel  # a secret ballot: never live


def test_the_panel_is_rendered_once_for_every_member(app, data, login, sid):
    """A shared render: six members loading the page after a ballot cost one render of the votes panel."""
    from test_shared_renders import _renders

    vid = _open(app, sid)
    clients = []
    for username in ("member1", "member2", "chiuy", "phobithu", "bithu", "dubi"):
        clients.append(app.test_client())
        login(username, c=clients[-1])
    _cast(app, vid, "member1")
    with _renders("votes/_panel.html") as made:
        for c in clients:
            assert c.get(f"/votes/sessions/{sid}").status_code == 200
    assert len(made) == 1


def test_the_secretary_names_a_member_to_chair_the_meetings_votes(app, client, login, sid):
    with app.test_request_context():
        meeting = db.session.get(Meeting, sid)
        with pytest.raises(ServiceError, match="Chỉ bí thư"):
            services.name_chair(meeting, _user("phobithu"), _user("member2"))
        with pytest.raises(ServiceError, match="không phải đảng viên của chi bộ"):
            services.name_chair(meeting, _user("bithu"), _user("othermember"))
    with pytest.raises(ServiceError, match="Chỉ chủ trì"):
        _open(app, sid, "member2")
    login("bithu")
    member2 = str(vcell_id(app, "member2"))
    assert _post(client, f"/votes/sessions/{sid}/chair", member_id=member2).status_code == 204
    vid = _open(app, sid, "member2")  # the named chair opens and closes this meeting's votes
    login("member2")
    assert client.get(f"/votes/sessions/{sid}/poll/conduct").status_code == 200
    assert _post(client, f"/votes/votes/{vid}/close").status_code == 204
    login("bithu")
    assert _post(client, f"/votes/sessions/{sid}/chair", member_id="0").status_code == 204
    assert _post(client, f"/votes/sessions/{sid}/chair", member_id="abc").status_code == 422
    with pytest.raises(ServiceError, match="Chỉ chủ trì"):
        _open(app, sid, "member2")


def test_the_slots_stand_outside_the_host_pages_live_roots(app, client, login, sid):
    """live.js swaps every [data-live-region] inside a page's live root by its name: a slot's regions
    inside another plugin's root would be overwritten by that plugin's region of the same name."""
    from html.parser import HTMLParser

    class Roots(HTMLParser):
        VOID = {"input", "meta", "link", "br", "img", "hr", "source"}

        def __init__(self):
            super().__init__()
            self.stack, self.nested = [], []

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if (attrs.get("id") or "").startswith("votes-") and any(live for _t, live in self.stack):
                self.nested.append(attrs["id"])
            if tag not in self.VOID:  # another plugin's live root: a stream not of ours
                self.stack.append((tag, "data-live-stream" in attrs and "/votes/" not in attrs["data-live-stream"]))

        def handle_endtag(self, tag):
            while self.stack and self.stack.pop()[0] != tag:
                pass

    _open(app, sid)
    login("member1")
    for url in (f"/questions/sessions/{sid}", f"/questions/sessions/{sid}/screen", f"/meetings/sessions/{sid}/follow"):
        page = client.get(url).text
        assert 'id="votes-' in page, url
        roots = Roots()
        roots.feed(page)
        assert roots.nested == [], url
