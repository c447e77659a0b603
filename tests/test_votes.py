"""Votes plugin: who votes, thresholds, forms, the secret ballot's counting, the hook to the minutes,
the chair's and the committee's rights, refusals, live regions and the pages per role."""

from __future__ import annotations

import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select
from support import sql_statements
from test_questions import _meeting, _user
from werkzeug.datastructures import MultiDict

from intranet.extensions import db
from intranet.idempotency import IdempotencyKey
from intranet.models import PartyStatus
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
    assert len(set(codes)) == 3 and all(len(c) == services.CODE_LENGTH for c in codes)
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
    # 14: the receipt code checked unique in its vote; on SQLite one more, the write lock FOR UPDATE takes there
    locks = [s for s in statements if s.startswith("UPDATE office SET id = id WHERE 0")]
    assert len(statements) - len(locks) <= 14, statements


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


# --- review 2: the vote's real result through the hook, receipt codes, the electorate, anonymity ----------


def _drafted(app, sid, kind, vote_id=0):
    from intranet_evaluations import documents

    with app.test_request_context():
        document = documents.draft(db.session.get(Meeting, sid), kind, _user("bithu"), vote_id)
        db.session.commit()
        return "\n".join(s["text"] for s in document.content["sections"])


def test_a_real_vote_reaches_the_minutes_the_resolution_and_the_tally_report(app, sid):
    """No hand-made result: an open vote and a secret ballot held through the services, and what the
    evaluations plugin drafts from what the hook really delivered (SQLite and PostgreSQL)."""
    from intranet_evaluations.models import VoteRecord

    motion = _open(app, sid, subject=Subject.MOTION)
    for username in ("bithu", "member1", "phobithu"):
        _cast(app, motion, username)
    _cast(app, motion, "chiuy", Choice.AGAINST)
    with app.test_request_context():
        _do(app, services.close, motion, _user("bithu"))
    resolution = _open(app, sid, subject=Subject.DISCIPLINE, secret=True, committee=("chiuy", "member2"))
    for username, choice in (("bithu", Choice.FOR), ("member1", Choice.FOR), ("phobithu", Choice.AGAINST)):
        _cast(app, resolution, username, choice)
    with app.test_request_context():
        _do(app, services.hand_paper_ballot, resolution, _user("chiuy"), _user("member2"))
        _do(app, services.hand_paper_ballot, resolution, _user("member2"), _user("chiuy"))
        _do(app, services.close, resolution, _user("bithu"))
        _do(app, services.enter_tally, resolution, _user("member2"), in_favour=2, against=0, other=0)
        _do(app, services.confirm, resolution, _user("chiuy"))
        scheduling.advance(db.session.get(Meeting, sid), SessionStatus.CLOSED, None)
        db.session.commit()
    with app.app_context():
        records = {r.vote_id: r for r in db.session.scalars(select(VoteRecord))}
        assert set(records) == {motion, resolution}
        assert all(r.closed_at.tzinfo is not None for r in records.values())
        secret = records[resolution]
        assert (secret.base, secret.eligible_present, secret.voted, secret.voted_on_paper) == (6, 5, 5, 2)
        assert (secret.in_favour, secret.against, secret.other, secret.passed) == (4, 1, 0, True)
        assert secret.counting_committee == ["Chi Ủy", "Đảng Viên Hai"]
        sentence = db.session.get(Vote, resolution).sentence
        assert sentence == "Đề nghị thi hành kỷ luật được thông qua với 4/6 đảng viên chính thức tán thành, đạt 66,7 %"
    minutes = _drafted(app, sid, "minutes")
    assert "Tán thành: 3; không tán thành: 1; ý kiến khác: 0." in minutes  # the motion, by show of hands
    assert "đã biểu quyết: 5 (trong đó 2 phiếu giấy)." in minutes
    assert "Ban kiểm phiếu: đồng chí Chi Ủy (trưởng ban), đồng chí Đảng Viên Hai." in minutes
    assert f"Kết quả: {sentence}." in minutes
    report = _drafted(app, sid, "tally", resolution)
    assert "1. Đồng chí Chi Ủy — Trưởng ban" in report and "2. Đồng chí Đảng Viên Hai — Thành viên" in report
    assert "Số phiếu thu vào: 5 (bỏ phiếu trực tuyến: 3; phiếu giấy: 2)." in report and sentence in report


