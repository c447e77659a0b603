"""A meeting's votes run live in four browsers: the chair on the votes page, two official members and a
probationary one on the question queue's page (two of them on a phone). An open vote, then a secret
ballot: each appears on the members' pages without a reload; one member's link drops mid-vote and
their ballot, pressed offline, waits in the outbox and is delivered exactly once when the link returns
(the first delivery's answer is lost on the way back, so it is sent twice); the probationary member is
told they do not vote and a ballot they press is refused; the result reaches every page when the chair
closes (a secret ballot's counts only once the committee confirms them), and the minutes carry both."""

import re

from playwright.sync_api import expect
from sqlalchemy import func, select
from support import shot
from test_votes_pages import _context, _meeting

from intranet.extensions import db
from intranet.models import User
from intranet_scheduling import services as scheduling
from intranet_scheduling.models import Meeting, SessionStatus
from intranet_votes.models import Vote, Voter

OPEN_TITLE = "Nghị quyết chuyên đề học tập"
OPEN_RESULT = "Nghị quyết được thông qua với 3/4 đảng viên chính thức tán thành, đạt 75,0 %"
SECRET_TITLE = "Đề nghị khen thưởng đồng chí Chi Ủy"
SECRET_RESULT = "Đề nghị khen thưởng không được thông qua với 2/4 đảng viên chính thức tán thành, đạt 50,0 %"
PROBATIONARY = "dự bị"  # the refusal names the member's party status
DUPLICATE_IDS = """() => {
  const ids = [...document.querySelectorAll("[id]")].map((el) => el.id);
  return [...new Set(ids.filter((id, i) => ids.indexOf(id) !== i))];
}"""


def _open(chair, title: str, subject: str, *, secret: bool) -> None:
    form = chair.locator("#open-vote")
    form.get_by_label("Loại biểu quyết").select_option(subject)
    form.get_by_label("Nội dung biểu quyết").fill(title)
    form.get_by_label("Hình thức").select_option("1" if secret else "0")
    if secret:
        form.locator("select[name=committee]").select_option(label=["Chi Ủy", "Phó Bí Thư"])
    else:
        form.get_by_label("Hiện số phiếu trong khi biểu quyết công khai đang diễn ra").check()
    form.get_by_role("button", name="Bắt đầu biểu quyết").click()
    expect(chair.locator("#conduct")).to_contain_text("Kết thúc biểu quyết")


def _latest_vote(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.max(Vote.id)))


def _ballot(page, vote_id: int, choice: str) -> None:
    page.locator(f"#vote-{vote_id}").get_by_role("button", name=choice, exact=True).click()


def _vote_offline_then_deliver(page, vote_id: int, choice: str, app, username: str) -> None:
    """The link drops, the member votes, the ballot waits; the link returns and the first delivery's
    answer is lost, so the browser sends it again with the same key: the server counts it once."""
    page.context.set_offline(True)
    _ballot(page, vote_id, choice)
    expect(page.locator("#votes-live [data-outbox-status]")).to_have_text(re.compile("^1 phiếu đang chờ gửi"))
    assert _ballots_of(app, vote_id, username) == 0
    attempts = []

    def lose_first_answer(route):
        attempts.append(route.request.headers.get("idempotency-key"))
        if len(attempts) == 1:
            route.fetch()  # the server receives and counts it...
            route.abort("connectionreset")  # ...and its answer never arrives
        else:
            route.continue_()

    page.route(re.compile(rf".*/votes/votes/{vote_id}/cast$"), lose_first_answer)
    page.context.set_offline(False)
    page.evaluate("() => window.dispatchEvent(new Event('online'))")
    expect(page.locator("#votes-live [data-outbox-status]")).to_be_hidden(timeout=20_000)
    page.unroute(re.compile(rf".*/votes/votes/{vote_id}/cast$"))
    assert len(attempts) >= 2 and len(set(attempts)) == 1  # the same key each time
    assert page.evaluate("() => JSON.parse(localStorage.getItem('intranet-outbox') || '[]').length") == 0
    assert _ballots_of(app, vote_id, username) == 1


def _ballots_of(app, vote_id: int, username: str) -> int:
    with app.app_context():
        user_id = db.session.scalar(select(User.id).where(User.username == username))
        return db.session.scalar(
            select(func.count()).select_from(Voter).where(Voter.vote_id == vote_id, Voter.user_id == user_id)
        )


def _refused_as_probationary(page, vote_id: int, app) -> None:
    ballot = page.locator("#votes-live")
    expect(ballot.locator("#may-not-vote")).to_contain_text(PROBATIONARY)
    expect(page.locator(f"#vote-{vote_id} .ballot")).to_be_hidden()  # no button they cannot use
    page.locator(f"#vote-{vote_id} .ballot form").first.evaluate("form => form.requestSubmit()")  # sent anyway
    expect(ballot.locator("[data-outbox-message=ballot]")).to_contain_text(PROBATIONARY)
    assert _ballots_of(app, vote_id, "dubi") == 0


