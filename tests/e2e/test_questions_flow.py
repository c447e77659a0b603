"""The question queue in three browsers at once (the chair and two members) plus the projector: what one
does appears live on the others' screens; a question typed while the link is down arrives once."""

import re
from datetime import UTC, datetime, timedelta

from playwright.sync_api import expect
from sqlalchemy import func, select
from support import shot, sign_in

from intranet.extensions import db
from intranet.models import Office, User
from intranet_questions.models import Question
from intranet_scheduling import services
from intranet_scheduling.models import SessionKind, SessionMode, SessionStatus


def _meeting_in_progress(app) -> int:
    with app.app_context():
        dist = db.session.scalar(select(Office).where(Office.code == "DIST"))
        session = services.create_session(
            dist,
            kind=SessionKind.THEMATIC,
            title="Chuyên đề quý IV",
            starts_at=datetime.now(UTC) + timedelta(minutes=5),
            duration_minutes=120,
            place="Hội trường",
            mode=SessionMode.HYBRID,
        )
        services.add_question(session, "Điểm mới của chuyên đề?", None)
        services.advance(session, SessionStatus.IN_PROGRESS, None)
        db.session.commit()
        return session.id


def _browser_page(browser, live_server, username):
    context = browser.new_context(base_url=live_server, viewport={"width": 1200, "height": 900})
    context.set_default_timeout(10_000)
    page = context.new_page()
    sign_in(page, username)
    return page


def test_questions_votes_and_speakers_appear_live_everywhere(browser, live_server, app, data, cell):
    data.user("member2", "DIST", full_name="Võ Thị Hà")
    sid = _meeting_in_progress(app)
    queue_url = f"/questions/sessions/{sid}"
    chair, asker, voter = (_browser_page(browser, live_server, u) for u in ("bithu", "member1", "member2"))
    chair.goto(queue_url + "/chair")
    projector = chair.context.new_page()
    projector.goto(queue_url + "/screen")
    for page in (asker, voter):
        page.goto(queue_url)
    for page in (chair, asker, voter, projector):
        expect(page.locator("[data-live-status]")).to_have_text("Trực tiếp")

    asker.get_by_label("Câu hỏi của bạn").fill("Chi bộ áp dụng <b>Nghị quyết</b> thế nào?")
    asker.get_by_role("button", name="Gửi", exact=True).click()
    question = "Chi bộ áp dụng <b>Nghị quyết</b> thế nào?"  # markup arrives as the characters typed
    expect(voter.locator("#queue-list")).to_contain_text(question)
    expect(projector.locator("#screen-next")).to_contain_text(question)
    expect(chair.locator("[data-live-region=moderation]")).to_contain_text(question)
    expect(asker.locator("#mine")).to_contain_text("Trong hàng đợi")
    # Default mode: anonymous to members, known to the chair.
    expect(voter.locator("#queue-list .author")).to_have_text("Ẩn danh")
    expect(chair.locator("[data-live-region=moderation] .author").first).to_have_text("Member1")
    expect(asker.locator("#queue-list .vote-button")).to_be_disabled()  # one's own question

    voter.locator("#queue-list .vote-button").click()
    expect(voter.locator("#queue-list .vote-button")).to_have_attribute("aria-pressed", "true")
    expect(asker.locator("#queue-list .votes")).to_have_text("1")
    expect(projector.locator("#screen-next")).to_contain_text("▲ 1")

    chair.get_by_role("button", name="Đưa lên màn hình").click()
    expect(projector.locator("#screen-current")).to_have_text(question)
    expect(voter.locator(".current-question")).to_contain_text(question)

    voter.get_by_role("button", name="Giơ tay xin phát biểu").click()
    expect(chair.locator("#waiting-list")).to_contain_text("Võ Thị Hà")
    expect(chair.locator("#waiting-list")).to_contain_text("chưa phát biểu")
    spoken = chair.locator("#counters div", has_text="đảng viên đã phát biểu").locator("strong")
    expect(spoken).to_have_text(re.compile(r"^0/\d+$"))
    chair.get_by_role("button", name="Mời phát biểu").click()
    expect(voter.locator("#my-floor")).to_have_text("Mời bạn phát biểu.")
    expect(projector.locator(".screen-speaker")).to_have_text("Đang phát biểu: Võ Thị Hà")
    expect(asker.locator(".speaking-now")).to_contain_text("Võ Thị Hà")
    chair.get_by_role("button", name="Đã xong").click()
    expect(projector.locator(".screen-speaker")).to_have_count(0)
    expect(spoken).to_have_text(re.compile(r"^1/\d+$"))  # redrawn by the turn itself, no vote needed

    asker.get_by_label("Câu hỏi của bạn").fill("Cần bổ sung gì vào kế hoạch công tác quý tới?")
    asker.get_by_label("Gửi tới").select_option(label="Điểm mới của chuyên đề?")
    asker.get_by_role("button", name="Gửi", exact=True).click()
    expect(projector.locator("#screen-next")).to_contain_text("Cần bổ sung gì")
    expect(voter.locator("#queue-list")).to_contain_text("Về: Điểm mới của chuyên đề?")
    shot(voter, "questions-member")
    shot(chair, "questions-chair")
    projector.set_viewport_size({"width": 1280, "height": 720})
    shot(projector, "questions-projector")

    chair.locator(".current-question").get_by_role("button", name="Đánh dấu đã trả lời").click()
    expect(projector.locator("#screen-current")).to_have_count(0)
    expect(voter.locator("#answered-list")).to_contain_text(question)
    for page in (chair, asker, voter):
        page.context.close()


