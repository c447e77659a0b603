"""The core's user flows in headless Chromium: sign in, switch language, switch a plugin and see the
navigation change; create an account and sign in with it; import a CSV with a bad row."""

import re

from playwright.sync_api import expect
from support import PASSWORD, shot


def sign_in(page, username, password=PASSWORD):
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu", exact=True).fill(password)
    page.get_by_role("button", name="Đăng nhập").click()


def test_admin_switches_language_and_a_plugin(page, cell):
    sign_in(page, "distadmin")
    expect(page.get_by_role("heading", name=re.compile("Xin chào"))).to_be_visible()
    nav = page.locator("#main-nav")
    expect(nav).not_to_contain_text("Hello-nav")

    page.get_by_role("button", name="English").click()
    expect(page.get_by_role("heading", name=re.compile("Hello, Distadmin"))).to_be_visible()
    nav.get_by_role("link", name="Administration").click()
    page.locator(".admin-tabs").get_by_role("link", name="Plugins").click()
    row = page.locator('tr[data-plugin="hello"]')
    expect(row).to_contain_text("off")
    row.get_by_role("button", name="Turn on").click()
    expect(page.locator(".flash-success")).to_contain_text("“Hello” is on for District procuracy.")
    expect(nav).to_contain_text("Hello-nav")
    shot(page, "core-admin-plugins")

    extra = page.locator('tr[data-plugin="hello_extra"]')
    extra.get_by_role("button", name="Turn on").click()
    page.locator('tr[data-plugin="hello"]').get_by_role("button", name="Turn off").click()
    expect(page.locator(".flash-error")).to_contain_text("“Hello” is needed by “Hello extra”")
    page.locator('tr[data-plugin="hello_extra"]').get_by_role("button", name="Turn off").click()
    page.locator('tr[data-plugin="hello"]').get_by_role("button", name="Turn off").click()
    expect(page.locator(".flash-success")).to_contain_text("Its data is kept.")
    expect(nav).not_to_contain_text("Hello-nav")

    page.get_by_role("button", name="Tiếng Việt").click()
    expect(page.locator(".admin-tabs")).to_contain_text("Nhật ký thay đổi")
    page.locator(".admin-tabs").get_by_role("link", name="Nhật ký thay đổi").click()
    expect(page.locator("table")).to_contain_text("plugin.disable")


def test_new_account_must_choose_its_password(page, browser, live_server, cell):
    sign_in(page, "distadmin")
    page.goto("/admin/users/new")
    page.get_by_label("Tên đăng nhập").fill("nguyenvana")
    page.get_by_label("Họ và tên").fill("Nguyễn Văn A")
    page.get_by_label("Đảng tịch").select_option("probationary")
    page.get_by_label("Vai trò tại cơ quan này").select_option(["member"])
    page.get_by_role("button", name="Tạo tài khoản").click()
    password = page.locator("td.password").inner_text().strip()
    assert len(password) >= 12
    shot(page, "core-password-issued")

    member = browser.new_context(base_url=live_server).new_page()
    sign_in(member, "nguyenvana", password)
    expect(member).to_have_url(re.compile("/account/password$"))
    member.get_by_label("Mật khẩu hiện tại").fill(password)
    member.get_by_label("Mật khẩu mới", exact=True).fill("short")
    member.get_by_label("Nhập lại mật khẩu mới").fill("short")
    member.get_by_role("button", name="Đổi mật khẩu").click()
    expect(member.locator(".field-error")).to_contain_text("Dùng ít nhất 10 ký tự.")
    member.get_by_label("Mật khẩu hiện tại").fill(password)
    member.get_by_label("Mật khẩu mới", exact=True).fill("mật khẩu của tôi 2026")
    member.get_by_label("Nhập lại mật khẩu mới").fill("mật khẩu của tôi 2026")
    member.get_by_role("button", name="Đổi mật khẩu").click()
    expect(member.get_by_role("heading", name="Xin chào, Nguyễn Văn A")).to_be_visible()
    member.context.close()


def test_csv_import_reports_bad_rows_then_imports(page, cell, tmp_path):
    sign_in(page, "distadmin")
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "username,full_name,office_code,roles\nok.one,Người Một,DIST,đảng viên\nmember1,Trùng,DIST,\n", encoding="utf-8"
    )
    page.goto("/admin/users/import")
    page.get_by_label("Tệp CSV").set_input_files(str(bad))
    page.get_by_role("button", name="Kiểm tra và nhập").click()
    report = page.locator("#import-report")
    expect(report).to_contain_text("Chưa nhập dòng nào")
    expect(report).to_contain_text("Tên đăng nhập đã có người dùng.")
    shot(page, "core-import-report")
    good = tmp_path / "good.csv"
    good.write_text("username,full_name,office_code,roles\nok.one,Người Một,DIST,đảng viên\n", encoding="utf-8")
    page.get_by_label("Tệp CSV").set_input_files(str(good))
    page.get_by_role("button", name="Kiểm tra và nhập").click()
    expect(page.get_by_role("heading", name="Đã nhập 1 tài khoản")).to_be_visible()
    expect(page.locator("#issued-passwords")).to_contain_text("ok.one")


def test_phone_layout_keeps_navigation_reachable(browser, live_server, cell):
    context = browser.new_context(base_url=live_server, viewport={"width": 375, "height": 740}, is_mobile=True)
    phone = context.new_page()
    sign_in(phone, "distadmin")
    expect(phone.locator("#main-nav").get_by_role("link", name="Quản trị")).to_be_hidden()  # folded away
    phone.locator("#site-menu > summary").click()
    expect(phone.locator("#main-nav").get_by_role("link", name="Quản trị")).to_be_visible()
    phone.goto("/admin/users")
    expect(phone.locator("table")).to_contain_text("member1")
    shot(phone, "core-phone-users")
    context.close()
