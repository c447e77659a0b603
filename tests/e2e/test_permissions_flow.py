"""The office admin gives party members the right to chair the question queue on the roles page; a member
of the office then opens the chair's view, and the change is in the audit log. Looked at at 1280 and
390 px wide."""
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect
from sqlalchemy import select

from intranet.extensions import db
from intranet.models import Office
from intranet_scheduling import services
from intranet_scheduling.models import SessionKind, SessionMode, SessionStatus
from support import shot, sign_in

MODERATE_BY_MEMBERS = "Đảng viên: Điều hành hàng đợi câu hỏi và danh sách phát biểu"


def _meeting_in_progress(app) -> int:
    with app.app_context():
        dist = db.session.scalar(select(Office).where(Office.code == "DIST"))
        session = services.create_session(dist, kind=SessionKind.THEMATIC, title="Chuyên đề quý IV",
                                           starts_at=datetime.now(timezone.utc) + timedelta(minutes=5),
                                           duration_minutes=120, place="Hội trường", mode=SessionMode.HYBRID)
        services.advance(session, SessionStatus.IN_PROGRESS, None)
        db.session.commit()
        return session.id


def _page(browser, live_server, username, width):
    context = browser.new_context(base_url=live_server, viewport={"width": width, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, username)
    return page


def test_admin_grants_a_right_and_a_member_uses_it(browser, live_server, app, cell):
    sid = _meeting_in_progress(app)
    member = _page(browser, live_server, "member1", 1280)
    assert member.goto(f"/questions/sessions/{sid}/chair").status == 403

    admin = _page(browser, live_server, "distadmin", 1280)
    admin.get_by_role("link", name="Quản trị").click()
    admin.locator(".admin-tabs").get_by_role("link", name="Vai trò").click()
    expect(admin.get_by_role("heading", name="Vai trò của District procuracy")).to_be_visible()
    box = admin.get_by_label(MODERATE_BY_MEMBERS)
    expect(box).not_to_be_checked()
    expect(admin.get_by_label("Quản trị viên: Quản trị cơ quan và các cơ quan cấp dưới")).to_be_disabled()
    box.check()
    admin.get_by_role("button", name="Lưu quyền").click()
    expect(admin.locator(".flash-success")).to_contain_text("Đã lưu quyền của District procuracy (1 thay đổi).")
    expect(admin.get_by_label(MODERATE_BY_MEMBERS)).to_be_checked()
    shot(admin, "core-admin-roles")

    member.goto(f"/questions/sessions/{sid}/chair")
    expect(member.get_by_role("heading", name="Màn hình chủ trì")).to_be_visible()

    admin.locator(".admin-tabs").get_by_role("link", name="Nhật ký thay đổi").click()
    expect(admin.locator("table")).to_contain_text("permission.grant")

    phone = _page(browser, live_server, "distadmin", 390)
    phone.goto("/admin/roles")
    expect(phone.get_by_label(MODERATE_BY_MEMBERS)).to_be_checked()
    # the grid scrolls inside its frame; the page itself stays as wide as the phone
    assert phone.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(phone, "core-admin-roles-390")
    for page in (member, admin, phone):
        page.context.close()
