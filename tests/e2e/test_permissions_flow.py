"""The office admin gives party members the right to chair the question queue on the roles page; a member
of the office then opens the chair's view, and the change is in the audit log. Looked at at 1280 and
390 px wide."""

from playwright.sync_api import expect
from support import shot, sign_in
from test_questions import _meeting  # a meeting of DIST in progress
from test_questions_flow import _browser_page  # a signed-in page of its own browser context

MODERATE_BY_MEMBERS = "Đảng viên: Điều hành hàng đợi câu hỏi và danh sách phát biểu"


def test_admin_grants_a_right_and_a_member_uses_it(page, browser, live_server, app, cell):
    sid = _meeting(app)
    member = _browser_page(browser, live_server, "member1")
    assert member.goto(f"/questions/sessions/{sid}/chair").status == 403

    page.set_viewport_size({"width": 1280, "height": 900})
    sign_in(page, "distadmin")
    page.get_by_role("link", name="Quản trị").click()
    page.locator(".admin-tabs").get_by_role("link", name="Vai trò").click()
    expect(page.get_by_role("heading", name="Vai trò của District procuracy")).to_be_visible()
    box = page.get_by_label(MODERATE_BY_MEMBERS)
    expect(box).not_to_be_checked()
    expect(page.get_by_label("Quản trị viên: Quản trị cơ quan và các cơ quan cấp dưới")).to_be_disabled()
    box.check()
    page.get_by_role("button", name="Lưu quyền").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã lưu quyền của District procuracy (1 thay đổi).")
    expect(page.get_by_label(MODERATE_BY_MEMBERS)).to_be_checked()
    shot(page, "core-admin-roles")

    member.goto(f"/questions/sessions/{sid}/chair")
    expect(member.get_by_role("heading", name="Màn hình chủ trì")).to_be_visible()
    member.context.close()

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.get_by_label(MODERATE_BY_MEMBERS)).to_be_checked()
    # each right becomes a card with its roles named beside the boxes: the grid needs no sideways scroll
    expect(page.locator('tr[data-permission="questions.moderate"] .grant-role').first).to_be_visible()
    assert page.evaluate("(f => f.scrollWidth <= f.clientWidth)(document.querySelector('#grants .table-scroll'))")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "core-admin-roles-390")
    page.locator(".admin-tabs").get_by_role("link", name="Nhật ký thay đổi").click()
    expect(page.locator("table")).to_contain_text("permission.grant")
