"""Directory sign-in in headless Chromium against the real slapd (tests/slapd_harness.py): the office's
administrator tests the settings with the "test connection" button, then a directory user signs in
through the login page and their account is made."""

import re

from playwright.sync_api import expect
from slapd_harness import PASSWORD as DIRECTORY_PASSWORD
from slapd_harness import agency, directory_server  # noqa: F401  (the session's slapd, two offices set up)
from support import PASSWORD, shot


def _sign_in(page, username, password):
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu", exact=True).fill(password)
    page.get_by_role("button", name="Đăng nhập").click()


def test_admin_tests_the_settings_then_a_directory_user_signs_in(page, agency):
    _sign_in(page, "vksadmin", PASSWORD)
    page.locator("#main-nav").get_by_role("link", name="Đăng nhập bằng thư mục").click()
    expect(page.get_by_role("heading", name="Đăng nhập bằng thư mục")).to_be_visible()
    expect(page.get_by_label("Mật khẩu của tài khoản tra cứu")).to_have_value("")  # never shown back
    page.get_by_label("Tên đăng nhập cần tra").fill("nguyenvana")
    page.get_by_role("button", name="Kiểm tra kết nối").click()
    result = page.locator("#test-result")
    expect(result).to_contain_text("Đã kết nối tới ldap://127.0.0.1")
    expect(result).to_contain_text("Bí thư")
    expect(result).to_contain_text("Nguyễn Văn A")
    expect(result).to_contain_text("nguyenvana@agency.gov.vn")
    shot(page, "directory-test-connection")
    page.set_viewport_size({"width": 390, "height": 844})
    shot(page, "directory-test-connection-phone")
    page.set_viewport_size({"width": 1200, "height": 900})

    page.get_by_role("button", name="Đăng xuất").click()
    expect(page).to_have_url(re.compile("/login"))
    _sign_in(page, "nguyenvana", "not the password")
    expect(page.locator(".flash-error")).to_contain_text("Sai tên đăng nhập hoặc mật khẩu.")
    _sign_in(page, "nguyenvana", DIRECTORY_PASSWORD)
    expect(page.get_by_role("heading", name=re.compile("Xin chào, Nguyễn Văn A"))).to_be_visible()
    page.goto("/account")
    expect(page.locator("main")).to_contain_text("Bạn đăng nhập bằng thư mục của cơ quan")
    expect(page.locator("main")).to_contain_text("Bí thư")