def test_a_question_typed_while_the_link_is_down_arrives_exactly_once(browser, live_server, app, cell):
    sid = _meeting_in_progress(app)
    page = _browser_page(browser, live_server, "member1")
    page.goto(f"/questions/sessions/{sid}")
    expect(page.locator("[data-live-status]")).to_have_text("Trực tiếp")

    page.context.set_offline(True)
    page.get_by_label("Câu hỏi của bạn").fill("Gõ khi mất mạng")
    page.get_by_role("button", name="Gửi", exact=True).click()
    expect(page.locator("[data-outbox-for=question]")).to_have_text(re.compile("1 câu hỏi đang chờ gửi"))
    expect(page.get_by_label("Câu hỏi của bạn")).to_have_value("")

    # When the link returns, the first delivery reaches the server but its answer is lost on the way
    # back: the browser cannot tell, so it sends again; the server must not take it twice.
    attempts = []

    def lose_first_answer(route):
        attempts.append(route.request.headers.get("idempotency-key"))
        if len(attempts) == 1:
            route.fetch()  # the server receives and stores it...
            route.abort("connectionreset")  # ...and the answer never arrives
        else:
            route.continue_()

    page.route(re.compile(r".*/ask$"), lose_first_answer)
    page.context.set_offline(False)
    expect(page.locator("[data-outbox-for=question]")).to_be_hidden(timeout=20_000)
    assert len(attempts) >= 2 and len(set(attempts)) == 1  # the same key each time
    expect(page.locator("#queue-list")).to_contain_text("Gõ khi mất mạng")
    expect(page.locator("#queue-list li", has_text="Gõ khi mất mạng")).to_have_count(1)
    with app.app_context():
        assert db.session.scalar(select(func.count(Question.id)).where(Question.text == "Gõ khi mất mạng")) == 1
    page.context.close()


def test_questions_sent_in_a_row_on_a_slow_link_all_arrive_once_in_order(browser, live_server, app, cell):
    """A second question typed while the first is still on its way is not left waiting for a reload."""
    sid = _meeting_in_progress(app)
    page = _browser_page(browser, live_server, "member1")
    page.goto(f"/questions/sessions/{sid}")
    expect(page.locator("[data-live-status]")).to_have_text("Trực tiếp")
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": 1500, "downloadThroughput": 20_000, "uploadThroughput": 20_000},
    )
    texts = ["Câu hỏi thứ nhất", "Câu hỏi thứ hai", "Câu hỏi thứ ba"]
    for text in texts:
        page.get_by_label("Câu hỏi của bạn").fill(text)
        page.get_by_role("button", name="Gửi", exact=True).click()
    expect(page.locator("[data-outbox-for=question]")).to_be_visible()
    shot(page, "questions-outbox-slow-link")
    expect(page.locator("[data-outbox-for=question]")).to_be_hidden(timeout=30_000)
    with app.app_context():
        arrived = db.session.scalars(
            select(Question.text).where(Question.session_id == sid).order_by(Question.id)
        ).all()
    assert arrived == texts
    page.set_viewport_size({"width": 390, "height": 844})
    expect(page.locator("#mine")).to_contain_text("Câu hỏi thứ ba")
    shot(page, "questions-outbox-drained-phone")
    page.context.close()


