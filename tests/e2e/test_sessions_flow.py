"""Sessions in Chromium: my account lists where I am signed in and ends one session or all; an admin
signs a user out everywhere; repeated wrong passwords slow down that browser only; the Content-Security-
Policy is enforced (an inline script is refused and reported)."""

import re

from playwright.sync_api import expect
from support import PASSWORD, shot, sign_in

PHONE_UA = (
    "Mozilla/5.0 (Linux; Android 14; SM-A546E) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36"
)


def _phone(browser, live_server):
    context = browser.new_context(
        base_url=live_server, viewport={"width": 390, "height": 844}, is_mobile=True, user_agent=PHONE_UA
    )
    context.set_default_timeout(10_000)
    return context.new_page()


def _signed_out(page):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/login"))


def test_end_one_session_then_all(page, browser, live_server, cell):
    sign_in(page, "member1")
    phone = _phone(browser, live_server)
    sign_in(phone, "member1")

    page.goto("/account")
    rows = page.locator("#sessions li")
    expect(rows).to_have_count(2)
    expect(page.locator("#sessions li.current-session")).to_contain_text("trình duyệt này")
    expect(page.locator("#sessions")).to_contain_text("Chrome Mobile — Android")
    shot(page, "auth-account-sessions")
    page.locator("#sessions li", has_text="Android").get_by_role("button", name="Kết thúc phiên này").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã kết thúc phiên đó")
    expect(rows).to_have_count(1)
    _signed_out(phone)

    sign_in(phone, "member1")
    phone.goto("/account")
    expect(phone.locator("#sessions li")).to_have_count(2)
    shot(phone, "auth-account-sessions-phone")
    phone.once("dialog", lambda dialog: dialog.accept())
    phone.get_by_role("button", name="Đăng xuất khỏi mọi thiết bị").click()
    expect(phone.locator(".flash-info")).to_contain_text("Bạn đã đăng xuất trên mọi thiết bị")
    _signed_out(page)
    phone.context.close()


def test_an_admin_signs_a_user_out_everywhere(page, browser, live_server, cell):
    member = _phone(browser, live_server)
    sign_in(member, "member1")
    sign_in(page, "distadmin")
    page.goto(f"/admin/users/{cell['member']}")
    expect(page.locator("#sessions")).to_contain_text("Android")
    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Đăng xuất người dùng này ở mọi nơi").click()
    expect(page.locator(".flash-success")).to_contain_text("Người dùng đã bị đăng xuất trên mọi thiết bị")
    expect(page.locator("#sessions")).to_contain_text("Không đăng nhập ở đâu cả")
    shot(page, "auth-admin-user-sessions")
    _signed_out(member)
    member.context.close()


def test_wrong_passwords_slow_down_this_browser_only(page, browser, live_server, cell):
    phone = _phone(browser, live_server)
    for _ in range(5):
        phone.goto("/login")
        phone.get_by_label("Tên đăng nhập").fill("member1")
        phone.get_by_label("Mật khẩu", exact=True).fill("not the password")
        phone.get_by_role("button", name="Đăng nhập").click()
        expect(phone.locator(".flash-error")).to_contain_text("Sai tên đăng nhập hoặc mật khẩu.")
    phone.get_by_label("Tên đăng nhập").fill("member1")
    phone.get_by_label("Mật khẩu", exact=True).fill(PASSWORD)
    phone.get_by_role("button", name="Đăng nhập").click()
    expect(phone.locator(".flash-error")).to_contain_text("Quá nhiều lần thử sai")
    shot(phone, "auth-login-slowed-phone")
    phone.context.close()
    # Both browsers come from 127.0.0.1 here, as two colleagues behind one NAT address would: the owner is
    # slowed there too, and told (the notification); from any other address they sign in at once (unit tests).
    sign_in(page, "bithu")  # a colleague at the same address is not locked out


def test_the_policy_refuses_an_injected_inline_script(page, browser, cell):
    page.goto("/login")
    ran = page.evaluate("""() => { const s = document.createElement("script");
        s.textContent = "window.injected = true"; document.head.appendChild(s); return window.injected === true; }""")
    assert ran is False
    expect(page.get_by_role("button", name="Đăng nhập")).to_be_visible()  # let the console message arrive
    assert any("Content Security Policy" in v for v in browser.violations)
    browser.violations.clear()  # this test's violation was the point
