"""The votes pages as a browser shows them (the chair's, a member's on a phone, the projector): a secret
ballot opened by the chair reaches the member's page live, the countdown runs, the ballot is cast with
a click and the receipt code comes back; screenshots for the README (docs/screenshots/votes-*.png)."""

import re

from playwright.sync_api import expect
from sqlalchemy import select
from support import shot, sign_in

from intranet.extensions import db
from intranet.models import User
from intranet_scheduling import services as scheduling
from intranet_scheduling.models import Meeting


def _meeting(app, data) -> int:
    data.user("phobithu", "DIST", roles=("deputy", "member"), full_name="Phó Bí Thư")
    data.user("chiuy", "DIST", roles=("committee", "member"), full_name="Chi Ủy")
    data.user("dubi", "DIST", status="probationary", full_name="Dự Bị")
    from test_questions import _meeting as in_progress

    sid = in_progress(app)
    with app.app_context():
        meeting = db.session.get(Meeting, sid)
        present = db.session.scalars(
            select(User.id).where(User.username.in_(["bithu", "member1", "phobithu", "chiuy", "dubi"]))
        )
        scheduling.take_attendance(meeting, set(present), None)
        db.session.commit()
    return sid


def _context(browser, live_server, username, width=1200):
    context = browser.new_context(base_url=live_server, viewport={"width": width, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, username)
    return page


def test_a_secret_ballot_in_the_browser(app, data, cell, browser, live_server):
    sid = _meeting(app, data)
    chair = _context(browser, live_server, "bithu")
    member = _context(browser, live_server, "member1", width=390)
    chair.goto(f"/votes/sessions/{sid}")
    member.goto(f"/questions/sessions/{sid}")  # the queue page shows the vote through its slot
    expect(chair.locator("#vote-preview")).to_contain_text("3/4")  # more than half of 4 official members
    form = chair.locator("#open-vote")
    form.get_by_label("Loại biểu quyết").select_option("commendation")
    form.get_by_label("Nội dung biểu quyết").fill("Đề nghị khen thưởng đồng chí Phó Bí Thư")
    form.get_by_label("Hình thức").select_option("1")
    form.locator("select[name=committee]").select_option(label=["Chi Ủy", "Phó Bí Thư"])
    shot(chair, "votes-chair-open")
    form.get_by_role("button", name="Bắt đầu biểu quyết").click()
    expect(chair.locator("#conduct")).to_contain_text("Kết thúc biểu quyết")

    ballot = member.locator("#votes-live")
    expect(ballot).to_contain_text("Đề nghị khen thưởng đồng chí Phó Bí Thư")  # live, no reload
    expect(ballot.locator("[data-countdown]")).to_have_text(re.compile(r"^[0-4]:\d\d$"))
    ballot.get_by_role("button", name="Tán thành", exact=True).click()
    expect(ballot.locator(".receipt-code")).to_have_text(re.compile(r"^[A-Z2-9]{10}$"))
    expect(ballot.get_by_role("button", name="Tán thành", exact=True)).to_be_hidden()  # voted: no buttons left
    shot(member, "votes-member-phone")
    assert member.evaluate("document.documentElement.scrollWidth") <= 390

    projector = _context(browser, live_server, "chiuy")
    projector.goto(f"/votes/sessions/{sid}/screen")
    expect(projector.locator("#screen-vote")).to_have_text("Đề nghị khen thưởng đồng chí Phó Bí Thư")
    chair.get_by_role("button", name="Kết thúc biểu quyết").click()
    expect(projector.locator("[data-live-region=screen]")).to_contain_text("ban kiểm phiếu đang kiểm phiếu")
    counter = _context(browser, live_server, "chiuy")
    counter.goto(f"/votes/sessions/{sid}")
    counter.get_by_role("button", name="Xác nhận kết quả kiểm phiếu").click()
    expect(projector.locator("#screen-result")).to_have_text(
        "Đề nghị khen thưởng không được thông qua với 1/4 đảng viên chính thức tán thành, đạt 25,0 %"
    )
    shot(projector, "votes-projector")
    code = member.locator(".receipt-code").inner_text()
    expect(member.locator(".vote-codes")).to_contain_text(code)
    shot(chair, "votes-chair-result")