def test_a_vote_sent_again_after_a_lost_answer_stays_a_vote(browser, live_server, app, cell):
    """The vote button posts the state wanted, with a key: clicking again after the answer was lost
    (the vote was counted, the page does not know) votes again instead of taking the vote back."""
    from intranet_questions import services as queue
    from intranet_scheduling.models import Meeting

    sid = _meeting_in_progress(app)
    with app.test_request_context():
        member1 = db.session.get(User, cell["member"])
        question = queue.ask(db.session.get(Meeting, sid), member1, "Bình chọn khi mạng chập chờn")
        db.session.commit()
        qid = question.id
    page = _browser_page(browser, live_server, "bithu")
    page.goto(f"/questions/sessions/{sid}")
    expect(page.locator("[data-live-status]")).to_have_text("Trực tiếp")
    sent = []

    def lose_first_answer(route):
        sent.append((route.request.headers.get("idempotency-key"), route.request.post_data))
        if len(sent) == 1:
            route.fetch()  # counted by the server...
            route.abort("connectionreset")  # ...and the answer never arrives
        else:
            route.continue_()

    page.route(re.compile(r".*/vote$"), lose_first_answer)
    button = page.locator(f"#q{qid} .vote-button")
    button.click()
    expect(page.locator(f"#q{qid} .votes")).to_have_text("1")  # the live region shows the counted vote
    expect(button).to_have_attribute("aria-pressed", "false")  # the page never heard back
    button.click()
    expect(button).to_have_attribute("aria-pressed", "true")
    assert len(sent) == 2 and all(key for key, _ in sent) and all("on=1" in body for _, body in sent)
    with app.app_context():
        assert db.session.get(Question, qid).votes == 1
    page.context.close()


def test_a_vote_answered_while_its_region_is_redrawn_still_shows(browser, live_server, app, qcell):
    """Another member's vote redraws the queue while this member's vote is on its way: the region waits
    for the answer instead of replacing the form that sent it, so the answer still reaches the page."""
    import time

    from intranet_questions import services as queue
    from intranet_scheduling.models import Meeting

    sid = _meeting_in_progress(app)
    with app.test_request_context():
        member1 = db.session.get(User, qcell["member"])
        qid = queue.ask(db.session.get(Meeting, sid), member1, "Câu hỏi được nhiều người bình chọn").id
        db.session.commit()
    page = _browser_page(browser, live_server, "bithu")
    page.goto(f"/questions/sessions/{sid}")
    expect(page.locator("[data-live-status]")).to_have_text("Trực tiếp")

    def meanwhile_another_vote(route):
        with app.test_request_context():
            queue.set_vote(db.session.get(Question, qid), db.session.get(User, qcell["m2"]), True)
            db.session.commit()
        time.sleep(1.5)  # the redrawn queue reaches the page before this vote's answer does
        route.continue_()

    page.route(re.compile(r".*/vote$"), meanwhile_another_vote)
    button = page.locator(f"#q{qid} .vote-button")
    button.click()
    expect(page.locator(f"#q{qid} .votes")).to_have_text("2")
    expect(button).to_have_attribute("aria-pressed", "true")
    with app.app_context():
        assert db.session.get(Question, qid).votes == 2
    page.context.close()


def test_a_page_past_the_stream_cap_polls_quietly_and_stays_current(browser, live_server, app, data, cell):
    """The member already holds LIVE_STREAMS_PER_USER streams (other tabs): this page's stream is refused,
    so it polls — saying only that it updates every 2 s — and still shows a new question."""
    import socket
    from urllib.parse import urlsplit

    sid = _meeting_in_progress(app)
    page = _browser_page(browser, live_server, "member1")
    cookie = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies())
    host, port = urlsplit(live_server).hostname, urlsplit(live_server).port
    held = []
    for _ in range(app.config["LIVE_STREAMS_PER_USER"]):
        sock = socket.create_connection((host, port), timeout=10)
        sock.sendall(f"GET /questions/sessions/{sid}/stream HTTP/1.1\r\nHost: t\r\nCookie: {cookie}\r\n\r\n".encode())
        assert sock.recv(64).split()[1] == b"200"
        held.append(sock)
    try:
        page.goto(f"/questions/sessions/{sid}")
        expect(page.locator("[data-live-status]")).to_have_text("Cập nhật mỗi 2 giây")
        asker = _browser_page(browser, live_server, "bithu")
        asker.goto(f"/questions/sessions/{sid}")
        asker.get_by_label("Câu hỏi của bạn").fill("Câu hỏi đến trang đang hỏi định kỳ")
        asker.get_by_role("button", name="Gửi", exact=True).click()
        expect(page.locator("#queue-list")).to_contain_text("Câu hỏi đến trang đang hỏi định kỳ")
        expect(page.locator("[data-live-status]")).to_have_text("Cập nhật mỗi 2 giây")
    finally:
        for sock in held:
            sock.close()