def test_a_resolution_vote_decides_the_drafted_resolution(app, sid):
    vid = _open(app, sid)
    for username in ("bithu", "member1"):
        _cast(app, vid, username)
    with app.test_request_context():
        _do(app, services.close, vid, _user("bithu"))
        scheduling.advance(db.session.get(Meeting, sid), SessionStatus.CLOSED, None)
        db.session.commit()
    text = _drafted(app, sid, "resolution")
    assert "Dự thảo Nghị quyết chưa được thông qua: Nghị quyết không được thông qua với 2/6" in text


def test_receipt_codes_are_unique_in_their_vote_and_a_shared_code_cannot_stop_the_close(app, sid, monkeypatch):
    drawn = iter(["SAMECODE22", "SAMECODE22", "OTHERCODE3"])
    monkeypatch.setattr(services, "_draw_code", lambda: next(drawn))
    vid = _secret(app, sid)
    assert [_cast(app, vid, "bithu"), _cast(app, vid, "member1")] == ["SAMECODE22", "OTHERCODE3"]  # drawn again
    monkeypatch.setattr(services, "_receipt_code", lambda vote: "RACED00000")  # two ballots racing, same draw
    _cast(app, vid, "phobithu")
    _cast(app, vid, "chiuy")
    with app.test_request_context():
        _do(app, services.close, vid, _user("bithu"))  # the close cannot fail on a shared code
        vote = db.session.get(Vote, vid)
        assert services.counted_codes(vote) == ["OTHERCODE3", "RACED00000", "SAMECODE22"]
        assert sum(services.counts(vote).values()) == 4


def test_receipt_codes_are_long_enough_not_to_meet():
    codes = {services._draw_code() for _ in range(2000)}
    assert len(codes) == 2000 and all(len(c) >= 10 and set(c) <= set(services.CODE_ALPHABET) for c in codes)


def test_a_member_whose_attendance_or_status_changes_mid_vote_still_counts_in_the_base(app, sid, heard):
    with app.test_request_context():
        office_id = db.session.get(Meeting, sid).office_id
        services.save_rule(
            office_id,
            Subject.MOTION,
            _user("bithu"),
            form=Form.EITHER,
            base=Base.PRESENT,
            numerator=1,
            denominator=2,
            strict=True,
        )
        db.session.commit()
    vid = _open(app, sid, subject=Subject.MOTION)
    for username in ("bithu", "member1", "phobithu", "chiuy", "member2"):
        _cast(app, vid, username)
    _present(app, sid, "bithu", "dubi")  # the attendance retaken by mistake: four who voted now "absent"
    with app.app_context():
        _user("member1").party_status = PartyStatus.PROBATIONARY  # and a status changed while the vote ran
        db.session.commit()
    with app.test_request_context():
        _do(app, services.close, vid, _user("bithu"))
    (result,) = heard.results
    assert result.in_favour == result.voted == 5 and result.eligible_present == result.base == 5
    assert result.sentence.endswith("với 5/5 đảng viên chính thức có mặt tán thành, đạt 100,0 %")


def test_a_secret_ballots_idempotency_key_does_not_say_how_its_member_voted(app, client, login, sid):
    """The key's request hash covered the form: hashing each of the three choices named the member's."""
    from intranet.idempotency import IdempotencyKey

    vid = _secret(app, sid)
    for username, choice in (("member1", "for"), ("phobithu", "against"), ("bithu", "other")):
        login(username)
        assert (
            _post(client, f"/votes/votes/{vid}/cast", key=f"ballot-{username}-0001", choice=choice).status_code == 204
        )
    with app.app_context():
        hashes = db.session.scalars(select(IdempotencyKey.request_hash)).all()
        assert len(hashes) == 3 and len(set(hashes)) == 1
    login("member1")  # the same key sent again (the link dropped the answer) is still answered once
    again = _post(client, f"/votes/votes/{vid}/cast", key="ballot-member1-0001", choice="for")
    assert again.status_code == 204 and again.headers.get("Idempotent-Replayed") == "true"


def test_needed_is_the_fewest_votes_that_pass_for_every_rule_and_base():
    for denominator in range(1, services.SHARE_MAX + 1):
        for numerator in range(1, denominator + 1):
            for strict in (False, True) if numerator < denominator else (False,):
                rule = rules.Threshold(Form.EITHER, Base.OFFICIAL, numerator, denominator, strict)
                assert not rule.passes(0, 0) and not rule.passes(1, 0)  # no base: nothing passes
                for base in range(1, 40):
                    needed = rule.needed(base)
                    assert rule.passes(needed, base) and not rule.passes(needed - 1, base), (rule, base)
    half, two_thirds = rules.DEFAULTS[Subject.RESOLUTION], rules.DEFAULTS[Subject.ADMISSION]
    assert half.needed(1) == 1 and half.needed(2) == 2 and half.needed(4) == 3  # exactly half is not more
    assert two_thirds.needed(1) == 1 and two_thirds.needed(3) == 2 and two_thirds.needed(4) == 3


