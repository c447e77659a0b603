"""Headless Chromium through the real Pushpin: the member's queue page is served through Pushpin, its
EventSource is held by Pushpin (not by gunicorn), and a question asked on another app instance, and
the member's own question (a per-user region, announced and fetched), appear on the page."""

import pytest
from playwright.sync_api import expect
from pushpin_harness import MISSING, available, free_port, pushpin, redis_server
from support import Browser, serve, sign_in
from test_questions import _meeting

pytestmark = pytest.mark.skipif(not available(), reason=MISSING)
KEY = "e2e-pushpin-key-of-thirty-two-bytes!"


def test_a_question_reaches_a_browser_held_by_pushpin(browser, app, database_url, tmp_path, qcell):
    sid = _meeting(app)
    port_a = free_port()
    with redis_server() as redis_url, pushpin([f"127.0.0.1:{port_a}"], KEY) as engine:
        env = {"REDIS_URL": redis_url, "INTRANET_PUSHPIN_SIG_KEY": KEY, "INTRANET_PUSHPIN_PUBLISH_URLS": engine.control}
        servers = [
            serve(app, database_url, tmp_path / "a", port=port_a, **env),
            serve(app, database_url, tmp_path / "b", **env),
        ]
        (_, base_b) = servers[1]
        try:
            context = browser.new_context(base_url=engine.base, viewport={"width": 1200, "height": 900})
            context.set_default_timeout(10_000)
            page = context.new_page()
            sign_in(page, "member2")
            page.goto(f"/questions/sessions/{sid}")
            expect(page.locator("[data-live-status]")).to_have_text("Trực tiếp")
            assert engine.logged(f"channel=questions:{sid}:queue|queue")

            asker = Browser()
            asker.sign_in(base_b, "member1")
            token = asker.token(f"{base_b}/questions/sessions/{sid}")
            asker.post(
                f"{base_b}/questions/sessions/{sid}/ask",
                {"text": "Đến trình duyệt qua Pushpin", "csrf_token": token},
                {"X-Outbox": "1"},
            )
            expect(page.locator("#queue-list")).to_contain_text("Đến trình duyệt qua Pushpin")

            page.get_by_label("Câu hỏi của bạn").fill("Câu hỏi riêng của tôi")
            page.get_by_role("button", name="Gửi", exact=True).click()
            expect(page.locator("#mine")).to_contain_text("Câu hỏi riêng của tôi")
            assert engine.logged(f"channel=questions:{sid}:mine:{qcell['m2']}|mine receivers=1")
            context.close()
        finally:
            for server, _ in servers:
                server.terminate()
                server.wait(timeout=20)
