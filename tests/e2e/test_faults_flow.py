"""Redis goes away under a member's open question queue (a real redis-server, killed): the page
switches to polling by itself and still shows new questions; when Redis is back it goes live again."""

from playwright.sync_api import expect
from support import Browser, RedisServer, serve, sign_in
from test_questions import _meeting


def test_a_live_page_polls_while_redis_is_away_and_goes_live_again(browser, app, database_url, tmp_path, cell):
    sid = _meeting(app)
    redis_server = RedisServer(tmp_path).start()
    server, base = serve(
        app, database_url, tmp_path / "instance", REDIS_URL=redis_server.url, INTRANET_LIVE_HEARTBEAT_SECONDS="2"
    )
    context = browser.new_context(base_url=base, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(10_000)
    try:
        page = context.new_page()
        sign_in(page, "member1")
        page.goto(f"/questions/sessions/{sid}")
        status = page.locator("[data-live-status]")
        expect(status).to_have_text("Trực tiếp")

        redis_server.kill()
        # The open stream ends at its next heartbeat, the reconnection is answered 503: the page polls.
        expect(status).to_have_text("Cập nhật mỗi 2 giây", timeout=20_000)
        asker = Browser()
        asker.sign_in(base, "bithu")
        token = asker.token(f"{base}/questions/sessions/{sid}")
        asker.post(f"{base}/questions/sessions/{sid}/ask", {"text": "Hỏi khi Redis vắng mặt", "csrf_token": token})
        expect(page.locator("[data-live-region=queue]")).to_contain_text("Hỏi khi Redis vắng mặt")

        redis_server.start()
        # The page tries the stream again 30 s after it was refused, and is live once more.
        expect(status).to_have_text("Trực tiếp", timeout=45_000)
    finally:
        context.close()
        server.terminate()
        server.wait(timeout=20)
        redis_server.kill()