def _other_office_vote(app, data) -> int:
    """A vote open in the other office's meeting (its member present)."""
    data.user("otherboss", "OTHER", roles=("secretary", "member"))
    other = _meeting(app, code="OTHER")
    _present(app, other, "othermember", "otherboss")
    return _open(app, other, "otherboss")


def test_another_offices_vote_is_404_on_every_route_and_its_members_are_refused(app, client, login, sid, data):
    foreign = _other_office_vote(app, data)
    vid = _secret(app, sid)
    other_member = str(vcell_id(app, "othermember"))
    for username in ("bithu", "chiuy"):
        login(username)
        for action, form in (
            ("cast", {"choice": "for"}),
            ("hand", {"member_id": str(vcell_id(app, "member1")), "choice": "for"}),
            ("paper", {"member_id": str(vcell_id(app, "member1"))}),
            ("close", {}),
            ("tally", {"in_favour": "0", "against": "0", "other": "0"}),
            ("confirm", {}),
        ):
            assert _post(client, f"/votes/votes/{foreign}/{action}", **form).status_code == 404, action
    login("chiuy")  # a paper ballot for a member of another office: refused, not written
    assert _post(client, f"/votes/votes/{vid}/paper", member_id=other_member).status_code == 422
    login("bithu")
    other_sid = db_session_id(app, foreign)
    for url in (f"/votes/sessions/{other_sid}", f"/votes/sessions/{other_sid}/screen"):
        assert client.get(url).status_code == 404, url
    for url, form in (
        (f"/votes/sessions/{other_sid}/open", {"subject": "motion", "title": "x", "minutes": "5"}),
        (f"/votes/sessions/{other_sid}/chair", {"member_id": other_member}),
        (f"/votes/sessions/{sid}/chair", {"member_id": other_member}),
    ):
        assert _post(client, url, **form).status_code in (404, 422), url
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Voter)) == 0
        assert db.session.get(Vote, foreign).status == Status.OPEN


def db_session_id(app, vid):
    with app.app_context():
        return db.session.get(Vote, vid).session_id


HOSTILE = ("", "0", "-1", "abc", "1e9", "99999999999999999999", "١", "<script>", "\x00", "for\u202e", " 5 ")


def test_no_votes_route_answers_500_to_hostile_input(app, client, login, sid):
    vid, secret = _open(app, sid), None
    routes = {
        f"/votes/sessions/{sid}/open": ("subject", "title", "minutes", "committee", "secret", "live_counts"),
        f"/votes/sessions/{sid}/chair": ("member_id",),
        f"/votes/votes/{vid}/cast": ("choice",),
        f"/votes/votes/{vid}/hand": ("member_id", "choice"),
        f"/votes/votes/{vid}/paper": ("member_id",),
        f"/votes/votes/{vid}/tally": ("in_favour", "against", "other"),
        "/votes/rules": tuple(f"{s.value}-{f}" for s in Subject for f in ("form", "base", "numerator", "denominator")),
    }
    for username in ("bithu", "chiuy", "dubi", "khach", "othermember"):
        login(username)
        for url, fields in routes.items():
            for value in HOSTILE:
                answer = client.post(url, data={f: value for f in fields}, headers={"X-Outbox": "1"})
                assert answer.status_code < 500, (username, url, value, answer.text[:200])
                repeated = MultiDict([(f, value) for f in fields for _ in range(3)])
                many = client.post(url, data=repeated, headers={"HX-Request": "1"})
                assert many.status_code < 500, (username, url, value)
        for url in (f"/votes/sessions/{sid}/poll/nonsense", "/votes/votes/99999999999999999999/cast", "/votes/rules"):
            assert client.get(url).status_code < 500, url
        secret = secret or _secret_after(app, sid, vid)
        for url in (f"/votes/votes/{secret}/tally", f"/votes/votes/{secret}/confirm", f"/votes/votes/{secret}/close"):
            assert client.post(url, data={"in_favour": "x"}, headers={"X-Outbox": "1"}).status_code < 500, url
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Voter)) == 0


