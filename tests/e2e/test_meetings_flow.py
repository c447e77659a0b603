"""The meeting room in the browser, against a stand-in for Jitsi's external_api.js served on a loopback
domain by request interception: the pre-call check on a throttled link, the fallback ladder and the
chair's board in another browser, follow-along mode, and the external link's check-in."""
import json
import re
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

from playwright.sync_api import expect
from sqlalchemy import select

from intranet.extensions import db
from intranet.models import Office, User
from intranet_meetings import services as rooms
from intranet_meetings.models import Event, JitsiAuth
from intranet_scheduling import services
from intranet_scheduling.models import Attendance, SessionKind, SessionMode, SessionStatus
from support import shot, sign_in

STAND_IN = Path(__file__).parent / "jitsi_stand_in" / "external_api.js"
REAL_API = json.loads((STAND_IN.parent / "real_api.json").read_text())


def serve_stand_in(context, *, head_delay_s: float = 0) -> list[str]:
    """Serve the stand-in as https://jitsi.test/external_api.js; returns the list of the script's loads
    (the pre-call check's HEADs of the same address are not loads). ``head_delay_s`` holds each HEAD
    back: a far Jitsi server on a link to the intranet that is fine."""
    loads = []

    def fulfil(route):
        if route.request.resource_type == "script":
            loads.append(route.request.url)
        elif route.request.method == "HEAD":
            time.sleep(head_delay_s)
        route.fulfill(path=STAND_IN, content_type="application/javascript")

    context.route("https://jitsi.test/external_api.js", fulfil)
    return loads


def _online_meeting(app, **config) -> int:
    with app.app_context():
        dist = db.session.scalar(select(Office).where(Office.code == "DIST"))
        settings = rooms.config_for(dist.id)
        settings.jitsi_domain, settings.auth, settings.app_id = "jitsi.test", JitsiAuth.HS256, "chibo"
        settings.app_secret = "a-long-shared-secret-for-prosody"
        for name, value in config.items():
            setattr(settings, name, value)
        db.session.merge(settings)
        session = services.create_session(dist, kind=SessionKind.THEMATIC, title="Sinh hoạt trực tuyến",
                                           starts_at=datetime.now(timezone.utc) + timedelta(minutes=5),
                                           duration_minutes=90, place="", mode=SessionMode.ONLINE)
        services.advance(session, SessionStatus.IN_PROGRESS, None)
        db.session.commit()
        return session.id


