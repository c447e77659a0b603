"""The meeting room in the browser, against the Jitsi stand-in on a second origin (https://127.0.0.2,
tests/e2e/jitsi_stand_in): the page-side API object frames a conference page and talks to it through
Jitsi's own postMessage transport. The pre-call check on a throttled link and to a far server, the
fallback ladder and the chair's board in another browser, an older Jitsi without connection stats,
Jitsi's raise-hand and the speakers list, follow-along mode, and the external link's check-in."""

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select
from support import shot, sign_in

from intranet.extensions import db
from intranet.models import Office, User
from intranet_meetings import services as rooms
from intranet_meetings.models import Event, JitsiAuth
from intranet_scheduling import services
from intranet_scheduling.models import Attendance, SessionKind, SessionMode, SessionStatus

REAL_API = json.loads((Path(__file__).parent / "jitsi_stand_in" / "real_api.json").read_text())


def _online_meeting(app, jitsi, **config) -> int:
    with app.app_context():
        dist = db.session.scalar(select(Office).where(Office.code == "DIST"))
        settings = rooms.config_for(dist.id)
        settings.jitsi_domain, settings.auth, settings.app_id = jitsi.host, JitsiAuth.HS256, "chibo"
        settings.app_secret = "a-long-shared-secret-for-prosody"
        for name, value in config.items():
            setattr(settings, name, value)
        db.session.merge(settings)
        session = services.create_session(
            dist,
            kind=SessionKind.THEMATIC,
            title="Sinh hoạt trực tuyến",
            starts_at=datetime.now(UTC) + timedelta(minutes=5),
            duration_minutes=90,
            place="",
            mode=SessionMode.ONLINE,
        )
        services.advance(session, SessionStatus.IN_PROGRESS, None)
        db.session.commit()
        return session.id


def _context_page(browser, live_server, username, **options):
    options = {"viewport": {"width": 1200, "height": 900}, **options}
    context = browser.new_context(
        base_url=live_server,
        ignore_https_errors=True,  # the stand-in's certificate
        **options,
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    sign_in(page, username)
    return page


def conference(page, jitsi):
    """The call the page framed: the stand-in's conference page (its handle is ``StandIn``)."""
    return [f for f in page.frames if f.url.startswith(f"https://{jitsi.host}/")][-1]


def expect_in_call(page, jitsi):
    expect(page.frame_locator("#jitsi iframe").locator("#conference")).to_contain_text(f"{jitsi.host}/chibo-")


def test_pre_call_check_proposes_audio_only_on_a_throttled_link(browser, live_server, app, cell, jitsi):
    sid = _online_meeting(app, jitsi)
    page = _context_page(browser, live_server, "member1")
    page.goto(f"/meetings/sessions/{sid}")
    expect(page.locator("#precheck-result")).to_have_attribute("data-proposed", "full")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 900, "downloadThroughput": 40_000, "uploadThroughput": 40_000},
    )
    page.reload()
    expect(page.locator("#precheck-result")).to_have_attribute("data-proposed", "audio_only", timeout=30_000)
    expect(page.locator("input[name=mode][value=audio_only]")).to_be_checked()
    shot(page, "meetings-precheck")
    page.context.close()
    with app.app_context():
        proposals = [e.detail["proposed"] for e in db.session.scalars(select(Event).where(Event.kind == "precheck"))]
    assert "audio_only" in proposals  # the check's result is logged


def test_pre_call_check_measures_the_path_to_a_far_jitsi_server(browser, live_server, app, cell, jitsi):
    sid = _online_meeting(app, jitsi)
    jitsi.head_delay = 1.0  # each answer of the Jitsi server takes a second…
    jitsi.cors_trickle = 0.5  # …and its script, which it lets pages read (CORS), comes slowly
    member = _context_page(browser, live_server, "member1")
    member.goto(f"/meetings/sessions/{sid}")
    expect(member.locator("#precheck-result")).to_have_attribute("data-proposed", "audio_only", timeout=30_000)
    expect(member.locator("#precheck-result")).to_contain_text("(Jitsi ")
    member.context.close()
    with app.app_context():
        check = db.session.scalars(select(Event).where(Event.kind == "precheck")).one().detail
    # The intranet is near and fast; the verdict is the Jitsi path's.
    assert check["rtt"] < 1000 <= check["jitsiRtt"] and check["jitsiMbps"] < 0.6 < check["mbps"]