def test_signed_out_the_votes_pages_and_the_projector_slots_ask_to_sign_in(app, client, sid):
    _open(app, sid)
    for url in (
        f"/votes/sessions/{sid}",
        f"/votes/sessions/{sid}/screen",
        f"/questions/sessions/{sid}/screen",
        "/votes/",
    ):
        assert client.get(url).status_code in (302, 401, 403, 404), url


def test_tallies_twice_confirm_too_early_and_after_the_count_is_final(app, sid, heard):
    vid = _secret(app, sid)
    _cast(app, vid, "chiuy")  # a committee member votes too, online
    with app.test_request_context():
        _do(app, services.hand_paper_ballot, vid, _user("chiuy"), _user("member2"))  # and hands one to the other
        _do(app, services.hand_paper_ballot, vid, _user("member2"), _user("bithu"))  # the chair votes on paper
        for early in (services.confirm, partial_tally):
            with pytest.raises(ServiceError, match="sau khi|Chỉ xác nhận"):
                _do(app, early, vid, _user("chiuy"))
        _do(app, services.close, vid, _user("bithu"))
        _do(app, services.enter_tally, vid, _user("chiuy"), in_favour=2, against=0, other=0)
        _do(
            app, services.enter_tally, vid, _user("member2"), in_favour=1, against=1, other=0
        )  # corrected: the last counts
        _do(app, services.confirm, vid, _user("member2"))
        for late in (services.confirm, partial_tally):
            with pytest.raises(ServiceError):
                _do(app, late, vid, _user("chiuy"))
    (result,) = heard.results
    assert (result.in_favour, result.against, result.voted, result.voted_on_paper) == (2, 1, 3, 2)


def partial_tally(vote, actor):
    return services.enter_tally(vote, actor, in_favour=0, against=0, other=0)


def test_a_vote_in_an_office_without_evaluations_is_final_all_the_same(app, sid, data, heard):
    from intranet_evaluations.models import VoteRecord

    data.enable("evaluations", "DIST", False)
    vid = _open(app, sid)
    _cast(app, vid, "member1")
    with app.test_request_context():
        _do(app, services.close, vid, _user("bithu"))
    with app.app_context():
        assert db.session.get(Vote, vid).status == Status.FINAL
        assert db.session.scalar(select(func.count()).select_from(VoteRecord)) == 0
    assert heard.results[0].in_favour == 1


def test_votes_switched_off_mid_vote_then_the_meeting_closed(app, client, login, sid, data, heard):
    vid = _open(app, sid)
    _cast(app, vid, "member1")
    data.enable("votes", "DIST", False)
    with app.test_request_context():
        scheduling.advance(db.session.get(Meeting, sid), SessionStatus.CLOSED, None)
        db.session.commit()
    data.enable("votes", "DIST", True)
    login("bithu")
    assert client.get(f"/votes/sessions/{sid}").status_code == 200
    with pytest.raises(ServiceError, match="đã kết thúc"):
        _cast(app, vid, "member2")
    with app.app_context():
        assert db.session.get(Vote, vid).status == Status.FINAL  # closed with its meeting, whatever the switch said
    assert heard.results[0].in_favour == 1


def test_the_lazy_close_of_a_vote_past_its_time_runs_once_from_many_requests(app, data, vcell, heard):
    """On SQLite too: FOR UPDATE is ignored there, and every request that read the vote open closed it."""
    from test_counters_concurrency import THREADS, _in_parallel

    sid = _meeting(app)
    _present(app, sid, "bithu", "member1")
    vid = _open(app, sid)
    _cast(app, vid, "member1")
    _past_time(app, vid)
    errors = _in_parallel(app, range(THREADS * 2), lambda _i: services.close_if_due(db.session.get(Vote, vid)))
    assert errors == [] and len(heard.results) == 1 and heard.results[0].in_favour == 1


def test_two_openings_and_two_confirmations_at_once_count_once(app, data, vcell, heard):
    from test_counters_concurrency import THREADS, _in_parallel

    sid = _meeting(app)
    _present(app, sid, "bithu", "chiuy", "member2")
    open_one = lambda _i: services.open_vote(  # noqa: E731
        db.session.get(Meeting, sid), _user("bithu"), subject=Subject.MOTION, title="Một lần", secret=False, minutes=5
    )
    errors = _in_parallel(app, range(THREADS), open_one)
    assert len(errors) == THREADS - 1 and all("cuộc biểu quyết khác" in e for e in errors), errors
    with app.app_context():
        (vid,) = db.session.scalars(select(Vote.id)).all()
    with app.test_request_context():
        _do(app, services.close, vid, _user("bithu"))
    secret = _open(app, sid, subject=Subject.DISCIPLINE, secret=True, committee=("chiuy", "member2"))
    _cast(app, secret, "bithu")
    with app.test_request_context():
        _do(app, services.close, secret, _user("bithu"))
    confirm = lambda i: services.confirm(db.session.get(Vote, secret), _user(("chiuy", "member2")[i % 2]))  # noqa: E731
    errors = _in_parallel(app, range(THREADS), confirm)
    assert len(errors) == THREADS - 1 and len(heard.results) == 2, errors