def test_an_open_vote_and_a_secret_ballot_run_live_for_four_browsers(app, data, cell, browser, live_server):
    sid = _meeting(app, data)
    chair = _context(browser, live_server, "bithu")
    member = _context(browser, live_server, "member1")
    phone = _context(browser, live_server, "chiuy", width=390)
    probationary = _context(browser, live_server, "dubi", width=390)
    members = (member, phone, probationary)
    chair.goto(f"/votes/sessions/{sid}")
    for page in members:
        page.goto(f"/questions/sessions/{sid}")
        expect(page.locator("[data-link-state]")).to_have_attribute("data-state", "connected")

    # (a) An open vote with its counts shown while it runs.
    _open(chair, OPEN_TITLE, "resolution", secret=False)
    open_id = _latest_vote(app)
    for page in members:
        expect(page.locator(f"#vote-{open_id}")).to_contain_text(OPEN_TITLE)  # live, no reload
    _ballot(member, open_id, "Tán thành")
    expect(member.locator("#votes-live")).to_contain_text("đồng chí đã biểu quyết: Tán thành.")
    for page in members:  # the votes' slot brings no id the queue page already has
        assert page.evaluate(DUPLICATE_IDS) == [], page.url
    _vote_offline_then_deliver(phone, open_id, "Tán thành", app, "chiuy")
    _refused_as_probationary(probationary, open_id, app)
    _ballot(chair, open_id, "Tán thành")
    for page in (chair, *members):
        expect(page.locator(f"#vote-{open_id} .vote-progress")).to_have_text("3 người đã biểu quyết.")
        expect(page.locator(f"#vote-{open_id} .vote-counts")).to_contain_text("Tán thành: 3")
    shot(phone, "votes-live-open-phone")
    chair.get_by_role("button", name="Kết thúc biểu quyết").click()
    for page in (chair, *members):
        expect(page.locator(f"#vote-{open_id} .vote-sentence")).to_have_text(OPEN_RESULT)
    shot(chair, "votes-live-open-result")

    # (b) A secret ballot: nobody sees a count before the committee confirms it.
    _open(chair, SECRET_TITLE, "commendation", secret=True)
    secret_id = _latest_vote(app)
    for page in members:
        expect(page.locator(f"#vote-{secret_id}")).to_contain_text(SECRET_TITLE)
    _vote_offline_then_deliver(member, secret_id, "Tán thành", app, "member1")
    code = member.locator(f"#mine-{secret_id} .receipt-code").inner_text()
    assert re.fullmatch(r"[A-Z2-9]{10}", code)
    _ballot(phone, secret_id, "Không tán thành")
    expect(phone.locator(f"#mine-{secret_id} .receipt-code")).to_be_visible()
    _refused_as_probationary(probationary, secret_id, app)
    _ballot(chair, secret_id, "Tán thành")
    for page in (chair, *members):
        expect(page.locator(f"#vote-{secret_id} .vote-progress")).to_have_text("3 người đã biểu quyết.")
        expect(page.locator(f"#vote-{secret_id} .vote-counts")).to_have_count(0)
    shot(member, "votes-live-secret-member")
    shot(probationary, "votes-live-secret-probationary-phone")
    chair.get_by_role("button", name="Kết thúc biểu quyết").click()
    for page in (chair, *members):
        expect(page.locator(f"#vote-{secret_id}")).to_contain_text("ban kiểm phiếu đang kiểm phiếu")
        expect(page.locator(f"#vote-{secret_id} .vote-counts")).to_have_count(0)
    phone.goto(f"/votes/sessions/{sid}")  # the committee's controls are on the votes page
    phone.get_by_role("button", name="Xác nhận kết quả kiểm phiếu").click()
    for page in (chair, member, probationary):
        expect(page.locator(f"#vote-{secret_id} .vote-sentence")).to_have_text(SECRET_RESULT)
        expect(page.locator(f"#vote-{secret_id} .vote-counts")).to_contain_text(
            "Tán thành: 2 · Không tán thành: 1 · Ý kiến khác: 0"
        )
    expect(member.locator(f"#vote-{secret_id} .vote-codes")).to_contain_text(code)
    shot(chair, "votes-live-secret-result")
    shot(member, "votes-live-secret-result-member")
    for page in (member, probationary):
        assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]

    # The minutes (evaluations) carry both results once the meeting is closed.
    with app.app_context():
        scheduling.advance(db.session.get(Meeting, sid), SessionStatus.CLOSED, None)
        db.session.commit()
    chair.goto(f"/evaluations/sessions/{sid}")
    expect(chair.locator(f"#doc-tally-{secret_id}")).to_contain_text("Nháp")  # the committee's report, drafted
    chair.locator("#doc-minutes").get_by_role("button", name="Soạn từ diễn biến buổi họp").click()
    votes_section = chair.get_by_label(re.compile(r"^\d+\. Biểu quyết$"))
    expect(votes_section).to_have_value(re.compile(re.escape(OPEN_RESULT)))
    expect(votes_section).to_have_value(re.compile(re.escape(SECRET_RESULT)))
    shot(chair, "votes-live-minutes")
    for page in (chair, *members):
        page.context.close()