def test_a_weak_link_and_a_drop_step_the_page_down_and_show_on_the_board(browser, live_server, app, cell, jitsi):
    sid = _online_meeting(app, jitsi, samples_to_change=1)
    chair = _context_page(browser, live_server, "bithu")
    chair.goto(f"/meetings/sessions/{sid}/board")
    member = _context_page(browser, live_server, "member1")
    member.goto(f"/meetings/sessions/{sid}")
    expect(member.locator("#join")).to_be_visible()
    member.locator("input[name=mode][value=full]").check()
    member.get_by_role("button", name="Vào họp").click()
    expect_in_call(member, jitsi)
    row = chair.locator(f"#board-{_id(app, 'member1')}")
    expect(row.locator(".state")).to_have_text("tốt")

    conference(member, jitsi).evaluate(
        "StandIn.stats = {connectionQuality: 10, packetLoss: {total: 20}, bitrate: {download: 40}}"
    )
    # The page samples every 5 s; this office changes state on one sample.
    expect(member.locator("#ladder")).to_have_text(re.compile("Đường truyền yếu: đã tắt hình"), timeout=15_000)
    assert ["set-audio-only", True] in conference(member, jitsi).evaluate("StandIn.commands")
    expect(row.locator(".state")).to_have_text("kém", timeout=15_000)
    shot(member, "meetings-ladder")

    conference(member, jitsi).evaluate(
        "StandIn.fire('error-occurred', {error: {name: 'conference.connectionError', "
        "type: 'CONNECTION', isFatal: true}})"
    )
    expect(row.locator(".drops")).to_have_text("1", timeout=15_000)
    expect(member.locator("#jitsi iframe")).to_have_count(1, timeout=15_000)  # rejoined after the back-off
    expect_in_call(member, jitsi)
    expect(member.locator("#step-up")).to_be_visible()
    assert jitsi.script_loads == 1  # the rejoin did not fetch external_api.js again
    assert conference(member, jitsi).evaluate("StandIn.options.lang") == "vi"
    _surface_is_real(member)
    shot(chair, "meetings-board")
    for page in (member, chair):
        page.context.close()
    with app.app_context():
        kinds = [e.kind for e in db.session.scalars(select(Event).order_by(Event.at))]
    assert "dropped" in kinds and "reconnected" in kinds and "ladder" in kinds


def _surface_is_real(page) -> None:
    """The stand-in's API object has nothing the real one lacks (the names the page uses are checked
    against the same list by tests/test_jitsi_api_names.py)."""
    surface = page.evaluate("Object.getOwnPropertyNames(JitsiMeetExternalAPI.prototype)")
    assert set(surface) - {"constructor"} <= set(REAL_API["methods"])
    assert page.evaluate("Object.getOwnPropertyNames(JitsiMeetExternalAPI)") == ["length", "name", "prototype"]


def test_an_older_jitsi_without_stats_is_judged_on_its_media_events(browser, live_server, app, cell, jitsi):
    sid = _online_meeting(app, jitsi, samples_to_change=1)
    chair = _context_page(browser, live_server, "bithu")
    chair.goto(f"/meetings/sessions/{sid}/board")
    jitsi.stats = False  # a build from before July 2026
    member = _context_page(browser, live_server, "member1")
    member.goto(f"/meetings/sessions/{sid}")
    member.get_by_role("button", name="Vào họp").click()
    expect_in_call(member, jitsi)
    row = chair.locator(f"#board-{_id(app, 'member1')}")
    expect(row.locator(".signals")).to_have_text("vòng khứ hồi, lỗi kết nối cuộc họp")
    expect(row.locator(".state")).to_have_text("tốt")
    conference(member, jitsi).evaluate("StandIn.fire('peer-connection-failure', {isP2P: false, wasConnected: true})")
    expect(member.locator("#ladder")).to_have_text(re.compile("Đường truyền yếu: đã tắt hình"), timeout=15_000)
    expect(row.locator(".state")).to_have_text("kém", timeout=15_000)
    assert member.evaluate("'getConnectionStats' in JitsiMeetExternalAPI.prototype") is False
    shot(chair, "meetings-board-signals")
    for page in (member, chair):
        page.context.close()