def test_a_held_ballots_length_does_not_tell_its_choice(app, sid):
    """The sealed token's length followed its JSON: "for" and "against" sealed to 32 and 48 bytes, and
    the held row sits next to its voter's until the close."""
    vid = _secret(app, sid)
    for username, choice in (("bithu", Choice.FOR), ("member1", Choice.AGAINST), ("phobithu", Choice.OTHER)):
        _cast(app, vid, username, choice)
    with app.app_context():
        assert len({len(sealed) for sealed in db.session.scalars(select(HeldBallot.sealed))}) == 1


def test_a_refused_rules_form_comes_back_with_what_was_typed(app, client, login, sid):
    login("bithu")
    form = {}
    for subject, rule in rules.DEFAULTS.items():
        p = subject.value
        form |= {f"{p}-form": rule.form.value, f"{p}-base": rule.base.value, f"{p}-strict": "1" if rule.strict else "0"}
        form |= {f"{p}-numerator": str(rule.numerator), f"{p}-denominator": str(rule.denominator)}
    form |= {"commendation-numerator": "3", "commendation-denominator": "4", "commendation-strict": "0"}
    form |= {"discipline-numerator": "5", "discipline-denominator": "2"}  # refused: more than the whole
    page = client.post("/votes/rules", data=form)
    assert page.status_code == 422 and "phân số" in page.text
    assert 'name="commendation-numerator" min="1" max="10" value="3"' in page.text  # nothing typed is lost
    assert 'name="discipline-numerator" min="1" max="10" value="5"' in page.text
    hostile = client.post("/votes/rules", data={**form, "motion-form": "<b>x</b>", "motion-numerator": '"><script>'})
    assert hostile.status_code == 422 and "<script>" not in hostile.text
    with app.app_context():
        office_id = db.session.get(Meeting, sid).office_id
        assert services.rule(office_id, Subject.COMMENDATION) == rules.DEFAULTS[Subject.COMMENDATION]  # all or none


def test_a_secret_ballots_base_is_the_cells_when_it_closed_not_when_its_count_is_confirmed(app, data, sid, heard):
    vid = _secret(app, sid)
    for username in ("bithu", "member1", "phobithu", "chiuy"):
        _cast(app, vid, username)
    with app.test_request_context():
        _do(app, services.close, vid, _user("bithu"))
    data.user("newofficial", "DIST", full_name="Mới Chính Thức")  # recognised before the committee confirms
    _present(app, sid, "bithu", "member1", "phobithu", "chiuy", "member2", "newofficial")
    with app.test_request_context():
        _do(app, services.confirm, vid, _user("chiuy"))
    (result,) = heard.results
    assert (result.base, result.eligible_present) == (6, 5) and result.passed  # 4 of 6: two-thirds


def test_the_secretary_naming_a_chair_twice_at_once_writes_one_row(app, data, vcell):
    from test_counters_concurrency import THREADS, _in_parallel

    from intranet_votes.models import MeetingChair

    sid = _meeting(app)
    name = lambda i: services.name_chair(  # noqa: E731
        db.session.get(Meeting, sid), _user("bithu"), _user(("member2", "chiuy")[i % 2])
    )
    assert _in_parallel(app, range(THREADS), name) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(MeetingChair)) == 1


def test_two_rule_saves_at_once_keep_one_rule(app, data, vcell):
    from test_counters_concurrency import THREADS, _in_parallel

    from intranet_votes.models import Rule

    with app.app_context():
        office_id = _user("bithu").office_id
    save = lambda i: services.save_rule(  # noqa: E731
        office_id,
        Subject.MOTION,
        _user("bithu"),
        form=Form.EITHER,
        base=Base.PRESENT,
        numerator=1 + i % 2,
        denominator=3,
        strict=False,
    )
    assert _in_parallel(app, range(THREADS), save) == []
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Rule)) == 1