def _context_page(browser, live_server, username):
    context = browser.new_context(base_url=live_server, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.script_loads = serve_stand_in(context)
    sign_in(page, username)
    return page


def test_pre_call_check_proposes_audio_only_on_a_throttled_link(browser, live_server, app, cell):
    sid = _online_meeting(app)
    page = _context_page(browser, live_server, "member1")
    page.goto(f"/meetings/sessions/{sid}")
    expect(page.locator("#precheck-result")).to_have_attribute("data-proposed", "full")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send("Network.emulateNetworkConditions", {"offline": False, "latency": 900, "downloadThroughput": 40_000,
                                                  "uploadThroughput": 40_000})
    page.reload()
    expect(page.locator("#precheck-result")).to_have_attribute("data-proposed", "audio_only", timeout=30_000)
    expect(page.locator("input[name=mode][value=audio_only]")).to_be_checked()
    shot(page, "meetings-precheck")
    page.context.close()
    with app.app_context():
        proposals = [e.detail["proposed"] for e in db.session.scalars(select(Event).where(Event.kind == "precheck"))]
    assert "audio_only" in proposals  # the check's result is logged


def test_pre_call_check_times_the_path_to_a_far_jitsi_server(browser, live_server, app, cell):
    sid = _online_meeting(app)
    context = browser.new_context(base_url=live_server, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(30_000)
    serve_stand_in(context, head_delay_s=1.0)  # each answer of the Jitsi server takes a second
    member = context.new_page()
    sign_in(member, "member1")
    member.goto(f"/meetings/sessions/{sid}")
    expect(member.locator("#precheck-result")).to_have_attribute("data-proposed", "audio_only")
    expect(member.locator("#precheck-result")).to_contain_text("(Jitsi ")
    context.close()
    with app.app_context():
        check = db.session.scalars(select(Event).where(Event.kind == "precheck")).one().detail
    assert check["proposed"] == "audio_only" and check["jitsiRtt"] >= 1000 and check["rtt"] < 1000


def test_a_weak_link_and_a_drop_step_the_page_down_and_show_on_the_board(browser, live_server, app, cell):
    sid = _online_meeting(app, samples_to_change=1)
    chair = _context_page(browser, live_server, "bithu")
    chair.goto(f"/meetings/sessions/{sid}/board")
    member = _context_page(browser, live_server, "member1")
    member.goto(f"/meetings/sessions/{sid}")
    expect(member.locator("#join")).to_be_visible()
    member.locator("input[name=mode][value=full]").check()
    member.get_by_role("button", name="Vào họp").click()
    expect(member.locator(".jitsi-stand-in")).to_contain_text("jitsi.test/chibo-")
    row = chair.locator(f"#board-{_id(app, 'member1')}")
    expect(row.locator(".state")).to_have_text("tốt")

    member.evaluate("JitsiStandIn.stats = {connectionQuality: 10, packetLoss: {total: 20}, bitrate: {download: 40}}")
    # The page samples every 5 s; this office changes state on one sample.
    expect(member.locator("#ladder")).to_have_text(re.compile("Đường truyền yếu: đã tắt hình"), timeout=15_000)
    assert ["setAudioOnly", True] in member.evaluate("JitsiStandIn.commands")
    expect(row.locator(".state")).to_have_text("kém", timeout=15_000)
    shot(member, "meetings-ladder")

    member.evaluate("JitsiStandIn.fire('errorOccurred', {error: {name: 'conference.connectionError', "
                    "type: 'CONNECTION', isFatal: true}})")
    expect(row.locator(".drops")).to_have_text("1", timeout=15_000)
    expect(member.locator(".jitsi-stand-in")).to_have_count(1, timeout=15_000)  # rejoined after the back-off
    expect(member.locator("#step-up")).to_be_visible()
    assert member.script_loads == ["https://jitsi.test/external_api.js"]  # the rejoin did not fetch it again
    assert member.evaluate("JitsiStandIn.lastOptions().lang") == "vi"
    _uses_only_real_names(member)
    shot(chair, "meetings-board")
    for page in (member, chair):
        page.context.close()
    with app.app_context():
        kinds = [e.kind for e in db.session.scalars(select(Event).order_by(Event.at))]
    assert "dropped" in kinds and "reconnected" in kinds and "ladder" in kinds


def _uses_only_real_names(page) -> None:
    """What the page used, as the stand-in saw it, and the stand-in's own surface: real names only."""
    used = page.evaluate("JitsiStandIn.used")
    for kind in ("methods", "commands", "events", "options"):
        assert set(used[kind]) <= set(REAL_API[kind]), f"{kind}: {sorted(set(used[kind]) - set(REAL_API[kind]))}"
    surface = page.evaluate("Object.getOwnPropertyNames(JitsiMeetExternalAPI.prototype)")
    assert set(surface) - {"constructor"} <= set(REAL_API["methods"])
    assert page.evaluate("Object.getOwnPropertyNames(JitsiMeetExternalAPI)") == ["length", "name", "prototype"]


def test_an_older_jitsi_without_stats_is_judged_on_its_media_events(browser, live_server, app, cell):
    sid = _online_meeting(app, samples_to_change=1)
    chair = _context_page(browser, live_server, "bithu")
    chair.goto(f"/meetings/sessions/{sid}/board")
    member = _context_page(browser, live_server, "member1")
    member.add_init_script("window.JitsiStandIn = {stats: null}")  # a build from before July 2026
    member.goto(f"/meetings/sessions/{sid}")
    member.get_by_role("button", name="Vào họp").click()
    expect(member.locator(".jitsi-stand-in")).to_be_visible()
    row = chair.locator(f"#board-{_id(app, 'member1')}")
    expect(row.locator(".signals")).to_have_text("vòng khứ hồi, lỗi kết nối cuộc họp")
    expect(row.locator(".state")).to_have_text("tốt")
    member.evaluate("JitsiStandIn.fire('peerConnectionFailure', {isP2P: false, wasConnected: true})")
    expect(member.locator("#ladder")).to_have_text(re.compile("Đường truyền yếu: đã tắt hình"), timeout=15_000)
    expect(row.locator(".state")).to_have_text("kém", timeout=15_000)
    assert "getConnectionStats" not in member.evaluate("JitsiStandIn.used.methods")
    shot(chair, "meetings-board-signals")
    for page in (member, chair):
        page.context.close()


def test_jitsis_raise_hand_reaches_the_speakers_list_and_the_floor_lowers_it(browser, live_server, app, cell):
    sid = _online_meeting(app)
    chair = _context_page(browser, live_server, "bithu")
    chair.goto(f"/questions/sessions/{sid}/chair")
    member = _context_page(browser, live_server, "member1")
    member.goto(f"/meetings/sessions/{sid}")
    member.get_by_role("button", name="Vào họp").click()
    expect(member.locator(".jitsi-stand-in")).to_be_visible()
    row = chair.context.new_page()
    row.goto(f"/meetings/sessions/{sid}/board")  # the join reached the intranet: the page knows its id
    expect(row.locator(f"#board-{_id(app, 'member1')} .state")).to_have_text("tốt")
    member.evaluate("JitsiStandIn.fire('raiseHandUpdated', {id: 'someone-else', handRaised: Date.now()})")
    member.evaluate("JitsiStandIn.pressRaiseHand()")  # up, with Jitsi's own button
    expect(chair.locator("#waiting-list")).to_contain_text("Member1")
    member.evaluate("JitsiStandIn.pressRaiseHand()")  # and down again: off the list
    expect(chair.locator("#waiting-list li", has_text="Member1")).to_have_count(0)
    member.evaluate("JitsiStandIn.pressRaiseHand()")
    expect(chair.locator("#waiting-list")).to_contain_text("Member1")
    expect(chair.locator("#waiting-list li")).to_have_count(1)  # another participant's hand is not theirs

    chair.get_by_role("button", name="Mời phát biểu").click()
    expect(chair.locator(".speaking-now")).to_contain_text("Member1")
    # The page hears of the floor with its next batch (every 5 s) and lowers its own hand in Jitsi.
    member.wait_for_function("() => JitsiStandIn.commands.some((c) => c[0] === 'toggleRaiseHand')",
                             timeout=15_000)
    notice = member.evaluate("JitsiStandIn.commands.find((c) => c[0] === 'showNotification')[1]")
    assert notice["title"] == "Chủ trì mời đồng chí phát biểu."
    expect(chair.locator(".speaking-now")).to_contain_text("Member1")  # lowering there does not end the turn
    _uses_only_real_names(member)
    for page in (member, chair):
        page.context.close()


def _id(app, username: str) -> int:
    with app.app_context():
        return db.session.scalar(select(User.id).where(User.username == username))


def test_follow_along_shows_the_queue_and_the_chairs_notes(browser, live_server, app, cell):
    sid = _online_meeting(app)
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


def test_external_link_records_check_in_attendance(browser, live_server, app, cell):
    sid = _online_meeting(app)
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
        present = db.session.scalar(select(Attendance.present).where(Attendance.session_id == sid,
                                                                     Attendance.user_id == _id(app, "member1")))
    assert present is True
    for page in (member, chair):
        page.context.close()
