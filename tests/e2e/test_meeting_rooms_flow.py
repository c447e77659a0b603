"""Rooms that follow their meeting, and a Jitsi server that cannot be reached, in the browser: distancing
turns the rooms of in-person meetings online except the one the secretary pinned (who sees why); with
the Jitsi server on a closed port the pre-call check says the server, not the member's link, is down,
offers follow-along (or the backup server), and the member who follows shows so on the chair's board."""

import socket
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect
from sqlalchemy import select
from support import ARTIFACTS, shot
from test_meetings_flow import _context_page, _id, _online_meeting, conference, expect_in_call

from intranet.extensions import db
from intranet.models import Office
from intranet_scheduling import services
from intranet_scheduling.models import SessionKind, SessionMode


def _closed_port() -> int:
    """A loopback port nothing listens on: connections to it are refused at once."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _phone(browser, live_server, username):
    return _context_page(browser, live_server, username, viewport={"width": 390, "height": 844}, is_mobile=True)


def _fits(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


def test_an_unreachable_jitsi_is_not_blamed_on_the_member_who_then_follows_in_text(
    browser, live_server, app, cell, jitsi
):
    sid = _online_meeting(app, jitsi, jitsi_domain=f"127.0.0.1:{_closed_port()}")
    chair = _context_page(browser, live_server, "bithu")
    chair.goto(f"/meetings/sessions/{sid}/board")
    member = _context_page(browser, live_server, "member1")
    member.goto(f"/meetings/sessions/{sid}")
    expect(member.locator("#server-notice")).to_contain_text("Không phải do đường truyền của bạn")
    expect(member.locator("#precheck-result")).to_have_attribute("data-proposed", "follow_along")
    # Joining anyway: the page tries the server and says again that the server is down, not the link.
    member.locator("input[name=mode][value=audio_only]").check()
    member.get_by_role("button", name="Vào họp").click()
    expect(member.locator("#ladder")).to_contain_text("Không liên lạc được với máy chủ họp")
    expect(member.locator("#ladder")).not_to_contain_text("Đường truyền không giữ được")
    member.context.close()

    phone = _phone(browser, live_server, "member1")
    phone.goto(f"/meetings/sessions/{sid}")
    expect(phone.locator("#server-notice")).to_be_visible()
    _fits(phone)
    shot(phone, "meetings-server-down-phone")
    phone.locator("#server-follow").click()
    expect(phone.locator("h1")).to_have_text("Theo dõi bằng chữ")
    row = chair.locator(f"#board-{_id(app, 'member1')}")
    expect(row.locator(".state")).to_have_text("theo dõi văn bản")
    shot(chair, "meetings-board-following")
    for page in (phone, chair):
        page.context.close()


def test_the_backup_server_is_offered_when_only_the_main_one_is_down(browser, live_server, app, cell, jitsi):
    sid = _online_meeting(app, jitsi, jitsi_domain=f"127.0.0.1:{_closed_port()}", backup_domains=jitsi.host)
    member = _context_page(browser, live_server, "member1")
    member.goto(f"/meetings/sessions/{sid}")
    expect(member.locator("#server-notice")).to_contain_text(f"máy chủ dự phòng {jitsi.host}")
    expect(member.locator("#precheck-result")).to_have_attribute("data-proposed", "full")
    shot(member, "meetings-server-backup")
    member.get_by_role("button", name="Vào họp").click()
    expect_in_call(member, jitsi)
    member.context.close()


def test_a_server_that_goes_down_mid_meeting_is_not_blamed_on_the_member(browser, live_server, app, cell, jitsi):
    """The call drops and the Jitsi server no longer answers while the intranet does: the rejoin asks the
    server first and the page says the server is down, not the member's link, and offers the text."""
    sid = _online_meeting(app, jitsi)
    member = _context_page(browser, live_server, "member1")
    member.goto(f"/meetings/sessions/{sid}")
    member.locator("input[name=mode][value=full]").check()
    member.get_by_role("button", name="Vào họp").click()
    expect_in_call(member, jitsi)
    jitsi.down = True
    conference(member, jitsi).evaluate(
        "StandIn.fire('error-occurred', {error: {name: 'conference.connectionError', type: 'CONNECTION', isFatal: true}})"
    )
    expect(member.locator("#ladder")).to_contain_text("Không liên lạc được với máy chủ họp", timeout=20_000)
    expect(member.locator("#follow")).to_be_visible()
    member.context.close()


def _in_person(app, title: str) -> int:
    with app.app_context():
        dist = db.session.scalar(select(Office).where(Office.code == "DIST"))
        session = services.create_session(
            dist,
            kind=SessionKind.REGULAR,
            title=title,
            starts_at=datetime.now(UTC) + timedelta(minutes=10),
            duration_minutes=90,
            place="Hội trường",
            mode=SessionMode.IN_PERSON,
        )
        db.session.commit()
        return session.id


def test_distancing_turns_every_unpinned_room_online_and_the_pinned_one_says_why(
    browser, live_server, app, cell, jitsi
):
    _online_meeting(app, jitsi)  # the office's Jitsi
    followed, pinned = _in_person(app, "Sinh hoạt tháng"), _in_person(app, "Họp chi ủy tại hội trường")
    secretary = _context_page(browser, live_server, "bithu")
    for sid in (followed, pinned):
        secretary.goto(f"/meetings/sessions/{sid}")
        expect(secretary.locator("main")).to_contain_text("Trực tiếp")
    secretary.goto(f"/scheduling/sessions/{pinned}")
    secretary.locator("#meeting-room summary").click()
    secretary.get_by_label("Hình thức họp").select_option("in_person")
    secretary.locator("#meeting-room").get_by_role("button", name="Lưu").click()
    expect(secretary.locator(".flash-success")).to_be_visible()

    secretary.goto("/scheduling/")
    secretary.once("dialog", lambda dialog: dialog.accept())
    secretary.get_by_role("button", name="Bật chế độ giãn cách").click()
    expect(secretary.locator(".flash-success")).to_contain_text(
        "2 buổi sinh hoạt trực tiếp sắp tới chuyển sang trực tuyến"
    )

    member = _context_page(browser, live_server, "member1")
    member.goto(f"/meetings/sessions/{followed}")
    expect(member.locator("#precheck")).to_be_visible()
    expect(member.locator("#precheck-result")).to_have_attribute("data-proposed", "full")
    member.goto(f"/meetings/sessions/{pinned}")
    expect(member.locator("main")).to_contain_text("Trực tiếp")
    member.context.close()

    secretary.goto(f"/meetings/sessions/{pinned}")
    expect(secretary.locator("#room-pinned")).to_contain_text("Phòng họp trực tuyến (Jitsi)")
    secretary.context.close()
    phone = _phone(browser, live_server, "bithu")
    phone.goto(f"/scheduling/sessions/{pinned}")
    expect(phone.locator("#room-pinned")).to_contain_text("đã cố định")
    expect(phone.locator("#room-pinned")).to_contain_text("Phòng họp trực tuyến (Jitsi)")
    _fits(phone)
    ARTIFACTS.mkdir(exist_ok=True)  # the panel alone: the whole meeting page is too long to show
    phone.locator("#meeting-room").screenshot(path=str(ARTIFACTS / "meetings-room-pinned-phone.png"))
    phone.context.close()