def test_jitsis_raise_hand_reaches_the_speakers_list_and_the_floor_lowers_it(browser, live_server, app, cell, jitsi):
    sid = _online_meeting(app, jitsi)
    chair = _context_page(browser, live_server, "bithu")
    chair.goto(f"/questions/sessions/{sid}/chair")
    member = _context_page(browser, live_server, "member1")
    member.goto(f"/meetings/sessions/{sid}")
    member.get_by_role("button", name="Vào họp").click()
    expect_in_call(member, jitsi)
    row = chair.context.new_page()
    row.goto(f"/meetings/sessions/{sid}/board")  # the join reached the intranet: the page knows its id
    expect(row.locator(f"#board-{_id(app, 'member1')} .state")).to_have_text("tốt")
    call = conference(member, jitsi)
    call.evaluate("StandIn.fire('raise-hand-updated', {id: 'someone-else', handRaised: Date.now()})")
    call.evaluate("StandIn.pressRaiseHand()")  # up, with Jitsi's own button
    expect(chair.locator("#waiting-list")).to_contain_text("Member1")
    call.evaluate("StandIn.pressRaiseHand()")  # and down again: off the list
    expect(chair.locator("#waiting-list li", has_text="Member1")).to_have_count(0)
    call.evaluate("StandIn.pressRaiseHand()")
    expect(chair.locator("#waiting-list")).to_contain_text("Member1")
    expect(chair.locator("#waiting-list li")).to_have_count(1)  # another participant's hand is not theirs

    chair.get_by_role("button", name="Mời phát biểu").click()
    expect(chair.locator(".speaking-now")).to_contain_text("Member1")
    # The page hears of the floor with its next batch (every 5 s) and lowers its own hand in Jitsi.
    call.wait_for_function("() => StandIn.commands.some((c) => c[0] === 'toggle-raise-hand')", timeout=15_000)
    notice = call.evaluate("StandIn.commands.find((c) => c[0] === 'show-notification')[1]")
    assert notice["title"] == "Chủ trì mời đồng chí phát biểu."
    expect(chair.locator(".speaking-now")).to_contain_text("Member1")  # lowering there does not end the turn
    _surface_is_real(member)
    for page in (member, chair):
        page.context.close()


def _id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def test_follow_along_shows_the_queue_and_the_chairs_notes(browser, live_server, app, cell, jitsi):
    sid = _online_meeting(app, jitsi)
    chair = _context_page(browser, live_server, "bithu")
    chair.goto(f"/meetings/sessions/{sid}/board")
    member = _context_page(browser, live_server, "member1")
    member.goto(f"/meetings/sessions/{sid}/follow")
    chair.get_by_label("Ghi chú diễn biến (hiện ở trang theo dõi bằng chữ)").fill("Đồng chí Hà đang trình bày phần 2.")
    chair.get_by_role("button", name="Gửi ghi chú").click()
    expect(member.locator("#notes")).to_contain_text("Đồng chí Hà đang trình bày phần 2.")
    chair.goto(f"/questions/sessions/{sid}")
    chair.get_by_label("Câu hỏi của bạn").fill("Câu hỏi trong hàng đợi")
    chair.get_by_role("button", name="Gửi", exact=True).click()
    expect(member.locator("#follow-queue")).to_contain_text("Câu hỏi trong hàng đợi")
    shot(member, "meetings-follow")
    for page in (member, chair):
        page.context.close()


def test_external_link_records_check_in_attendance(browser, live_server, app, cell, jitsi):
    sid = _online_meeting(app, jitsi)
    chair = _context_page(browser, live_server, "bithu")
    chair.goto(f"/scheduling/sessions/{sid}")
    chair.locator("#meeting-room summary").click()
    chair.get_by_label("Hình thức họp").select_option("external")
    chair.get_by_label("Đường dẫn họp (Zoom, Teams…)").fill("https://teams.example/l/meetup")
    chair.get_by_role("button", name="Lưu").first.click()
    expect(chair.locator(".flash-success")).to_be_visible()
    member = _context_page(browser, live_server, "member1")
    member.goto(f"/meetings/sessions/{sid}")
    expect(member.locator("#external-link")).to_have_attribute("href", "https://teams.example/l/meetup")
    member.get_by_role("button", name="Tôi đã vào họp: điểm danh cho tôi").click()
    expect(member.locator("#checked-in")).to_be_visible()
    with app.app_context():
        present = db.session.scalar(
            select(Attendance.present).where(Attendance.session_id == sid, Attendance.user_id == _id(app, "member1"))
        )
    assert present is True
    for page in (member, chair):
        page.context.close()
